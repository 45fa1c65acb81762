"""What a run is shown of the lab memory: the block each node starts with, and memory_search.

Retrieval is not optional (SPEC 12): every node — the orchestrator and each
expert it delegates to — starts with the top-k active memories of its role
and of ``global``, ranked by similarity to its task, as one block of one
line each; among the closest few times k, the best and the worst lab result
always have a place, so a mediocre result close in wording cannot hide them. Each memory gets a run-scoped alias ``[M1]``, ``[M2]`` … (the same
memory keeps its alias all run long) that the final answer may cite; every
memory placed before the model is written to the trace (``memory_exposed``)
and to the exposures table in one transaction, cited or not.

With memory off for the batch (``memory: false``), ``C2XC_MEMORY_TOP_K=0``,
or an empty bank, nothing is added: the prompts are the same size as
without this feature, and no embedding call is made. Memories embedded by
another model than the one configured are never ranked; a run that meets
them records ``memory_stale`` (and the worker logs the command that fixes it).
"""
from __future__ import annotations

import logging
from typing import Any

from core import trace
from core.embedding import Embedder
from core.prompts import template
from store import memory_exposures
from store.memory_items import MemoryItem, active_count, get_items, stale_vector_count
from store.memory_search import Hit, MemoryIndex
from worker.agent.context import snippet
from worker.run_context import RunContext

MEMORY_REF_PREFIX = memory_exposures.MEMORY_REF_PREFIX
LINE_CHARS = 420  # a lab result's recipe, verdict and products fit whole
REEMBED_COMMAND = "c2xc-admin reembed-memories"
log = logging.getLogger("c2xc.worker.memory")

POOL_FACTOR = 4  # a block's lab results are chosen from this many times top-k candidates
FULL_CHARS = 4000
MEMORY_SEARCH_TOOL = {
    "name": "memory_search",
    "description": ("Search the lab memory (results the lab measured, lessons learned from "
                    "earlier runs, chemists' notes); returns memories with aliases [M#] to cite. "
                    "full=true returns each memory's whole text (a line is cut when long)."),
    "parameters": {"type": "object", "properties": {
        "query": {"type": "string"},
        "top_k": {"type": "integer", "minimum": 1, "maximum": 5},
        "full": {"type": "boolean"}}, "required": ["query"]}}


def memory_line(alias: str, item: MemoryItem, full: bool = False) -> str:
    """One memory as a prompt line: whole lines of its text up to the bound, never cut mid-line
    (a lab result's products and verdict stay readable), saying so when more can be read."""
    head = f"[{alias}] {item.kind} · {item.polarity} · {item.title}"
    if full:
        return f"{head}\n{item.content[:FULL_CHARS]}"
    lines, kept, used = item.content.splitlines(), [], 0
    for line in lines:
        used += len(line) + 3  # the " / " that joins it
        if used > LINE_CHARS + 3:
            break
        kept.append(line)
    more = " … (memory_search with full=true reads it whole)" if len(kept) < len(lines) else ""
    return f"{head}: {' / '.join(kept or [snippet(item.content, LINE_CHARS)])}{more}"


def outcome_rank(item: MemoryItem) -> float | None:
    """How good a lab result was: its score; a failed synthesis is below every score."""
    outcome = item.outcome or {}
    if outcome.get("status") == "failed":
        return -1.0
    score = outcome.get("score")
    return float(score) if isinstance(score, (int, float)) else None


def with_extremes(hits: list[Hit], items: dict[str, MemoryItem], k: int) -> list[Hit]:
    """The k best hits, except that the best and the worst lab results among the candidates are
    always there (from k = 3): the closest text alone can crowd out what the lab found best or
    worst for the recipes the task is about (SPEC 12, round 2)."""
    chosen = list(hits[:k])
    if k < 3:
        return chosen
    rated = [(outcome_rank(items[h.memory_id]), h) for h in hits
             if h.memory_id in items and items[h.memory_id].kind == "lab_result"]
    rated = [(value, h) for value, h in rated if value is not None]
    if not rated:
        return chosen
    best = max(rated, key=lambda pair: pair[0])[1]
    worst = min(rated, key=lambda pair: pair[0])[1]
    keep = {best.memory_id, worst.memory_id}
    for extreme in dict.fromkeys((best, worst)):
        if extreme in chosen:
            continue
        for position in range(len(chosen) - 1, -1, -1):  # the lowest-ranked that is not an extreme
            if chosen[position].memory_id not in keep:
                chosen[position] = extreme
                break
    return sorted(chosen, key=lambda h: -h.score)


class MemoryRecall:
    """One run's access to the memory bank; ``enabled`` False makes every method a no-op."""

    def __init__(self, ctx: RunContext, embedder: Embedder | None, index: MemoryIndex, *,
                 top_k: int, search_max_k: int, enabled: bool):
        self.ctx, self.embedder, self.index = ctx, embedder, index
        self.top_k, self.search_max_k = top_k, search_max_k
        self.enabled = enabled and top_k > 0 and embedder is not None
        self._alias_of: dict[str, str] = {}  # memory id -> alias
        self._items: dict[str, MemoryItem] = {}  # alias -> item
        self._stale: int | None = None  # counted once per run

    def settings(self) -> dict[str, Any]:
        """What this run is shown, by this worker's settings (recorded in ``run_started``)."""
        return {"enabled": self.enabled, "top_k": self.top_k, "search_max_k": self.search_max_k,
                "embedder": self.embedder.stamp if self.embedder else None}

    def refs(self) -> dict[str, str]:
        """alias -> ``mem:<id>`` for every memory shown in this run (for citation checks)."""
        return {alias: f"{MEMORY_REF_PREFIX}{item.memory_id}" for alias, item in self._items.items()}

    @property
    def aliases(self) -> list[str]:
        return list(self._items)

    def _bank_is_empty(self) -> bool:
        self._say_if_stale()
        return self.index.size(self.ctx.conn, self.embedder.stamp, self.embedder.dim) == 0

    def _say_if_stale(self) -> None:
        """Memories of another embedder are never ranked (mixed geometry); the run records that,
        once, and the worker's log says what to run — memory is never switched off silently."""
        if self._stale is not None:
            return
        self._stale = stale_vector_count(self.ctx.conn, self.embedder.stamp)
        if self._stale:
            event = trace.MemoryStale(stale=self._stale, active=active_count(self.ctx.conn),
                                      embedder=self.embedder.stamp, fix=REEMBED_COMMAND)
            self.ctx.emit(event)
            log.warning("run %s: %d of %d memories were embedded by another model than %s and are "
                        "left out of retrieval; run %s", self.ctx.run.run_id, event.stale, event.active,
                        event.embedder, REEMBED_COMMAND)

    def _rank(self, text: str, k: int, roles: tuple[str, ...] | None) -> list[Hit]:
        query = self.embedder.embed_one(text)
        return self.index.search(self.ctx.conn, query, embedder=self.embedder.stamp,
                                 dim=self.embedder.dim, k=k, roles=roles)

    def _expose(self, hits: list[Hit], *, node_id: str | None, role: str, via: str,
                query: str) -> list[tuple[str, MemoryItem]]:
        items = get_items(self.ctx.conn, [h.memory_id for h in hits])
        shown, exposures, listed = [], [], []
        for hit in hits:
            item = items.get(hit.memory_id)
            if item is None:
                continue
            alias = self._alias_of.get(item.memory_id)
            if alias is None:
                alias = f"M{len(self._items) + 1}"
                self._alias_of[item.memory_id], self._items[alias] = alias, item
            shown.append((alias, item))
            exposures.append(memory_exposures.Exposure(alias, item.memory_id, node_id, role, via,
                                                       hit.score))
            listed.append({"alias": alias, "memory_id": item.memory_id, "score": hit.score,
                           "kind": item.kind, "polarity": item.polarity, "role": item.role,
                           "title": item.title})
        if shown:
            event = trace.MemoryExposed(node_id=node_id, role=role, via=via, query=query,
                                        memories=listed)
            memory_exposures.record_exposures(self.ctx.conn, self.ctx.run.run_id,
                                              event.event_type, event.payload(), exposures,
                                              self.ctx.clock(), owner=self.ctx.worker_id)
            self.ctx.on_progress()
        return shown

    def block_for(self, node_id: str, role: str, task: str) -> str | None:
        """The memory block a node starts with, or None (memory off, or nothing in the bank)."""
        if not self.enabled or self._bank_is_empty():
            return None
        pool = self._rank(task, self.top_k * POOL_FACTOR, (role, "global"))
        chosen = with_extremes(pool, get_items(self.ctx.conn, [h.memory_id for h in pool]), self.top_k)
        shown = self._expose(chosen, node_id=node_id, role=role, via="context", query=task)
        if not shown:
            return None
        return template("memory_block").format(
            lines="\n".join(memory_line(alias, item) for alias, item in shown))

    def search(self, args: dict[str, Any], *, node_id: str | None, role: str) -> str:
        """The ``memory_search`` tool; raises ValueError for bad arguments (the model reads it)."""
        query = args.get("query")
        if not isinstance(query, str) or not query.strip():
            raise ValueError("query must be a non-empty string")
        k = args.get("top_k", 3)
        if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= self.search_max_k:
            raise ValueError(f"top_k must be an integer 1..{self.search_max_k}")
        full = args.get("full", False)
        if not isinstance(full, bool):
            raise ValueError("full must be true or false")
        if not self.enabled:
            return "lab memory is switched off for this run"
        if self._bank_is_empty():
            if self._stale:
                return (f"the lab memory holds {self._stale} memories embedded by another model; none "
                        f"can be searched until an operator runs {REEMBED_COMMAND}")
            return "the lab memory is empty"
        shown = self._expose(self._rank(query.strip(), k, None), node_id=node_id, role=role,
                             via="search", query=query.strip())
        return "\n".join(memory_line(alias, item, full) for alias, item in shown) or "no memory matched"
