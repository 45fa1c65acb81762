"""Rebuild memory vectors after the embedder changed (``c2xc-admin reembed-memories``).

Vectors are derived data: the text is the truth. Items whose vector is
missing or stamped with another embedder are left out of retrieval (never
ranked in a mixed geometry) until this command embeds them again with the
configured endpoint, a page at a time; each page's vectors are written in one
short transaction and bump the bank's generation, so running processes pick
them up. Safe to interrupt and to repeat.
"""
from __future__ import annotations

import sqlite3

from core.embedding import Embedder
from store.db import write_transaction
from store.memory_items import bump_generation, encode_vector

PAGE = 64


def stale_items(conn: sqlite3.Connection, stamp: str, after: int) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT m.seq, m.memory_id, m.title, m.content FROM memory_items m LEFT JOIN memory_vectors v"
        " ON v.memory_id = m.memory_id WHERE m.status = 'active' AND m.seq > ?"
        " AND (v.embedder IS NULL OR v.embedder != ?) ORDER BY m.seq LIMIT ?",
        (after, stamp, PAGE)).fetchall()


def reembed(conn: sqlite3.Connection, embedder: Embedder) -> dict:
    done, after = 0, 0
    while rows := stale_items(conn, embedder.stamp, after):
        vectors = embedder.embed([f"{r['title']}\n{r['content']}" for r in rows])
        with write_transaction(conn):
            conn.executemany(
                "INSERT INTO memory_vectors (memory_id, embedder, dim, vector) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (memory_id) DO UPDATE SET embedder = excluded.embedder,"
                " dim = excluded.dim, vector = excluded.vector",
                [(r["memory_id"], embedder.stamp, embedder.dim, encode_vector(v))
                 for r, v in zip(rows, vectors)])
            bump_generation(conn)
        done += len(rows)
        after = rows[-1]["seq"]
    return {"embedder": embedder.stamp, "reembedded": done}
