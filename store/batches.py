"""Batches: creation (with all their runs, atomically), listing and detail.

``insert_batch`` must run inside a write transaction owned by the caller so
that a batch, its runs and its idempotency record land together or not at
all; ``refresh_batch_status`` is how the worker keeps the stored roll-up true.
"""
from __future__ import annotations

import json
import sqlite3
from typing import Any

from core.errors import NotFound
from store import dialect
from store import status as st
from store.cursor import decode_cursor, page, where
from store.ids import new_id
from store.records import Batch
from store.wakeups import announce_work

CURSOR_KIND = "batches"
SCHEMA_VERSION = 1


def insert_batch(conn: sqlite3.Connection, *, user_request: str, n_runs: int,
                 recipes_per_run: int, temperature: float, dry_run: bool,
                 config_snapshot: dict[str, Any], extra: dict[str, Any], now: float
                 ) -> tuple[Batch, list[tuple[str, int]]]:
    """Insert a batch and its ``n_runs`` queued runs; return the batch and (run_id, index) pairs."""
    batch_id = new_id("batch")
    conn.execute(
        "INSERT INTO batches (batch_id, created_at, status, user_request, n_runs, recipes_per_run,"
        " temperature, dry_run, config_snapshot_json, schema_version, extra_json)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (batch_id, now, st.QUEUED, user_request, n_runs, recipes_per_run, temperature,
         int(dry_run), json.dumps(config_snapshot), SCHEMA_VERSION, json.dumps(extra)),
    )
    runs = [(new_id("run"), index) for index in range(n_runs)]
    conn.executemany(
        "INSERT INTO runs (run_id, batch_id, run_index, status, created_at) VALUES (?, ?, ?, ?, ?)",
        [(run_id, batch_id, index, st.QUEUED, now) for run_id, index in runs],
    )
    announce_work(conn, "batch")
    batch = Batch(batch_id=batch_id, created_at=now, status=st.QUEUED, user_request=user_request,
                  n_runs=n_runs, recipes_per_run=recipes_per_run, temperature=temperature,
                  dry_run=dry_run, config_snapshot=config_snapshot,
                  schema_version=SCHEMA_VERSION, extra=extra, run_counts={st.QUEUED: n_runs})
    return batch, runs


def run_counts(conn: sqlite3.Connection, batch_id: str) -> dict[str, int]:
    rows = conn.execute(
        "SELECT status, COUNT(*) AS n FROM runs WHERE batch_id = ? GROUP BY status", (batch_id,))
    return {row["status"]: row["n"] for row in rows}


def refresh_batch_status(conn: sqlite3.Connection, batch_id: str) -> str:
    """Recompute and store a batch's status from its runs (call inside the run's transaction).

    Under the batch's row lock on PostgreSQL: two workers ending the batch's
    last two runs at once would each count the other's run as still running
    and leave the batch ``running`` forever; with the lock, the second counts
    after the first has committed (READ COMMITTED reads anew per statement).
    """
    dialect.lock(conn, "lock_batch", batch_id)
    new_status = st.rollup_batch_status(run_counts(conn, batch_id))
    conn.execute("UPDATE batches SET status = ? WHERE batch_id = ? AND status != ?",
                 (new_status, batch_id, new_status))
    return new_status


def get_batch(conn: sqlite3.Connection, batch_id: str) -> Batch:
    row = conn.execute("SELECT * FROM batches WHERE batch_id = ?", (batch_id,)).fetchone()
    if row is None:
        raise NotFound(f"batch {batch_id!r} does not exist", {"batch_id": batch_id})
    return Batch.from_row(row, run_counts(conn, batch_id))


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


TRIGRAM = 3  # the shortest text the trigram index can find


def _phrase(text: str) -> str:
    """An FTS5 phrase matching ``text`` literally (quotes doubled: no query syntax leaks in)."""
    return '"' + text.replace('"', '""') + '"'


def list_batches(conn: sqlite3.Connection, *, status: str | None, q: str | None,
                 limit: int, cursor: str | None) -> tuple[list[Batch], str | None, bool]:
    """Newest first; ``q`` is a case-insensitive substring of ``user_request``: of three or more
    characters, found in the trigram index (v10); shorter, by walking the requests."""
    indexed = q is not None and len(q) >= TRIGRAM
    fts = indexed and not dialect.is_postgres(conn)  # pg_trgm indexes the ILIKE itself
    clause, params = where([
        ("seq < ?", decode_cursor(CURSOR_KIND, cursor) if cursor else None),
        (dialect.equals(conn, "status", use_index=not indexed), status),  # the search's index leads
        (dialect.sql(conn, "batch_search_indexed"),
         (_phrase(q) if fts else _like_pattern(q)) if indexed else None),
        (dialect.sql(conn, "batch_search_walk"), _like_pattern(q) if q and not indexed else None),
    ])
    rows = conn.execute(f"SELECT * FROM batches {clause} ORDER BY seq DESC LIMIT ?",
                        (*params, limit + 1)).fetchall()
    items, next_cursor, has_more = page(rows, limit, CURSOR_KIND, lambda row: row["seq"])
    return [Batch.from_row(row) for row in items], next_cursor, has_more
