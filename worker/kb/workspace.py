"""Opening a LightRAG object on a knowledge-base folder, the same way for search and for build.

The folder format itself (markers, ``c2xc_kb.json``) is :mod:`core.kb_folder`;
this module adds what needs LightRAG: the tokenizer, the embedding function
and the LLM hook it is built with. Building and searching must agree on all
three, or a KB returns nonsense; keeping them in one function is how they agree.
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable

import numpy as np

from worker.kb.tokenizer import local_tokenizer

Embedder = Callable[[list[str]], Awaitable[np.ndarray]]
LlmHook = Callable[..., Awaitable[str]]
MAX_EMBEDDING_TOKENS = 8192


async def refuse_llm(*_args: Any, **_kwargs: Any) -> str:
    """The LLM hook of a search-only workspace: retrieval must never ask LightRAG's LLM."""
    raise RuntimeError("this knowledge-base workspace is opened for retrieval only")


def lightrag_workspace(working_dir: str, *, embed: Embedder, embedding_dim: int,
                       embedding_model: str, llm: LlmHook = refuse_llm,
                       chunk_tokens: int | None = None):
    """A LightRAG instance on ``working_dir`` (call ``await initialize_storages()`` next)."""
    from lightrag import LightRAG
    from lightrag.utils import EmbeddingFunc

    options: dict[str, Any] = {}
    if chunk_tokens is not None:
        options["chunk_token_size"] = chunk_tokens
    return LightRAG(working_dir=working_dir, llm_model_func=llm, tokenizer=local_tokenizer(),
                    embedding_func=EmbeddingFunc(embedding_dim=embedding_dim, func=embed,
                                                 max_token_size=MAX_EMBEDDING_TOKENS,
                                                 model_name=embedding_model),
                    **options)
