"""Tool calls that arrive as text, as local servers without a tool-call parser send them.

An OpenAI-compatible server turns the model's tool-call tokens into
``message.tool_calls`` only when it knows the model's format (vLLM's
``--tool-call-parser``, llama.cpp's ``--jinja``, Ollama's templates). Without
that, the call reaches us as plain ``content`` in the model's own format, and
an agent that ignores it stalls. These are the formats open models write:

* Hermes / Qwen 2.5 / Qwen 3 (and most fine-tunes of them)::

    <tool_call>
    {"name": "kb_search", "arguments": {"kb": "kb_principles", "query": "..."}}
    </tool_call>

* Llama 3.1–3.3 (JSON tool calling, sometimes after ``<|python_tag|>``)::

    {"name": "kb_search", "parameters": {...}}

* Mistral (``[TOOL_CALLS]`` then a JSON list, or v11+ ``name[ARGS]{...}``)::

    [TOOL_CALLS] [{"name": "kb_search", "arguments": {...}}]
    [TOOL_CALLS]kb_search[ARGS]{...}

* any of these inside a Markdown code fence.

A call is taken only when its name is one of the tools offered in that
request and its arguments are a JSON object, so a final answer (a JSON
object of recipes) is never mistaken for a call. What remains of the text is
kept as the reply's content.
"""
from __future__ import annotations

import json
import re
from typing import Any

from worker.llm.replies import ToolCall

_HERMES = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)
_MISTRAL_ARGS = re.compile(r"\[TOOL_CALLS\]\s*([A-Za-z_][\w.-]*)\s*\[ARGS\]\s*", re.S)
_MISTRAL_LIST = re.compile(r"\[TOOL_CALLS\]\s*", re.S)
_FENCE = re.compile(r"```(?:json|tool_call|tool)?\s*(.*?)```", re.S)
_PYTHON_TAG = "<|python_tag|>"
_DECODER = json.JSONDecoder()


def _objects(text: str) -> list[tuple[int, int, Any]]:
    """Every top-level JSON value in ``text`` that starts with ``{`` or ``[``: (start, end, value)."""
    found, index = [], 0
    while index < len(text):
        start = min((i for i in (text.find("{", index), text.find("[", index)) if i >= 0), default=-1)
        if start < 0:
            break
        try:
            value, end = _DECODER.raw_decode(text, start)
        except ValueError:
            index = start + 1
            continue
        found.append((start, end, value))
        index = end
    return found


def _as_call(value: Any, tools: set[str]) -> tuple[str, str] | None:
    """(name, arguments as JSON) if ``value`` is a call of an offered tool."""
    if not isinstance(value, dict):
        return None
    if isinstance(value.get("function"), dict):  # {"type": "function", "function": {...}}
        value = value["function"]
    name = value.get("name")
    arguments = value.get("arguments", value.get("parameters", {}))
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except ValueError:
            return None
    if name not in tools or not isinstance(arguments, dict):
        return None
    return name, json.dumps(arguments, ensure_ascii=False)


def _calls_in(value: Any, tools: set[str]) -> list[tuple[str, str]]:
    values = value if isinstance(value, list) else [value]
    calls = [_as_call(v, tools) for v in values]
    return [c for c in calls if c] if all(calls) else []


def extract_tool_calls(content: str | None, tools: set[str]) -> tuple[str | None, list[ToolCall]]:
    """(the text without the calls, the calls); no calls found: the text unchanged and []."""
    if not content or not tools:
        return content, []
    text = content.replace(_PYTHON_TAG, "")
    spans: list[tuple[int, int]] = []
    calls: list[tuple[str, str]] = []

    for match in _HERMES.finditer(text):
        found = [c for _, _, v in _objects(match.group(1)) for c in _calls_in(v, tools)]
        if found:
            calls += found
            spans.append(match.span())
    if not calls:
        for match in _MISTRAL_ARGS.finditer(text):
            if match.group(1) in tools:
                objects = _objects(text[match.end():])
                if objects and objects[0][0] == 0 and isinstance(objects[0][2], dict):
                    calls.append((match.group(1), json.dumps(objects[0][2], ensure_ascii=False)))
                    spans.append((match.start(), match.end() + objects[0][1]))
    if not calls:
        for match in _MISTRAL_LIST.finditer(text):
            objects = _objects(text[match.end():])
            if objects and objects[0][0] == 0 and (found := _calls_in(objects[0][2], tools)):
                calls += found
                spans.append((match.start(), match.end() + objects[0][1]))
    if not calls:
        for match in _FENCE.finditer(text):
            found = [c for _, _, v in _objects(match.group(1)) for c in _calls_in(v, tools)]
            if found:
                calls += found
                spans.append(match.span())
    if not calls:  # bare JSON (Llama 3.x): every top-level object must be a call
        objects = _objects(text)
        found = [_calls_in(v, tools) for _, _, v in objects]
        if objects and all(found):
            calls = [c for group in found for c in group]
            spans = [(s, e) for s, e, _ in objects]
    if not calls:
        return content, []
    remaining, last = [], 0
    for start, end in sorted(spans):
        remaining.append(text[last:start])
        last = end
    remaining.append(text[last:])
    rest = "".join(remaining).strip()
    return (rest or None), [ToolCall(call_id=f"text_call_{i}", name=n, arguments=a)
                            for i, (n, a) in enumerate(calls)]
