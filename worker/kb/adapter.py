"""Search one LightRAG working directory and return citable chunks.

Retrieval only: ``aquery_data`` in ``naive`` mode (vector search over chunks)
returns LightRAG's own chunk ids, their text and their file path; no LLM is
asked to answer. The working directory is opened read-only in spirit — we
never insert, and never flush storages — and is checked on every search, so a
knowledge base that vanished after the preflight fails the run with a clear
``kb_error`` instead of a stack trace.

A document's *source* is its DOI when the knowledge-base builder recorded one
(:func:`core.kb_folder.source_label`), else its file name.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from core import kb_folder
from core.errors import KbError
from worker.kb.workspace import Embedder, lightrag_workspace

log = logging.getLogger("c2xc.worker")


@dataclass(frozen=True)
class RetrievedChunk:
    chunk_id: str
    content: str
    source: str
    file_path: str



class KnowledgeBase:
    """One LightRAG working directory, opened lazily on the first search."""

    def __init__(self, namespace: str, working_dir: str, embed: Embedder, embedding_dim: int,
                 embedding_model: str):
        if namespace not in kb_folder.KB_NAMESPACES:
            raise ValueError(f"unknown knowledge base {namespace!r}")
        self.namespace, self.working_dir = namespace, working_dir
        self._embed, self._dim, self._model = embed, embedding_dim, embedding_model
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rag = None
        self._dois: dict[str, str] = {}

    def check_directory(self) -> None:
        absent = kb_folder.missing_markers(self.working_dir)
        if not Path(self.working_dir).is_dir() or absent:
            raise KbError(f"knowledge base {self.namespace} at {self.working_dir} is missing or "
                          "incomplete", {"namespace": self.namespace,
                                         "working_dir": self.working_dir, "missing_files": absent})

    def _open(self) -> None:
        mismatch = kb_folder.embedding_mismatch(self.working_dir, self._model, self._dim)
        if mismatch:
            raise KbError(f"knowledge base {self.namespace}: {mismatch}",
                          {"namespace": self.namespace})
        self._dois = kb_folder.document_sources(kb_folder.read_metadata(self.working_dir))
        self._loop = asyncio.new_event_loop()
        try:
            self._rag = lightrag_workspace(self.working_dir, label=self.namespace,
                                           embed=self._embed, embedding_dim=self._dim,
                                           embedding_model=self._model)

            self._loop.run_until_complete(self._rag.initialize_storages())
        except Exception as exc:
            self.close()
            raise KbError(f"cannot open knowledge base {self.namespace}: {exc}",
                          {"namespace": self.namespace}) from exc

    def search(self, query: str, top_k: int) -> list[RetrievedChunk]:
        from lightrag import QueryParam

        self.check_directory()
        if self._rag is None:
            self._open()
        param = QueryParam(mode="naive", top_k=top_k, chunk_top_k=top_k, enable_rerank=False)
        try:
            result = self._loop.run_until_complete(self._rag.aquery_data(query, param))
        except KbError:
            raise
        except Exception as exc:
            raise KbError(f"search in {self.namespace} failed: {exc}",
                          {"namespace": self.namespace}) from exc
        if result.get("status") != "success":  # e.g. nothing matched: an empty answer, not a failure
            log.info("kb %s: no result for %r (%s)", self.namespace, query, result.get("message"))
            return []
        return [RetrievedChunk(chunk_id=c["chunk_id"], content=c["content"],
                               file_path=c.get("file_path", ""),
                               source=kb_folder.source_label(c.get("file_path", ""), self._dois))

                for c in result["data"].get("chunks", [])[:top_k]]

    def similarity_scores(self, query: str, top_k: int) -> dict[str, float]:
        """chunk id -> cosine similarity of the vector search (for ``c2xc-kb search``)."""
        if self._rag is None:
            self._open()
        hits = self._loop.run_until_complete(self._rag.chunks_vdb.query(query, top_k=top_k))
        return {hit["id"]: round(float(hit.get("distance", 0.0)), 4) for hit in hits}

    def close(self) -> None:
        """Stop LightRAG's background tasks and the embedding client, then the loop."""
        loop = self._loop
        self._loop, self._rag = None, None
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
