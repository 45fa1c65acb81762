"""The run note: the agent's shared working memory, changed only by explicit operations.

The LLM changes it through one ``note`` tool (an operation and its fields);
the program applies it and writes a ``note_update`` event with the operation
and the whole note after it, so the trace shows how the team's thinking evolved.
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
        if operation == "add_constraint":
            self.constraints.append(_text(args, "text"))
            return f"constraint {len(self.constraints)} recorded"
        if operation == "add_candidate":
            self.candidates.append({"recipe": _text(args, "recipe"),
                                    "reason": _text(args, "reason"), "status": "open",
                                    "rejection_reason": None})
            return f"candidate {len(self.candidates)} recorded"
        if operation == "reject_candidate":
            index = args.get("index")
            if not isinstance(index, int) or not 1 <= index <= len(self.candidates):
                raise ValueError(f"index must be 1..{len(self.candidates)}")
            self.candidates[index - 1].update(status="rejected", rejection_reason=_text(args, "reason"))
            return f"candidate {index} rejected"
        if operation == "add_question":
            self.open_questions.append(_text(args, "text"))
            return f"question {len(self.open_questions)} recorded"
        raise ValueError(f"op must be one of {', '.join(OPERATIONS)}")

    def as_dict(self, evidence_aliases: list[str]) -> dict[str, Any]:
        return {**asdict(self), "evidence": evidence_aliases}


def _text(args: dict[str, Any], key: str) -> str:
    value = args.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"'{key}' must be a non-empty string")
    return value.strip()[:4000]


OPERATIONS = ("add_constraint", "add_candidate", "reject_candidate", "add_question")
NOTE_TOOL = {
    "name": "note",
    "description": "Update the run note: add_constraint or add_question (text); add_candidate "
                   "(recipe, reason); reject_candidate number index (reason).",
    "parameters": {"type": "object", "properties": {
        "op": {"type": "string", "enum": list(OPERATIONS)}, "text": {"type": "string"},
        "recipe": {"type": "string"}, "reason": {"type": "string"}, "index": {"type": "integer"}},
        "required": ["op"]}}
