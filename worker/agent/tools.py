"""The tools the LLM may call, and the evidence registry they fill.

Every chunk a search returns gets a short alias ([C1], [C2], …) unique within
the run; the same chunk found again keeps its alias. New chunks are written
to the evidence registry in the same transaction as their ``kb_query`` event.
A tool used wrongly (bad arguments, unknown alias) answers the LLM with an
error it can act on; a knowledge base that fails raises ``kb_error`` and ends
the run.
"""
from __future__ import annotations

import json
import time
from typing import Any, Callable

from core import trace
from core.kb_folder import KB_NAMESPACES
from store.records import EvidenceItem
from worker.agent.context import ToolResult, snippet
from worker.agent.note import NOTE_TOOL, RunNote
from worker.kb.adapter import DEFAULT_MODE, MODES, KeywordExtractor, KnowledgeBase, Retrieval
from worker.llm.client import ToolCall, parse_arguments
from worker.run_context import RunContext

MAX_TOP_K, DEFAULT_TOP_K = 8, 4
MAX_KEYWORDS = 8
GRAPH_LINES_SHOWN = 5

_WORDS = {"type": "array", "items": {"type": "string"}}
KB_TOOLS = [
    {"name": "kb_search", "description": (
        "Search a literature knowledge base; returns chunks with aliases to cite. mode: mix "
        "(default, graph + vectors), naive (vectors only: exact phrases), local (entities: metals, "
        "molecules), global (mechanisms, trends), hybrid (local + global). Give keywords in the "
        "graph modes: without them each graph-mode search costs an extra model call "
        "(bounded per run)."),
     "parameters": {"type": "object", "properties": {
         "kb": {"type": "string", "enum": list(KB_NAMESPACES)},
         "query": {"type": "string"},
         "top_k": {"type": "integer", "minimum": 1, "maximum": MAX_TOP_K},
         "mode": {"type": "string", "enum": list(MODES)},
         "keywords": {"type": "object", "properties": {"high_level": _WORDS, "low_level": _WORDS}}},
         "required": ["kb", "query"]}},
    {"name": "kb_get", "description": "Full text and source of a chunk already retrieved.",
     "parameters": {"type": "object", "properties": {"alias": {"type": "string"}},
                    "required": ["alias"]}},
    {"name": "kb_list", "description": "Aliases retrieved so far with their sources.",
     "parameters": {"type": "object", "properties": {}}},
]


def openai_tools(definitions: list[dict]) -> list[dict]:
    return [{"type": "function", "function": d} for d in definitions]


def _keywords(args: dict[str, Any]) -> dict[str, list[str]] | None:
    """The agent's keywords, checked; None when it gave none."""
    value = args.get("keywords")
    if value is None:
        return None
    if not isinstance(value, dict) or set(value) - {"high_level", "low_level"}:
        raise ValueError("keywords must be an object with 'high_level' and/or 'low_level' lists")
    cleaned = {}
    for level in ("high_level", "low_level"):
        words = value.get(level) or []
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise ValueError(f"keywords.{level} must be a list of strings")
        cleaned[level] = [w.strip()[:100] for w in words if w.strip()][:MAX_KEYWORDS]
    return cleaned if any(cleaned.values()) else None


def _graph_lines(found: Retrieval) -> list[str]:
    """A few graph facts as context for the model (not citable: the chunks are)."""
    lines = [f"- {r['source']} — {r['target']}: {r['description'][:160]}"
             for r in found.relations[:GRAPH_LINES_SHOWN]]
    if not lines:
        lines = [f"- {e['name']} ({e['type']}): {e['description'][:160]}"
                 for e in found.entities[:GRAPH_LINES_SHOWN]]
    return lines


class ToolBox:
    def __init__(self, ctx: RunContext, kbs: dict[str, KnowledgeBase], note: RunNote,
                 extract_keywords: KeywordExtractor | None = None):
        self.ctx, self.kbs, self.note = ctx, kbs, note
        self.extract_keywords = extract_keywords
        self.keyword_calls_left: Callable[[], bool] = lambda: True
        self.current_node: str | None = None  # the reasoning node whose calls run now
        self.evidence: dict[str, EvidenceItem] = {}
        self._alias_of: dict[str, str] = {}  # ref -> alias

    @property
    def aliases(self) -> list[str]:
        return list(self.evidence)

    def refs(self) -> dict[str, str]:
        return {alias: item.ref for alias, item in self.evidence.items()}

    def dispatch(self, call: ToolCall) -> ToolResult:
        try:
            args = parse_arguments(call)
            if call.name == "kb_search":
                return self.kb_search(args)
            if call.name == "kb_get":
                return self.kb_get(args)
            if call.name == "kb_list":
                return ToolResult.plain(self.kb_list())
            if call.name == "note":
                operation = str(args.get("op", ""))
                result = self.note.apply(operation, args)
                self.ctx.emit(trace.NoteUpdate(operation=operation, arguments=args,
                                               note=self.note.as_dict(self.aliases)))
                return ToolResult.plain(result)
            raise ValueError(f"unknown tool {call.name!r}")
        except ValueError as exc:
            return ToolResult.plain(f"error: {exc}")

    def kb_search(self, args: dict[str, Any]) -> ToolResult:
        kb, query = args.get("kb"), args.get("query")
        if kb not in self.kbs:
            raise ValueError(f"kb must be one of {', '.join(self.kbs)}")
        if not isinstance(query, str) or not query.strip():
            raise ValueError("query must be a non-empty string")
        top_k = args.get("top_k", DEFAULT_TOP_K)
        if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= MAX_TOP_K:
            raise ValueError(f"top_k must be an integer 1..{MAX_TOP_K}")
        mode = args.get("mode", DEFAULT_MODE)
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        keywords = _keywords(args)
        if keywords is None and mode != "naive" and not self.keyword_calls_left():
            raise ValueError(f"mode {mode} needs keywords and this run has spent its keyword "
                             "extractions: pass keywords (high_level/low_level) yourself, or "
                             "use mode naive")
        source = "agent" if keywords else ("llm" if mode != "naive" else "none")
        started = time.monotonic()
        found = self.kbs[kb].search(query, top_k, mode=mode, keywords=keywords,
                                    extract_keywords=self.extract_keywords)
        latency_ms = round((time.monotonic() - started) * 1000, 1)
        results, new_items = [], []
        for chunk in found.chunks:
            ref = f"kb:{kb}__{chunk.chunk_id}"
            alias = self._alias_of.get(ref)
            if alias is None:
                alias = f"C{len(self.evidence) + 1}"
                item = EvidenceItem(alias=alias, ref=ref, source=chunk.source, kb_namespace=kb,
                                    lightrag_chunk_id=chunk.chunk_id, created_at=self.ctx.clock(),
                                    content=chunk.content)
                self.evidence[alias], self._alias_of[ref] = item, alias
                new_items.append(item)
            results.append({"alias": alias, "ref": ref, "source": chunk.source,
                            "content": chunk.content})
        self.ctx.emit_retrieval(trace.KbQuery(
            kb=kb, query=query, mode=mode, top_k=top_k, latency_ms=latency_ms, results=results,
            keywords={**found.keywords, "source": source} if mode != "naive" else None,
            entities=found.entities if mode != "naive" else None,
            relations=found.relations if mode != "naive" else None,
            node_id=self.current_node), new_items)

        if not results:
            return ToolResult.plain("no chunks matched; try other words or another mode")
        text = "\n\n".join(f"[{r['alias']}] source: {r['source']}\n{r['content']}" for r in results)
        graph = _graph_lines(found)
        if graph:
            text += "\n\nKnowledge-graph context (cite the chunks above, not these lines):\n"
            text += "\n".join(graph)
        compact = "\n".join(f"[{r['alias']}] {r['source']}: {snippet(r['content'])}" for r in results)
        return ToolResult(text, compact + "\n(shown in full earlier; kb_get <alias> shows it again)")

    def kb_get(self, args: dict[str, Any]) -> ToolResult:
        alias = str(args.get("alias", "")).strip("[] ")
        item = self.evidence.get(alias)
        if item is None:
            raise ValueError(f"[{alias}] was not retrieved in this run; known: "
                             f"{', '.join(self.aliases) or 'none'}")
        self.ctx.emit(trace.KbGet(alias=alias, ref=item.ref, source=item.source))
        return ToolResult(f"[{alias}] source: {item.source}\n{item.content}",
                          f"[{alias}] {item.source}: {snippet(item.content)} (kb_get shows it again)")

    def kb_list(self) -> str:
        listing = [{"alias": a, "source": i.source, "kb": i.kb_namespace}
                   for a, i in self.evidence.items()]
        self.ctx.emit(trace.KbList(aliases=listing))

        return json.dumps(listing) if listing else "nothing retrieved yet"


ALL_TOOL_DEFINITIONS = KB_TOOLS + [NOTE_TOOL]
