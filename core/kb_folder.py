"""The knowledge-base folder format: what makes a directory a KB this service can search.

A KB is a LightRAG working directory plus our own ``c2xc_kb.json``, written
by ``c2xc-kb build``, recording what the directory was built with (embedding
model and dimension, chunk size, tokenizer) and every document (hash, DOI,
LightRAG doc id, status). This module is the one owner of that format: the
API's preflight, the worker's KB adapter, the builder, the CLI and both run
kinds read and write it only through the functions here.

It lives in ``core`` rather than ``worker/kb`` because the API checks KB
folders before it queues a normal run, and the API never imports the worker.
Opening a LightRAG object on a folder needs LightRAG itself and stays in
``worker/kb/workspace.py``.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.errors import KbError

# One name per knowledge base on every surface (API, events, CLI, configuration).
KB_NAMESPACES = ("kb_principles", "kb_modulation")
# How release 0.1.0 spelled them (``c2xc-kb build --kb`` and ``c2xc_kb.json``'s "kb").
LEGACY_KB_NAMES = {"principles": "kb_principles", "modulation": "kb_modulation"}
# The environment variable that points at each KB's working directory.
KB_DIR_VARIABLES = {"kb_principles": "LIGHTRAG_KB_PRINCIPLES_DIR",
                    "kb_modulation": "LIGHTRAG_KB_MODULATION_DIR"}
# Files LightRAG writes into every working directory it has built.
LIGHTRAG_MARKERS = ("kv_store_text_chunks.json", "vdb_chunks.json")
TEXT_CHUNKS_FILE = "kv_store_text_chunks.json"
GRAPH_FILE = "graph_chunk_entity_relation.graphml"
METADATA_FILE = "c2xc_kb.json"


def missing_markers(working_dir: str | Path) -> list[str]:
    directory = Path(working_dir)
    return [name for name in LIGHTRAG_MARKERS if not (directory / name).is_file()]


def read_metadata(working_dir: str | Path) -> dict[str, Any]:
    """``c2xc_kb.json`` as a dict ({} for a KB built by another tool); KbError if unreadable."""
    path = Path(working_dir) / METADATA_FILE
    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise KbError(f"{path} is unreadable: {exc}", {"path": str(path)}) from exc
    if not isinstance(value, dict):
        raise KbError(f"{path} does not hold a JSON object", {"path": str(path)})
    return value


def write_metadata(working_dir: str | Path, metadata: dict[str, Any]) -> None:
    """Replace ``c2xc_kb.json`` atomically: a crash never leaves half a file."""
    path = Path(working_dir) / METADATA_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(metadata, indent=1, sort_keys=True), encoding="utf-8")
    tmp.replace(path)


def embedding_mismatch(working_dir: str | Path, model: str, dim: int) -> str | None:
    """Why a KB built with another embedding cannot be searched with ours, if it was."""
    try:
        built = read_metadata(working_dir).get("embedding") or {}
    except KbError as exc:
        return exc.message
    if built and (built.get("model") != model or built.get("dim") != dim):
        return (f"{working_dir} was built with embedding model {built.get('model')!r} (dimension "
                f"{built.get('dim')}); configured: {model!r} (dimension {dim})")
    return None


def folder_problem(working_dir: str, model: str, dim: int) -> str | None:
    """What keeps ``working_dir`` from being searched with this embedding, or None."""
    if not working_dir:
        return "not configured"
    if not Path(working_dir).is_dir():
        return f"directory {working_dir} does not exist"
    absent = missing_markers(working_dir)
    if absent:
        return f"{working_dir} is not a LightRAG working directory (no {', '.join(absent)})"
    return embedding_mismatch(working_dir, model, dim)


def recorded_namespace(metadata: dict[str, Any]) -> str | None:
    """Which KB the builder said this folder is, in today's spelling."""
    name = metadata.get("kb")
    return LEGACY_KB_NAMES.get(name, name) if name else None


def folder_status(namespace: str, working_dir: str, model: str, dim: int) -> dict[str, Any]:
    """What an operator needs to know about a configured KB folder (no LightRAG needed)."""
    problem = folder_problem(working_dir, model, dim)
    status: dict[str, Any] = {"name": namespace, "variable": KB_DIR_VARIABLES[namespace],
                              "directory": working_dir, "ready": problem is None,
                              "problem": problem, "documents": None, "chunk_token_size": None,
                              "tokenizer": None, "embedding": None}
    if working_dir and Path(working_dir).is_dir():
        try:
            metadata = read_metadata(working_dir)
        except KbError:
            return status
        documents = metadata.get("documents") or {}
        status.update(documents=sum(1 for d in documents.values() if d.get("status") == "processed"),
                      chunk_token_size=metadata.get("chunk_token_size"),
                      tokenizer=metadata.get("tokenizer"), embedding=metadata.get("embedding"))
    return status


def document_sources(metadata: dict[str, Any]) -> dict[str, str]:

    """LightRAG file path -> DOI, for the documents the builder recorded one for."""
    return {path: entry["doi"] for path, entry in (metadata.get("sources") or {}).items()
            if isinstance(entry, dict) and entry.get("doi")}


def source_label(file_path: str, dois: dict[str, str]) -> str:
    """How a chunk is cited: its document's DOI if known, else the file name."""
    return dois.get(file_path) or Path(file_path).name or file_path
