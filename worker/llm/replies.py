"""What the LLM answered: its text, its tool calls, what it cost (shared by the client and parsers)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ToolCall:
    call_id: str
    name: str
    arguments: str  # JSON text as the model wrote it; parsed by the tool dispatcher


@dataclass(frozen=True)
class LlmReply:
    content: str | None
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: dict[str, int] = field(default_factory=dict)
    latency_s: float = 0.0
    finish_reason: str | None = None
    tool_calls_from_text: bool = False  # the server sent them as text; we read them
