"""Rebuild memory vectors after the embedder changed (``c2xc-admin reembed-memories``).

Vectors are derived data: the text is the truth. Items whose vector is
missing or stamped with another embedder are left out of retrieval (never
ranked in a mixed geometry) until this command embeds them again with the
configured endpoint, a page at a time; each page's vectors are written in one
short transaction and bump the bank's generation, so running processes pick
them up. Safe to interrupt and to repeat.

It is maintenance, not a change to what the bank says: no delta is written
(the text is untouched). The embedding call happens outside any transaction;
the write then takes the bank's lock — the one every delta, rollback and edit
takes — and writes a vector only for an item that is still active, still
stale and still has the text that was embedded. An edit or a rollback that
came in between wrote its own state (and vector) and wins; the next pass
picks up whatever is stale then.
"""
from __future__ import annotations

import sqlite3

from core.embedding import Embedder
from store import dialect
from store.db import write_transaction
from store.memory_items import bump_generation, encode_vector

PAGE = 64


def stale_items(conn: sqlite3.Connection, stamp: str, after: int) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT m.seq, m.memory_id, m.title, m.content FROM memory_items m LEFT JOIN memory_vectors v"
        " ON v.memory_id = m.memory_id WHERE m.status = 'active' AND m.seq > ?"
        " AND (v.embedder IS NULL OR v.embedder != ?) ORDER BY m.seq LIMIT ?",
        (after, stamp, PAGE)).fetchall()


def _still_as_embedded(conn: sqlite3.Connection, rows: list[sqlite3.Row], stamp: str) -> set[str]:
    """Ids of the rows that are, under the lock, exactly what was embedded and still stale."""
    now = {r["memory_id"]: r for r in conn.execute(
        "SELECT m.memory_id, m.status, m.title, m.content, v.embedder FROM memory_items m"
        f" LEFT JOIN memory_vectors v ON v.memory_id = m.memory_id WHERE m.memory_id IN"
        f" ({','.join('?' * len(rows))})", [r["memory_id"] for r in rows])}
    return {r["memory_id"] for r in rows
            if (found := now.get(r["memory_id"])) is not None and found["status"] == "active"
            and (found["title"], found["content"]) == (r["title"], r["content"])
            and found["embedder"] != stamp}


def reembed(conn: sqlite3.Connection, embedder: Embedder) -> dict:
    done, skipped, after = 0, 0, 0
    while rows := stale_items(conn, embedder.stamp, after):
        vectors = embedder.embed([f"{r['title']}\n{r['content']}" for r in rows])
        with write_transaction(conn):
            dialect.lock(conn, "lock_memory_bank")  # no delta, rollback or edit in between
            keep = _still_as_embedded(conn, rows, embedder.stamp)
            conn.executemany(
                "INSERT INTO memory_vectors (memory_id, embedder, dim, vector) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (memory_id) DO UPDATE SET embedder = excluded.embedder,"
                " dim = excluded.dim, vector = excluded.vector",
                [(r["memory_id"], embedder.stamp, embedder.dim, encode_vector(v))
                 for r, v in zip(rows, vectors) if r["memory_id"] in keep])
            bump_generation(conn)
        done += len(keep)
        skipped += len(rows) - len(keep)
        after = rows[-1]["seq"]
    return {"embedder": embedder.stamp, "reembedded": done, "changed_meanwhile": skipped}
