"""Embeddings over an OpenAI-compatible ``/embeddings`` endpoint, for LightRAG retrieval.

The dimension the endpoint returns is checked against the configured one: a
knowledge base searched with another embedding model returns garbage
neighbours, so a mismatch fails the run with ``kb_error`` instead.
"""
from __future__ import annotations

import numpy as np
import openai

from core.errors import KbError
from core.settings import RunSettings
from worker.llm.retry import describe


class OpenAIEmbedder:
    """An async ``texts -> array[len(texts), dim]`` callable; its HTTP client lives on the
    event loop of its first call, and ``aclose`` must run on that same loop."""

    def __init__(self, settings: RunSettings):
        self.settings = settings
        self._client: openai.AsyncOpenAI | None = None

    async def __call__(self, texts: list[str], **_ignored) -> np.ndarray:
        s = self.settings
        if self._client is None:
            self._client = openai.AsyncOpenAI(base_url=s.embedding_base_url, api_key=s.api_key,
                                              timeout=s.llm_timeout_s, max_retries=2)
        try:
            response = await self._client.embeddings.create(model=s.embedding_model, input=texts)
        except openai.APIError as exc:
            raise KbError(f"embedding endpoint failed: {describe(exc)}") from exc
        vectors = np.array([item.embedding for item in response.data], dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != s.embedding_dim:
            raise KbError(f"embedding model {s.embedding_model} returned dimension "
                          f"{vectors.shape[-1]}, configured C2XC_EMBEDDING_DIM={s.embedding_dim}")

        return vectors

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


def openai_embedder(settings: RunSettings) -> OpenAIEmbedder:
    return OpenAIEmbedder(settings)
