"""Search one LightRAG working directory and return citable chunks with their graph context.

Retrieval only: ``aquery_data`` returns LightRAG's own chunk ids, their text
and file path, and — in the graph modes — the entities and relations that
led to them; no LLM is asked to answer. Modes (LightRAG's own):

* ``mix`` (default): knowledge graph plus vector search over chunks;
* ``naive``: vector search over chunks only;
* ``local``: entities matching low-level keywords, and their neighbourhood;
* ``global``: relations matching high-level keywords;
* ``hybrid``: local and global.

The graph modes need keywords. The caller either supplies them (no extra
call) or passes ``extract_keywords``: LightRAG's keyword prompt is then
answered through that callable — in a run, the project's own traced,
bounded, cancel-checked LLM client — never through a client of LightRAG's.
Anything that callable raises (a cancel, a bound) is re-raised from
:meth:`KnowledgeBase.search` unchanged.

The working directory is opened read-only in spirit: we never insert, the
LLM cache is off, and the folder is checked on every search, so a KB that
vanished after the preflight fails the run with ``kb_error``.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from core import kb_folder
from core.errors import KbError
from worker.kb.workspace import Embedder, folder_version, lightrag_workspace

log = logging.getLogger("c2xc.worker")
MODES = ("mix", "naive", "local", "global", "hybrid")
DEFAULT_MODE = "mix"
KeywordExtractor = Callable[[str], str]  # LightRAG's keyword prompt -> the model's reply
GRAPH_ITEMS_KEPT, GRAPH_TEXT_KEPT = 12, 300  # bound what a kb_query event records


@dataclass(frozen=True)
class RetrievedChunk:
    chunk_id: str
    content: str
    source: str
    file_path: str


@dataclass
class Retrieval:
    mode: str
    chunks: list[RetrievedChunk] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    relations: list[dict[str, Any]] = field(default_factory=list)
    keywords: dict[str, list[str]] = field(default_factory=dict)


def _short(text: Any) -> str:
    text = str(text or "")
    return text if len(text) <= GRAPH_TEXT_KEPT else text[:GRAPH_TEXT_KEPT] + "…"


class KnowledgeBase:
    """One LightRAG working directory, opened on the first search and kept open."""

    def __init__(self, namespace: str, working_dir: str, embed: Embedder, embedding_dim: int,
                 embedding_model: str):
        if namespace not in kb_folder.KB_NAMESPACES:
            raise ValueError(f"unknown knowledge base {namespace!r}")
        self.namespace, self.working_dir = namespace, working_dir
        self._embed, self._dim, self._model = embed, embedding_dim, embedding_model
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rag = None
        self._dois: dict[str, str] = {}
        self.opened_version: str | None = None
        self._extract: KeywordExtractor | None = None
        self._hook_error: BaseException | None = None

    def check_directory(self) -> None:
        absent = kb_folder.missing_markers(self.working_dir)
        if not Path(self.working_dir).is_dir() or absent:
            raise KbError(f"knowledge base {self.namespace} at {self.working_dir} is missing or "
                          "incomplete", {"namespace": self.namespace,
                                         "working_dir": self.working_dir, "missing_files": absent})

    def _answer_keyword_prompt(self, prompt: str) -> str:
        """LightRAG's LLM, as this KB sees it: only ever asked for keywords, by our client."""
        if self._extract is None:
            raise RuntimeError("keyword extraction was not allowed for this search")
        try:
            return self._extract(prompt)
        except BaseException as exc:  # LightRAG may wrap it; remember it to re-raise as is
            self._hook_error = exc
            raise

    def _keyword_hook(self):
        """A plain closure (LightRAG deep-copies its config; a bound method would copy us)."""
        async def keyword_llm(prompt: str, *_args: Any, **_kwargs: Any) -> str:
            return self._answer_keyword_prompt(prompt)
        return keyword_llm

    def _open(self) -> None:
        mismatch = kb_folder.embedding_mismatch(self.working_dir, self._model, self._dim)
        if mismatch:
            raise KbError(f"knowledge base {self.namespace}: {mismatch}",
                          {"namespace": self.namespace})
        self._dois = kb_folder.document_sources(kb_folder.read_metadata(self.working_dir))
        self.opened_version = folder_version(self.working_dir)
        self._loop = asyncio.new_event_loop()
        try:
            self._rag = lightrag_workspace(self.working_dir, label=self.namespace,
                                           embed=self._embed, embedding_dim=self._dim,
                                           embedding_model=self._model, llm=self._keyword_hook(),
                                           version=self.opened_version)
            self._loop.run_until_complete(self._rag.initialize_storages())
        except Exception as exc:
            self.close()
            raise KbError(f"cannot open knowledge base {self.namespace}: {exc}",
                          {"namespace": self.namespace}) from exc

    def search(self, query: str, top_k: int, *, mode: str = DEFAULT_MODE,
               keywords: dict[str, list[str]] | None = None,
               extract_keywords: KeywordExtractor | None = None) -> Retrieval:
        from lightrag import QueryParam

        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        self.check_directory()
        if self._rag is None:
            self._open()
        keywords = keywords or {}
        param = QueryParam(mode=mode, top_k=top_k, chunk_top_k=top_k, enable_rerank=False,
                           hl_keywords=list(keywords.get("high_level") or []),
                           ll_keywords=list(keywords.get("low_level") or []))
        self._extract, self._hook_error = extract_keywords, None
        try:
            result = self._loop.run_until_complete(self._rag.aquery_data(query, param))
        except Exception as exc:
            if self._hook_error is not None:
                raise self._hook_error from None
            raise KbError(f"search in {self.namespace} failed: {exc}",
                          {"namespace": self.namespace}) from exc
        finally:
            self._extract = None
        if self._hook_error is not None:
            raise self._hook_error
        return self._retrieval(mode, result, top_k)

    def _retrieval(self, mode: str, result: dict, top_k: int) -> Retrieval:
        if result.get("status") != "success":  # e.g. nothing matched: an empty answer, not a failure
            log.debug("kb %s: no result (%s)", self.namespace, result.get("message"))
            return Retrieval(mode=mode)
        data, metadata = result.get("data") or {}, result.get("metadata") or {}
        chunks = [RetrievedChunk(chunk_id=c["chunk_id"], content=c["content"],
                                 file_path=c.get("file_path", ""),
                                 source=kb_folder.source_label(c.get("file_path", ""), self._dois))
                  for c in data.get("chunks", [])[:top_k]]
        entities = [{"name": e.get("entity_name"), "type": e.get("entity_type"),
                     "description": _short(e.get("description"))}
                    for e in data.get("entities", [])[:GRAPH_ITEMS_KEPT]]
        relations = [{"source": r.get("src_id"), "target": r.get("tgt_id"),
                      "keywords": _short(r.get("keywords")),
                      "description": _short(r.get("description"))}
                     for r in data.get("relationships", [])[:GRAPH_ITEMS_KEPT]]
        found = metadata.get("keywords") or {}
        return Retrieval(mode=mode, chunks=chunks, entities=entities, relations=relations,
                         keywords={"high_level": list(found.get("high_level") or []),
                                   "low_level": list(found.get("low_level") or [])})

    def similarity_scores(self, query: str, top_k: int) -> dict[str, float]:
        """chunk id -> cosine similarity of the vector search (for ``c2xc-kb search``)."""
        if self._rag is None:
            self._open()
        hits = self._loop.run_until_complete(self._rag.chunks_vdb.query(query, top_k=top_k))
        return {hit["id"]: round(float(hit.get("distance", 0.0)), 4) for hit in hits}

    def close(self) -> None:
        """Stop LightRAG's background tasks and the embedding client, then the loop."""
        loop = self._loop
        self._loop, self._rag, self.opened_version = None, None, None
        if loop is None:
            return
        aclose = getattr(self._embed, "aclose", None)
        if aclose is not None:
            loop.run_until_complete(aclose())
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
