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
from typing import Any

from core import trace
from core.kb_folder import KB_NAMESPACES
from store.records import EvidenceItem
from worker.agent.note import NOTE_TOOLS, RunNote
from worker.kb.adapter import KnowledgeBase
from worker.llm.client import ToolCall, parse_arguments
from worker.run_context import RunContext

MAX_TOP_K, DEFAULT_TOP_K = 8, 4

KB_TOOLS = [
    {"name": "kb_search", "description": "Search one literature knowledge base; returns chunks "
     "with aliases to cite.",
     "parameters": {"type": "object", "properties": {
         "kb": {"type": "string", "enum": list(KB_NAMESPACES)},
         "query": {"type": "string"},
         "top_k": {"type": "integer", "minimum": 1, "maximum": MAX_TOP_K}},
         "required": ["kb", "query"]}},
    {"name": "kb_get", "description": "Full text and source of a chunk already retrieved.",
     "parameters": {"type": "object", "properties": {"alias": {"type": "string"}},
                    "required": ["alias"]}},
    {"name": "kb_list", "description": "Aliases retrieved so far with their sources.",
     "parameters": {"type": "object", "properties": {}}},
]


def openai_tools(definitions: list[dict]) -> list[dict]:
    return [{"type": "function", "function": d} for d in definitions]


class ToolBox:
    def __init__(self, ctx: RunContext, kbs: dict[str, KnowledgeBase], note: RunNote):
        self.ctx, self.kbs, self.note = ctx, kbs, note
        self.evidence: dict[str, EvidenceItem] = {}
        self._alias_of: dict[str, str] = {}  # ref -> alias

    @property
    def aliases(self) -> list[str]:
        return list(self.evidence)

    def refs(self) -> dict[str, str]:
        return {alias: item.ref for alias, item in self.evidence.items()}

    def dispatch(self, call: ToolCall) -> str:
        try:
            args = parse_arguments(call)
            if call.name == "kb_search":
                return self.kb_search(args)
            if call.name == "kb_get":
                return self.kb_get(args)
            if call.name == "kb_list":
                return self.kb_list()
            if call.name.startswith("note_"):
                result = self.note.apply(call.name, args)
                self.ctx.emit(trace.NoteUpdate(operation=call.name, arguments=args,
                                               note=self.note.as_dict(self.aliases)))
                return result
            raise ValueError(f"unknown tool {call.name!r}")
        except ValueError as exc:
            return f"error: {exc}"

    def kb_search(self, args: dict[str, Any]) -> str:
        kb, query = args.get("kb"), args.get("query")
        if kb not in self.kbs:
            raise ValueError(f"kb must be one of {', '.join(self.kbs)}")
        if not isinstance(query, str) or not query.strip():
            raise ValueError("query must be a non-empty string")
        top_k = args.get("top_k", DEFAULT_TOP_K)
        if not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
            raise ValueError(f"top_k must be an integer 1..{MAX_TOP_K}")
        started = time.monotonic()
        chunks = self.kbs[kb].search(query, top_k)
        latency_ms = round((time.monotonic() - started) * 1000, 1)
        results, new_items = [], []
        for chunk in chunks:
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
        self.ctx.emit_retrieval(trace.KbQuery(kb=kb, query=query, mode="naive", top_k=top_k,
                                              latency_ms=latency_ms, results=results), new_items)
        if not results:
            return "no chunks matched; try other words"
        return "\n\n".join(f"[{r['alias']}] source: {r['source']}\n{r['content']}" for r in results)

    def kb_get(self, args: dict[str, Any]) -> str:
        alias = str(args.get("alias", "")).strip("[] ")
        item = self.evidence.get(alias)
        if item is None:
            raise ValueError(f"[{alias}] was not retrieved in this run; known: "
                             f"{', '.join(self.aliases) or 'none'}")
        self.ctx.emit(trace.KbGet(alias=alias, ref=item.ref, source=item.source))
        return f"[{alias}] source: {item.source}\n{item.content}"

    def kb_list(self) -> str:
        listing = [{"alias": a, "source": i.source, "kb": i.kb_namespace}
                   for a, i in self.evidence.items()]
        self.ctx.emit(trace.KbList(aliases=listing))

        return json.dumps(listing) if listing else "nothing retrieved yet"


ALL_TOOL_DEFINITIONS = KB_TOOLS + NOTE_TOOLS
