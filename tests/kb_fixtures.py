"""Build real LightRAG working directories from small documents the tests write.

Embeddings come from the fake OpenAI server (over loopback, the same path the
worker uses), so retrieval in tests exercises the real adapter end to end.
Entity extraction is answered with nothing: these tests need chunks, not a graph.
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

from lightrag import LightRAG
from lightrag.utils import EmbeddingFunc

from worker.kb.adapter import KB_METADATA_FILE
from worker.kb.tokenizer import local_tokenizer
from worker.llm.embeddings import openai_embedder


def build_kb(working_dir: Path, documents: dict[str, str], settings, dois: dict[str, str] | None = None) -> str:
    """documents: file name -> text. Returns the working directory."""
    async def no_extraction(*_args, **_kwargs) -> str:
        return ""

    async def build():
        embed = openai_embedder(settings)
        rag = LightRAG(working_dir=str(working_dir), llm_model_func=no_extraction,
                       tokenizer=local_tokenizer(),
                       embedding_func=EmbeddingFunc(embedding_dim=settings.embedding_dim,
                                                    func=embed,
                                                    max_token_size=8192,
                                                    model_name=settings.embedding_model))
        await rag.initialize_storages()
        await rag.ainsert(list(documents.values()), file_paths=list(documents))
        await rag.finalize_storages()
        await embed.aclose()

    working_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(build())
    metadata = {"embedding": {"model": settings.embedding_model, "dim": settings.embedding_dim},
                "sources": {name: {"doi": doi} for name, doi in (dois or {}).items()}}
    (working_dir / KB_METADATA_FILE).write_text(json.dumps(metadata))
    return str(working_dir)
