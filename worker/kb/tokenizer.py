"""A local tokenizer for LightRAG, so nothing is downloaded at run time.

LightRAG's default tokenizer is tiktoken, which fetches its BPE files from
the internet on first use — impossible on an offline lab workstation. We
count a token per word (with its trailing space) instead: close enough to BPE
counts for LightRAG's chunk sizes and context budgets, deterministic, and
with no data files. The vocabulary grows with the words seen (bounded in
practice by the knowledge bases' vocabulary).
"""
from __future__ import annotations

import re
import threading

from lightrag.utils import Tokenizer

_PIECE = re.compile(r"\S+\s*|\s+")
TOKENIZER_NAME = "c2xc-word-pieces"


class WordPieces:
    """encode/decode over word pieces; safe to share across threads, as LightRAG requires."""

    def __init__(self):
        self._ids: dict[str, int] = {}
        self._pieces: list[str] = []
        self._lock = threading.Lock()

    def encode(self, content: str, **_ignored) -> list[int]:
        ids = []
        for piece in _PIECE.findall(content):
            token = self._ids.get(piece)
            if token is None:
                with self._lock:
                    token = self._ids.setdefault(piece, len(self._pieces))
                    if token == len(self._pieces):
                        self._pieces.append(piece)
            ids.append(token)
        return ids

    def decode(self, tokens: list[int]) -> str:
        return "".join(self._pieces[t] for t in tokens)

    def __deepcopy__(self, memo):  # LightRAG deep-copies its config; share the one instance
        return self


def local_tokenizer() -> Tokenizer:
    return Tokenizer(TOKENIZER_NAME, WordPieces())

