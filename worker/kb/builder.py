"""Build or update a LightRAG working directory from a folder of documents.

Offline tool, run by the user before the service (``c2xc-kb build``). It uses
the same tokenizer and embedding configuration as the worker's retrieval, and
records in ``c2xc_kb.json`` what it built with (embedding model and
dimension, chunk size) and every document (hash, DOI, LightRAG doc id,
status) so that:

* a rebuild adds only new or changed documents (a changed one is deleted and
  re-inserted, never duplicated);
* a document that fails is reported and recorded, and the others' work is
  kept (the metadata is saved after every document);
* the service can cite DOIs and refuse an embedding mismatch.
"""
from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import openai

from core import kb_folder
from core.settings import RunSettings
from worker.kb.documents import SourceDocument, find_documents, read_document
from worker.kb.tokenizer import TOKENIZER_NAME
from worker.kb.workspace import lightrag_workspace
from worker.llm.embeddings import openai_embedder

Progress = Callable[[int, int, int, float, str], None]  # done, total, chunks, elapsed, current


@dataclass
class BuildReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    chunks: int = 0


def extraction_llm(settings: RunSettings):
    """LightRAG's LLM hook (entity/relation extraction) over our configured endpoint."""
    client: openai.AsyncOpenAI | None = None

    async def complete(prompt, system_prompt=None, history_messages=None, **_kwargs) -> str:
        nonlocal client
        if client is None:
            client = openai.AsyncOpenAI(base_url=settings.llm_base_url, api_key=settings.api_key,
                                        timeout=settings.llm_timeout_s,
                                        max_retries=settings.llm_max_retries)
        messages = ([{"role": "system", "content": system_prompt}] if system_prompt else [])
        messages += list(history_messages or []) + [{"role": "user", "content": prompt}]
        response = await client.chat.completions.create(model=settings.llm_model,
                                                        messages=messages, temperature=0)
        return response.choices[0].message.content or ""

    return complete


def _doc_id(document: SourceDocument) -> str:
    return f"doc-{hashlib.md5(document.rel_path.encode()).hexdigest()[:16]}-{document.sha256[:16]}"


async def _build(source: Path, working_dir: Path, kb: str, settings: RunSettings,
                 chunk_tokens: int, progress: Progress) -> BuildReport:
    metadata = kb_folder.read_metadata(working_dir)
    built = metadata.get("embedding")
    wanted = {"model": settings.embedding_model, "dim": settings.embedding_dim}
    if built and built != wanted:
        raise ValueError(f"{working_dir} was built with embedding {built}; configured {wanted}. "
                         "Use a new --out directory or the original embedding model.")
    documents_meta: dict = metadata.setdefault("documents", {})
    metadata.update(kb=kb, chunk_token_size=chunk_tokens, tokenizer=TOKENIZER_NAME)
    embed = openai_embedder(settings)
    rag = lightrag_workspace(str(working_dir), label=kb, embed=embed,
                             embedding_dim=settings.embedding_dim,
                             embedding_model=settings.embedding_model,
                             llm=extraction_llm(settings), chunk_tokens=chunk_tokens,
                             version=f"build{uuid.uuid4().hex[:8]}", enable_llm_cache=True)
    await rag.initialize_storages()
    report, started = BuildReport(), time.monotonic()
    paths = find_documents(source)
    try:
        for done, path in enumerate(paths):
            progress(done, len(paths), report.chunks, time.monotonic() - started, path.name)
            try:
                document = read_document(source, path)
            except (OSError, UnicodeDecodeError) as exc:
                report.failed[path.relative_to(source).as_posix()] = f"unreadable: {exc}"
                continue
            await _ingest(rag, document, documents_meta, report)
            metadata["sources"] = {p: {"doi": m.get("doi")} for p, m in documents_meta.items()
                                   if m.get("doi")}
            _record_embedding(metadata, documents_meta, wanted)
            kb_folder.write_metadata(working_dir, metadata)
        progress(len(paths), len(paths), report.chunks, time.monotonic() - started, "")
    finally:
        await rag.finalize_storages()
        await embed.aclose()
    metadata["built_at"] = time.time()
    _record_embedding(metadata, documents_meta, wanted)
    kb_folder.write_metadata(working_dir, metadata)

    return report


def _record_embedding(metadata: dict, documents_meta: dict, wanted: dict) -> None:
    """The folder is bound to an embedding only once a document was stored with it: a build
    that stored nothing (no key, endpoint down) must not refuse the next one's embedding."""
    if any(m.get("status") == "processed" for m in documents_meta.values()):
        metadata["embedding"] = wanted


async def _ingest(rag, document: SourceDocument, documents_meta: dict, report: BuildReport) -> None:
    previous = documents_meta.get(document.rel_path)
    if previous and previous.get("sha256") == document.sha256 and previous.get("status") == "processed":
        report.unchanged.append(document.rel_path)
        return
    if not document.text:
        report.failed[document.rel_path] = "empty document"
        return
    if previous and previous.get("doc_id"):
        await rag.adelete_by_doc_id(previous["doc_id"])
    doc_id = _doc_id(document)
    try:
        await rag.ainsert(document.text, ids=[doc_id], file_paths=[document.rel_path])
        status = await rag.doc_status.get_by_id(doc_id) or {}
    except Exception as exc:  # one document's failure must not lose the others
        status = {"status": "failed", "error_msg": f"{type(exc).__name__}: {exc}"}
    state = str(status.get("status", "failed")).split(".")[-1].lower()
    chunks = int(status.get("chunks_count") or 0)
    documents_meta[document.rel_path] = {"sha256": document.sha256, "doi": document.doi,
                                         "doc_id": doc_id, "status": state, "chunks": chunks,
                                         "error": status.get("error_msg")}
    if state != "processed":
        report.failed[document.rel_path] = status.get("error_msg") or state
        return
    report.chunks += chunks
    (report.updated if previous else report.added).append(document.rel_path)


def build(source: Path, working_dir: Path, kb: str, settings: RunSettings, *,
          chunk_tokens: int = 512, progress: Progress = lambda *_: None) -> BuildReport:
    if kb not in kb_folder.KB_NAMESPACES:
        raise ValueError(f"kb must be one of {', '.join(kb_folder.KB_NAMESPACES)}")

    working_dir.mkdir(parents=True, exist_ok=True)
    return asyncio.run(_build(source, working_dir, kb, settings, chunk_tokens, progress))
