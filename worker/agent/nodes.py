"""Reasoning nodes: who worked on what, with which plan, and what it cost.

A node is one role working on one task: the orchestrator on the scientist's
request (``n1``), each expert on a task delegated to it. Everything a node
does is written to the trace as ``recap_info`` events carrying its id and
its parent's, so the tree can be rebuilt from the trace alone
(``GET /runs/{id}/reasoning``). The node also keeps its own tally of LLM
calls, tokens and time, for the trace and the final ``up`` event.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from core import trace
from worker.agent.planning import Subtask


@dataclass
class Node:
    node_id: str
    parent_id: str | None
    role: str
    depth: int
    task: str
    think: str | None = None
    plan: list[Subtask] = field(default_factory=list)  # what remains, head first
    plan_revision: int = 0
    done: list[str] = field(default_factory=list)  # one line per completed round
    repairs: int = 0
    llm_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    started: float = field(default_factory=time.monotonic)

    def count_call(self, usage: dict[str, int]) -> None:
        self.llm_calls += 1
        self.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        self.completion_tokens += int(usage.get("completion_tokens") or 0)

    def event(self, state: str, **fields: Any) -> trace.RecapInfo:
        """A ``recap_info`` event of this node in ``state`` (down, act, up, repair)."""
        return trace.RecapInfo(agent=self.role, role=self.role, state=state, depth=self.depth,
                               node_id=self.node_id, parent_id=self.parent_id, **fields)

    def remaining(self) -> list[dict[str, str]]:
        return [subtask.as_dict() for subtask in self.plan]


class NodeCounter:
    """Mints node ids in the order nodes start (n1, n2, …)."""

    def __init__(self):
        self.count = 0

    def next_id(self) -> str:
        self.count += 1
        return f"n{self.count}"
