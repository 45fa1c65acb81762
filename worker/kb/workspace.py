"""Opening a LightRAG object on a knowledge-base folder, the same way for search and for build.

The folder format itself (markers, ``c2xc_kb.json``) is :mod:`core.kb_folder`;
this module adds what needs LightRAG: the tokenizer, the embedding function
and the LLM hook it is built with. Building and searching must agree on all
three, or a KB returns nonsense; keeping them in one function is how they agree.

**One process, several KBs.** LightRAG keeps each storage's data in
process-wide dictionaries keyed by *workspace* and namespace
(``text_chunks``, ``full_docs``, the graph, …). Two KBs opened with the
default empty workspace in one process therefore share those dictionaries:
the second sees — and a build writes — the first one's chunks. Every folder
we open gets a workspace name of its own (its KB name, a hash of its real
path and of its files' modification times), reached through a symlink in a
private directory, because LightRAG puts a workspace's files under
``working_dir/<workspace>``. The files stay exactly where the builder wrote
them; only the in-process keys differ. A folder rebuilt on disk gets a new
name and is read afresh.
"""
from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, Awaitable, Callable

import numpy as np

from core import kb_folder
from worker.kb.tokenizer import local_tokenizer
from worker.logs import quiet_libraries

Embedder = Callable[[list[str]], Awaitable[np.ndarray]]
LlmHook = Callable[..., Awaitable[str]]
MAX_EMBEDDING_TOKENS = 8192

_links_lock = threading.Lock()
_links_root: Path | None = None


async def refuse_llm(*_args: Any, **_kwargs: Any) -> str:
    """The LLM hook of a search-only workspace without keyword extraction."""
    raise RuntimeError("this knowledge-base workspace is opened for retrieval only")


def folder_version(working_dir: str | Path) -> str:
    """Changes whenever the builder rewrites the folder (modification times of its files)."""
    directory = Path(working_dir)
    stamps = []
    for name in (*kb_folder.LIGHTRAG_MARKERS, kb_folder.METADATA_FILE, kb_folder.GRAPH_FILE):
        try:
            stat = (directory / name).stat()
        except OSError:
            continue
        stamps.append(f"{name}:{stat.st_mtime_ns}:{stat.st_size}")
    return hashlib.sha256("|".join(stamps).encode()).hexdigest()[:12]


def _links() -> Path:
    global _links_root
    with _links_lock:
        if _links_root is None:
            _links_root = Path(tempfile.mkdtemp(prefix="c2xc-kb-workspaces-"))
            atexit.register(shutil.rmtree, _links_root, True)  # removes the links, never targets
        return _links_root


def workspace_name(working_dir: str | Path, label: str, version: str) -> str:
    real = os.path.realpath(working_dir)
    return f"{label}_{hashlib.sha256(real.encode()).hexdigest()[:10]}_{version}"


def _linked_root(working_dir: str | Path, workspace: str) -> str:
    """A directory whose entry ``workspace`` is ``working_dir``: what LightRAG is given."""
    root = _links()
    link = root / workspace
    with _links_lock:
        if not link.is_symlink():
            link.symlink_to(os.path.realpath(working_dir), target_is_directory=True)
    return str(root)


def lightrag_workspace(working_dir: str, *, label: str, embed: Embedder, embedding_dim: int,
                       embedding_model: str, llm: LlmHook = refuse_llm,
                       chunk_tokens: int | None = None, version: str | None = None,
                       enable_llm_cache: bool = False):
    """A LightRAG instance on ``working_dir`` with storage of its own in this process.

    Call ``await initialize_storages()`` next. ``version`` defaults to the
    folder's current :func:`folder_version`; the builder passes a fresh one
    so that it always starts from what is on disk.
    """
    from lightrag import LightRAG
    from lightrag.utils import EmbeddingFunc

    quiet_libraries()  # importing LightRAG set its logger back to INFO
    Path(working_dir).mkdir(parents=True, exist_ok=True)
    workspace = workspace_name(working_dir, label, version or folder_version(working_dir))
    options: dict[str, Any] = {}
    if chunk_tokens is not None:
        options["chunk_token_size"] = chunk_tokens
    return LightRAG(working_dir=_linked_root(working_dir, workspace), workspace=workspace,
                    llm_model_func=llm, tokenizer=local_tokenizer(),
                    enable_llm_cache=enable_llm_cache,
                    embedding_func=EmbeddingFunc(embedding_dim=embedding_dim, func=embed,
                                                 max_token_size=MAX_EMBEDDING_TOKENS,
                                                 model_name=embedding_model),
                    **options)
