"""The agent's reasoning as a tree, rebuilt from the trace alone.

Every ``recap_info`` event names its node and the node's parent; every
``llm_response`` names the node that made the call. Folding them in trace
order gives each node its task, its plan as first stated and as revised,
the rounds it acted, its repairs, its conclusion (with the evidence it
cites), its LLM calls, tokens and time. Works while the run runs: a node
without an ``up`` is still working — or, once the run has ended, stopped
there. Events written before nodes had ids (release 0.1) are placed by
depth.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from store.records import Event

_ALIAS = re.compile(r"\[(C\d+)\]")
FINISHED = ("completed", "failed", "canceled")


def _new_node(node_id: str, payload: dict, parent_id: str | None, at: float) -> dict[str, Any]:
    return {"node_id": node_id, "parent_id": parent_id, "depth": payload.get("depth", 0),
            "role": payload.get("role") or payload.get("agent"), "task": payload.get("task"),
            "status": "working", "think": None, "plan": [], "plan_revisions": [], "steps": [],
            "repairs": [], "result": None, "citations": [], "llm_calls": 0, "prompt_tokens": 0,
            "completion_tokens": 0, "started_at": at, "ended_at": None, "duration_s": None,
            "children": []}


class _Tree:
    def __init__(self):
        self.nodes: dict[str, dict[str, Any]] = {}
        self.open_by_depth: dict[int, str] = {}  # for events without node ids (release 0.1)
        self.minted = 0

    def _node_of(self, payload: dict, at: float) -> dict[str, Any] | None:
        node_id = payload.get("node_id")
        depth = payload.get("depth", 0)
        if payload.get("state") == "down":
            if node_id is None:
                self.minted += 1
                node_id = f"legacy-{self.minted}"
            parent_id = payload.get("parent_id") or (self.open_by_depth.get(depth - 1) if depth else None)
            node = _new_node(node_id, payload, parent_id, at)
            self.nodes[node_id] = node
            self.open_by_depth[depth] = node_id
            if parent_id in self.nodes:
                self.nodes[parent_id]["children"].append(node_id)
            return node
        return self.nodes.get(node_id or self.open_by_depth.get(depth, ""))

    def recap(self, payload: dict, at: float) -> None:
        node = self._node_of(payload, at)
        if node is None:
            return
        state = payload.get("state")
        if payload.get("think") is not None:
            node["think"] = payload["think"]
        if state == "act":
            if payload.get("planned") is not None:
                node["plan_revisions"].append({"revision": payload.get("plan_revision"),
                                               "think": payload.get("think"),
                                               "plan": payload["planned"], "at": at})

            if payload.get("action"):
                node["steps"].append({"action": payload["action"], "outcome": payload.get("result"),
                                      "implicit_plan": bool(payload.get("implicit_plan")), "at": at})
            node["plan"] = payload.get("plan") or []
        elif state == "repair":
            node["repairs"].append({"attempt": payload.get("attempt"), "problems": payload.get("result"),
                                    "at": at})
        elif state == "up":
            node.update(status="done", result=payload.get("result"), ended_at=at,
                        duration_s=round(at - node["started_at"], 3),
                        plan=payload.get("plan") if payload.get("plan") is not None else node["plan"],
                        citations=list(dict.fromkeys(_ALIAS.findall(str(payload.get("result") or "")))))

    def llm_call(self, payload: dict) -> None:
        node = self.nodes.get(payload.get("node_id") or "")
        if node is None or payload.get("error"):
            return
        usage = payload.get("usage") or {}
        node["llm_calls"] += 1
        node["prompt_tokens"] += int(usage.get("prompt_tokens") or 0)
        node["completion_tokens"] += int(usage.get("completion_tokens") or 0)


def reasoning_tree(events: Iterable[Event], run_status: str,
                   recipes: list[dict] | None) -> dict[str, Any]:
    """The tree of a run from its ``recap_info`` and ``llm_response`` events (with payloads)."""
    tree = _Tree()
    for event in events:
        if event.event_type == "recap_info":
            tree.recap(event.payload or {}, event.created_at)
        elif event.event_type == "llm_response":
            tree.llm_call(event.payload or {})
    if run_status in FINISHED:
        for node in tree.nodes.values():
            if node["status"] == "working":
                node["status"] = "stopped"
            elif node["status"] == "done" and node["depth"] == 0 and run_status != "completed":
                node["status"] = "rejected"  # it answered, but the answer never became recipes
    return {"nodes": list(tree.nodes.values()),
            "recipes": _who_argued(tree.nodes, recipes or [])}


def _who_argued(nodes: dict[str, dict], recipes: list[dict]) -> list[dict[str, Any]]:
    """Per recipe, the nodes whose conclusion cites evidence the recipe's rationale cites."""
    argued = []
    for rank, recipe in enumerate(recipes, start=1):
        cited = set(_ALIAS.findall(str(recipe.get("rationale") or "")))
        argued.append({"rank": recipe.get("rank", rank), "citations": sorted(cited, key=lambda a: int(a[1:])),
                       "node_ids": [n["node_id"] for n in nodes.values()
                                    if cited & set(n["citations"])]})
    return argued
