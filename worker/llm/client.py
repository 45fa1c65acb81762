"""Chat completions with tool calling, bounded retries, and every attempt traced.

The trace callback receives ``llm_request`` before each attempt and
``llm_response`` after it (with ``error`` set when the attempt failed), so a
run's trace holds exactly the requests the endpoint received, in order. The
API key goes to the ``openai`` client and nowhere else: payloads carry the
model, parameters, messages and tool schemas, never headers.

Only features every OpenAI-compatible server has are used (messages, tools,
temperature): no structured-output mode, so Qwen on vLLM or DashScope works.
"""
from __future__ import annotations

import json
import time
from dataclasses import replace
from typing import Any, Callable

import openai

from core import trace as events
from core.errors import LlmError, LlmUnavailable
from core.metrics import count_llm_call
from core.settings import RunSettings
from worker.llm.replies import LlmReply, ToolCall
from worker.llm.retry import RETRYABLE, backoff_delay, describe
from worker.llm.text_tool_calls import extract_tool_calls

Trace = Callable[[events.TraceEvent], None]




class LlmClient:
    def __init__(self, settings: RunSettings, *, sleep: Callable[[float], None] = time.sleep,
                 backoff_base_s: float = 1.0):
        self.settings, self._sleep, self._backoff_base_s = settings, sleep, backoff_base_s
        self._client = openai.OpenAI(base_url=settings.llm_base_url, api_key=settings.api_key,
                                     timeout=settings.llm_timeout_s, max_retries=0)
        self.calls = 0  # every attempt, whatever its purpose
        self.calls_by_purpose: dict[str | None, int] = {}  # None: the agent's own reasoning

    def chat(self, messages: list[dict[str, Any]], *, tools: list[dict] | None = None,
             temperature: float, trace: Trace, before_attempt: Callable[[], None] = lambda: None,
             purpose: str | None = None, node_id: str | None = None) -> LlmReply:
        """One logical call: up to ``llm_max_retries`` retries on 429, 5xx, timeouts.

        ``purpose`` marks calls the program makes for itself (e.g. retrieval
        keywords) in the trace, apart from the agent's own reasoning.
        """
        parameters = {"temperature": temperature}
        request = {"model": self.settings.llm_model, **parameters, "messages": messages}
        if tools:
            request["tools"] = tools
        last_error: Exception | None = None
        for attempt in range(self.settings.llm_max_retries + 1):
            before_attempt()
            self.calls += 1
            self.calls_by_purpose[purpose] = self.calls_by_purpose.get(purpose, 0) + 1
            trace(events.LlmRequest(model=self.settings.llm_model, parameters=parameters,
                                    attempt=attempt + 1, messages=messages, tools=tools or [],
                                    purpose=purpose, node_id=node_id))
            started = time.monotonic()
            try:
                response = self._client.chat.completions.create(**request)
            except RETRYABLE as exc:
                last_error = exc
                count_llm_call(self.settings.llm_model, purpose, "retryable_error")
                delay = backoff_delay(attempt, exc, base_s=self._backoff_base_s)
                trace(events.LlmResponse(error=describe(exc), attempt=attempt + 1,
                                         latency_ms=_ms(started), retry_in_s=round(delay, 3),
                                         purpose=purpose, node_id=node_id))
                if attempt < self.settings.llm_max_retries:
                    self._sleep(delay)
                continue
            except openai.APIError as exc:
                count_llm_call(self.settings.llm_model, purpose, "refused")
                trace(events.LlmResponse(error=describe(exc), attempt=attempt + 1,
                                         latency_ms=_ms(started), purpose=purpose,
                                         node_id=node_id))
                raise LlmError(f"the LLM endpoint refused the request: {describe(exc)}") from exc
            reply = _reply(response, time.monotonic() - started)
            count_llm_call(self.settings.llm_model, purpose, "ok", reply.usage)
            raw_content = reply.content
            if tools and not reply.tool_calls:  # a server without a tool-call parser sends text
                rest, calls = extract_tool_calls(reply.content,
                                                 {t["function"]["name"] for t in tools})
                if calls:
                    reply = replace(reply, content=rest, tool_calls=calls, tool_calls_from_text=True)
            trace(events.LlmResponse(
                content=raw_content, attempt=attempt + 1, usage=reply.usage,
                tool_calls=[{"id": c.call_id, "name": c.name, "arguments": c.arguments}
                            for c in reply.tool_calls],
                latency_ms=_ms(started), finish_reason=reply.finish_reason, purpose=purpose,
                node_id=node_id, tool_calls_from_text=reply.tool_calls_from_text or None))

            return reply
        raise LlmUnavailable(f"the LLM endpoint failed {self.settings.llm_max_retries + 1} "
                             f"time(s); last: {describe(last_error)}")


def _ms(started: float) -> float:
    return round((time.monotonic() - started) * 1000, 1)


def _reply(response, latency_s: float) -> LlmReply:
    if not response.choices:
        raise LlmError("the LLM endpoint answered with no choices")

    choice = response.choices[0]
    calls = [ToolCall(call_id=c.id or f"call_{i}", name=c.function.name,
                      arguments=c.function.arguments or "{}")
             for i, c in enumerate(choice.message.tool_calls or [])]
    usage = response.usage.model_dump(include={"prompt_tokens", "completion_tokens", "total_tokens"}) \
        if response.usage else {}
    return LlmReply(content=choice.message.content, tool_calls=calls, usage=usage,
                    latency_s=latency_s, finish_reason=choice.finish_reason)


def parse_arguments(call: ToolCall) -> dict[str, Any]:
    """Tool arguments as a dict; malformed JSON is the model's mistake, reported back to it."""
    try:
        value = json.loads(call.arguments or "{}")
    except ValueError as exc:
        raise ValueError(f"arguments of {call.name} are not valid JSON: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"arguments of {call.name} must be a JSON object")
    return value
