"""Text -> vectors over the configured OpenAI-compatible ``/embeddings`` endpoint, for memory.

Both processes embed memory text: the worker when it learns and when a node
retrieves memories for its task, the API when a chemist writes a note or
searches the bank. Knowledge-base retrieval has its own async embedder inside
LightRAG; this is the same endpoint and model (one embedder per service, so
one geometry), called synchronously.

An endpoint that fails or answers in another dimension raises
``DependencyUnavailable``: no memory is ever stored without its vector, and
no vector of the wrong geometry is ever stored.
"""
from __future__ import annotations

import numpy as np
import openai

from core.errors import DependencyUnavailable
from core.settings import RunSettings

MAX_TEXTS_PER_CALL = 64


class Embedder:
    """``embed(texts) -> float32 array [len(texts), dim]``; ``stamp`` names its geometry."""

    def __init__(self, settings: RunSettings, timeout_s: float | None = None):
        self.settings = settings
        self.stamp = settings.embedder_stamp
        self.dim = settings.embedding_dim
        self._client: openai.OpenAI | None = None
        self._timeout_s = timeout_s or min(settings.llm_timeout_s, 30.0)

    def _missing(self) -> str | None:
        s = self.settings
        if not s.embedding_model:
            return "C2XC_EMBEDDING_MODEL is not set"
        if not s.api_key:
            return f"{s.llm_api_key_env} is not set (the embedding endpoint needs it)"
        return None

    def available(self) -> bool:
        return self._missing() is None

    def embed(self, texts: list[str]) -> np.ndarray:
        missing = self._missing()
        if missing:
            raise DependencyUnavailable(f"no usable embedding endpoint for memory: {missing}",
                                        {"missing": ["embedding_endpoint"], "reason": missing})
        if self._client is None:
            self._client = openai.OpenAI(base_url=self.settings.embedding_base_url,
                                         api_key=self.settings.api_key, timeout=self._timeout_s,
                                         max_retries=2)
        rows: list[list[float]] = []
        for start in range(0, len(texts), MAX_TEXTS_PER_CALL):
            chunk = texts[start:start + MAX_TEXTS_PER_CALL]
            try:
                response = self._client.embeddings.create(model=self.settings.embedding_model,
                                                          input=chunk)
            except openai.OpenAIError as exc:
                raise DependencyUnavailable(
                    f"the embedding endpoint failed: {type(exc).__name__}: {str(exc)[:300]}",
                    {"missing": ["embedding_endpoint"]}) from exc
            rows += [item.embedding for item in sorted(response.data, key=lambda d: d.index)]
        vectors = np.asarray(rows, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape != (len(texts), self.dim):
            raise DependencyUnavailable(
                f"embedding model {self.settings.embedding_model} answered shape "
                f"{tuple(vectors.shape)}, expected ({len(texts)}, {self.dim}) "
                "(C2XC_EMBEDDING_DIM)", {"missing": ["embedding_endpoint"]})
        return vectors

    def embed_one(self, text: str) -> np.ndarray:
        return self.embed([text])[0]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
