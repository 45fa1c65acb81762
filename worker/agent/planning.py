"""The ``plan`` tool: how a node states its reasoning and the subtasks that remain.

ReCAP's loop — plan, act on the head subtask, recap by revising what remains
— is carried through ordinary tool calling so it works on any
OpenAI-compatible server (Qwen on vLLM or DashScope included): a node calls
``plan`` with ``think`` and ``subtasks`` first, and again whenever what
remains should change. Each subtask is done by the node itself (``self``:
with its tools) or by a named expert (through ``delegate``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_SUBTASKS = 12
MAX_TEXT = 2000


@dataclass(frozen=True)
class Subtask:
    step: str
    by: str = "self"

    def as_dict(self) -> dict[str, str]:
        return {"step": self.step, "by": self.by}


def plan_tool(performers: tuple[str, ...]) -> dict[str, Any]:
    """The tool schema; ``performers`` are who may do a subtask ("self" and the experts)."""
    return {
        "name": "plan",
        "description": ("State your reasoning (think) and the ordered subtasks that remain. Call "
                        "it first, then again after a subtask whenever the rest should change."),
        "parameters": {"type": "object", "properties": {
            "think": {"type": "string"},
            "subtasks": {"type": "array", "items": {"type": "object", "properties": {
                "step": {"type": "string"},
                "by": {"type": "string", "enum": list(performers)}}, "required": ["step"]}}},
            "required": ["think", "subtasks"]},
    }


def parse_plan(args: dict[str, Any], performers: tuple[str, ...]) -> tuple[str, list[Subtask]]:
    """(think, subtasks) from a ``plan`` call; ValueError with what to fix otherwise."""
    think = args.get("think")
    if not isinstance(think, str) or not think.strip():
        raise ValueError("plan needs 'think': your reasoning, as text")
    items = args.get("subtasks")
    if not isinstance(items, list) or len(items) > MAX_SUBTASKS:
        raise ValueError(f"plan needs 'subtasks': a list of at most {MAX_SUBTASKS} items")
    subtasks = []
    for index, item in enumerate(items):
        step = item.get("step") if isinstance(item, dict) else None
        by = (item.get("by") or "self") if isinstance(item, dict) else None
        if not isinstance(step, str) or not step.strip():
            raise ValueError(f"subtasks[{index}] needs 'step': what to do")
        if by not in performers:
            raise ValueError(f"subtasks[{index}].by must be one of {', '.join(performers)}")
        subtasks.append(Subtask(step.strip()[:MAX_TEXT], by))
    return think.strip()[:MAX_TEXT], subtasks
