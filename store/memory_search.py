"""Exact similarity search over the active memories, with a per-process cache of the vectors.

At lab scale (thousands of memories) an exact scan is a matrix-vector product
that takes well under a millisecond once the vectors are in memory; reading
them from SQLite is the cost. So a process keeps the matrix and reloads it
only when the bank's generation counter (bumped by every committed change,
:func:`store.memory_items.bump_generation`) or the embedder changes. A search
therefore always sees the last committed bank.

Ranking is by cosine similarity (vectors are stored normalised), ties broken
by age (older first), so the same bank and query always give the same list.
"""
from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass

import numpy as np

from store.db import read_transaction
from store.memory_items import generation, searchable


@dataclass(frozen=True)
class Hit:
    memory_id: str
    role: str
    score: float


class MemoryIndex:
    def __init__(self):
        self._lock = threading.Lock()
        self._key: tuple | None = None
        self._ids: list[str] = []
        self._roles = np.zeros(0, dtype=object)
        self._matrix = np.zeros((0, 0), dtype=np.float32)

    def _refresh(self, conn: sqlite3.Connection, embedder: str, dim: int) -> None:
        with read_transaction(conn):
            key = (generation(conn), embedder, dim)
            if key == self._key:
                return
            ids, roles, _, matrix = searchable(conn, embedder, dim)
        self._ids, self._roles, self._matrix, self._key = ids, np.array(roles, dtype=object), matrix, key

    def size(self, conn: sqlite3.Connection, embedder: str, dim: int) -> int:
        with self._lock:
            self._refresh(conn, embedder, dim)
            return len(self._ids)

    def search(self, conn: sqlite3.Connection, query: np.ndarray, *, embedder: str, dim: int,
               k: int, roles: tuple[str, ...] | None = None,
               exclude: set[str] | frozenset[str] = frozenset()) -> list[Hit]:
        """The ``k`` best active memories (of ``roles``, if given), best first."""
        with self._lock:
            self._refresh(conn, embedder, dim)
            ids, item_roles, matrix = self._ids, self._roles, self._matrix
        if not ids or k <= 0:
            return []
        vector = np.asarray(query, dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(vector))
        scores = matrix @ (vector / norm if norm else vector)
        allowed = np.ones(len(ids), dtype=bool)
        if roles is not None:
            allowed &= np.isin(item_roles, list(roles))
        if exclude:
            allowed &= ~np.isin(np.array(ids, dtype=object), list(exclude))
        candidates = np.flatnonzero(allowed)
        if candidates.size == 0:
            return []
        # stable sort on -score keeps load order (oldest first) among equal scores
        order = candidates[np.argsort(-scores[candidates], kind="stable")][:k]
        return [Hit(ids[i], str(item_roles[i]), round(float(scores[i]), 6)) for i in order]
