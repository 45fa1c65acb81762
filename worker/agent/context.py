"""What a role's LLM call sends: a stable prefix, the latest results in full, older ones compacted.

Every call resends the conversation so far, so a naive agent pays again for
every chunk it ever retrieved. Two rules keep prompts small and cacheable:

* **Stable prefix.** The system prompt, the task and the tool schemas come
  first and never change within a role's conversation, so providers'
  prefix caches (vLLM, DashScope, OpenAI) hit on every later call.
* **Compaction.** A tool result is sent in full in the call right after the
  tool ran; from then on it is sent in its compact form — for retrieved
  chunks, the alias, the source and the first words. Aliases stay valid, and
  ``kb_get`` brings any chunk's full text back on demand. A message, once
  compacted, stays the same in every later call, so the prefix stays stable.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from worker.llm.client import LlmReply

SNIPPET_CHARS = 80


@dataclass(frozen=True)
class ToolResult:
    text: str      # what the model reads right after the call
    compact: str   # what it reads in every later call

    @classmethod
    def plain(cls, text: str) -> "ToolResult":
        return cls(text, text)


def snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[:SNIPPET_CHARS].rstrip() + "…"


def assistant_message(reply: LlmReply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.tool_calls:
        message["tool_calls"] = [{"id": c.call_id, "type": "function",
                                  "function": {"name": c.name, "arguments": c.arguments}}
                                 for c in reply.tool_calls]
    return message


class Conversation:
    """One role's messages, sent with older tool results compacted."""

    def __init__(self, system: str, task: str):
        self._messages: list[dict[str, Any]] = [{"role": "system", "content": system},
                                                {"role": "user", "content": task}]
        self._compact: dict[int, str] = {}

    @property
    def task(self) -> str:
        return self._messages[1]["content"]

    def add_reply(self, reply: LlmReply) -> None:
        self._messages.append(assistant_message(reply))

    def add_tool_result(self, call_id: str, result: ToolResult) -> None:
        if result.compact != result.text:
            self._compact[len(self._messages)] = result.compact
        self._messages.append({"role": "tool", "tool_call_id": call_id, "content": result.text})

    def add_user(self, text: str) -> None:
        self._messages.append({"role": "user", "content": text})

    def to_send(self) -> list[dict[str, Any]]:
        """The messages of the next call: results the model has already read, compacted."""
        seen_until = max((i for i, m in enumerate(self._messages) if m["role"] == "assistant"),
                         default=-1)

        return [{**message, "content": self._compact[i]}
                if i in self._compact and i < seen_until else message
                for i, message in enumerate(self._messages)]
