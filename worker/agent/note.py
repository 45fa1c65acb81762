"""The run note: the agent's shared working memory, changed only by explicit operations.

Each operation is a tool the LLM may call; the program applies it and writes
a ``note_update`` event with the operation and the whole note after it, so the
trace shows how the team's thinking evolved.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class RunNote:
    constraints: list[str] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    open_questions: list[str] = field(default_factory=list)

    def apply(self, operation: str, args: dict[str, Any]) -> str:
        """Apply one operation; return a short confirmation for the LLM (ValueError if invalid)."""
        if operation == "note_add_constraint":
            self.constraints.append(_text(args, "text"))
            return f"constraint {len(self.constraints)} recorded"
        if operation == "note_add_candidate":
            self.candidates.append({"recipe": _text(args, "recipe"),
                                    "reason": _text(args, "reason"), "status": "open",
                                    "rejection_reason": None})
            return f"candidate {len(self.candidates)} recorded"
        if operation == "note_reject_candidate":
            index = args.get("index")
            if not isinstance(index, int) or not 1 <= index <= len(self.candidates):
                raise ValueError(f"index must be 1..{len(self.candidates)}")
            self.candidates[index - 1].update(status="rejected", rejection_reason=_text(args, "reason"))
            return f"candidate {index} rejected"
        if operation == "note_add_question":
            self.open_questions.append(_text(args, "text"))
            return f"question {len(self.open_questions)} recorded"
        raise ValueError(f"unknown note operation {operation!r}")

    def as_dict(self, evidence_aliases: list[str]) -> dict[str, Any]:
        return {**asdict(self), "evidence": evidence_aliases}


def _text(args: dict[str, Any], key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"'{key}' must be a non-empty string")
    return value.strip()[:4000]


NOTE_TOOLS = [
    {"name": "note_add_constraint", "description": "Record a constraint of the request.",
     "parameters": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}},
    {"name": "note_add_candidate", "description": "Record a candidate recipe and why it is considered.",
     "parameters": {"type": "object", "properties": {"recipe": {"type": "string"},
                                                     "reason": {"type": "string"}},
                    "required": ["recipe", "reason"]}},
    {"name": "note_reject_candidate", "description": "Reject candidate number `index` (1-based) with a reason.",
     "parameters": {"type": "object", "properties": {"index": {"type": "integer"},
                                                     "reason": {"type": "string"}},
                    "required": ["index", "reason"]}},
    {"name": "note_add_question", "description": "Record an open question.",
     "parameters": {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"]}},
]
