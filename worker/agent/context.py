"""What one node's LLM call sends: a stable prefix, its last few rounds, then where it stands.

Resending a whole conversation makes every call pay for everything before it,
and a long research session grows without bound. A node's prompt is instead:

1. **Stable prefix** — its system prompt and its task (and the tool schemas,
   sent apart), identical on every call of the node, so providers' prefix
   caches hit;
2. **The last ``window`` rounds** — a round is the model's tool calls and
   their results, or a message to it (a repair); a result the model has
   already read is sent in compact form (alias, source, first words;
   ``kb_get`` brings a chunk back), and rounds older than the window are
   not sent at all;
3. **Where it stands** — its own reasoning, the steps it has done (one line
   each), the subtasks that remain, the run note and the evidence aliases:
   what the dropped rounds taught it, in a bounded size.

A parent therefore sees a child only as the child's conclusion (a tool
result), never the child's conversation.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from worker.llm.client import LlmReply

SNIPPET_CHARS = 80
DONE_SHOWN, CANDIDATES_SHOWN, ALIASES_SHOWN = 8, 10, 40


@dataclass(frozen=True)
class ToolResult:
    text: str      # what the model reads right after the call
    compact: str   # what it reads in every later call

    @classmethod
    def plain(cls, text: str) -> "ToolResult":
        return cls(text, text)


def snippet(text: str, chars: int = SNIPPET_CHARS) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= chars else flat[:chars].rstrip() + "…"


def assistant_message(reply: LlmReply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content}
    if reply.tool_calls:
        message["tool_calls"] = [{"id": c.call_id, "type": "function",
                                  "function": {"name": c.name, "arguments": c.arguments}}
                                 for c in reply.tool_calls]
    return message


class NodeContext:
    """One node's rounds, sent as prefix + window + state."""

    def __init__(self, system: str, task: str, window: int, memory: str | None = None):
        self.prefix = [{"role": "system", "content": system}, {"role": "user", "content": task}]
        if memory:  # the lab memory retrieved for this task: part of the stable prefix
            self.prefix.append({"role": "user", "content": memory})
        self.window = window
        self._rounds: list[list[dict[str, Any]]] = []
        self._compact: dict[int, str] = {}  # id() of a tool message -> its compact text

    def add_reply(self, reply: LlmReply) -> None:
        self._rounds.append([assistant_message(reply)])

    def add_tool_result(self, call_id: str, result: ToolResult) -> None:
        message = {"role": "tool", "tool_call_id": call_id, "content": result.text}
        if result.compact != result.text:
            self._compact[id(message)] = result.compact
        self._rounds[-1].append(message)

    def add_user(self, text: str) -> None:
        self._rounds.append([{"role": "user", "content": text}])

    def to_send(self, state: str | None) -> list[dict[str, Any]]:
        """Prefix, window, state — except that a message to the model (a repair request) in
        the latest round stays the last thing it reads, after its bearings."""
        recent = self._rounds[-self.window:] if self.window else []
        latest = self._rounds[-1] if self._rounds else None
        request_last = latest is not None and latest[0]["role"] == "user"
        messages = list(self.prefix)
        for round_ in recent:
            if round_ is latest and request_last and state:
                messages.append({"role": "user", "content": state})
            for message in round_:
                seen = round_ is not latest and id(message) in self._compact
                messages.append({**message, "content": self._compact[id(message)]} if seen else message)
        if state and not request_last:
            messages.append({"role": "user", "content": state})
        return messages


def state_message(*, think: str | None, done: list[str], remaining: list[dict[str, str]],
                  note: dict[str, Any], evidence: list[str], dropped: int) -> str | None:
    """The node's bearings, in a bounded size; None before it has done or planned anything."""
    if think is None and not done and not remaining:
        return None
    lines = ["Where you stand (your own record; earlier rounds are not repeated):"]
    if think:
        lines.append(f"Your reasoning: {think}")
    if done:
        lines.append("Done:" + (f" ({len(done) - DONE_SHOWN} earlier steps not shown)"
                               if len(done) > DONE_SHOWN else ""))
        lines += [f"- {line}" for line in done[-DONE_SHOWN:]]
    if remaining:
        lines.append("Remaining plan:")
        lines += [f"{i}. ({s['by']}) {s['step']}" for i, s in enumerate(remaining, start=1)]
    lines += _note_lines(note)
    if evidence:
        shown = evidence[-ALIASES_SHOWN:]
        lines.append("Evidence retrieved (cite these aliases only): " + " ".join(shown)
                     + (f" (+{len(evidence) - len(shown)} earlier)" if len(evidence) > len(shown) else ""))
    if dropped:
        lines.append(f"({dropped} older round(s) are summarised above; kb_get re-reads any chunk.)")
    lines.append("Next: act on the first remaining subtask, or call plan to revise what remains; "
                 "answer when you are done.")
    return "\n".join(lines)


def _note_lines(note: dict[str, Any]) -> list[str]:
    lines = []
    if note.get("constraints"):
        lines.append("Constraints: " + "; ".join(note["constraints"]))
    candidates = note.get("candidates") or []
    for index, candidate in list(enumerate(candidates, start=1))[-CANDIDATES_SHOWN:]:
        status = (f"rejected: {candidate['rejection_reason']}" if candidate["status"] == "rejected"
                  else "open")
        lines.append(f"Candidate {index}: {candidate['recipe']} — {snippet(candidate['reason'])} ({status})")
    if note.get("open_questions"):
        lines.append("Open questions: " + "; ".join(note["open_questions"]))
    return lines
