"""The append-only, strictly ordered trace of each run.

Metadata (type, time, size) and payloads are separate tables: listing a
trace reads only the small ``events`` rows, a payload is read only when asked
for. ``seq`` is the order; ``created_at`` is for display and time filters.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from core.errors import LeaseLost, NotFound
from store import dialect
from store.cursor import decode_cursor, page
from store.db import write_transaction
from store.ids import new_id
from store.records import Event

CURSOR_KIND = "events"


def encode_payload(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=str)


def insert_event(conn: sqlite3.Connection, run_id: str, event_type: str, payload: Any,
                 now: float) -> Event:
    """Append one event; the caller holds the write transaction."""
    encoded = encode_payload(payload)
    event_id = new_id("evt")
    size = len(encoded.encode("utf-8"))
    seq = conn.execute(
        "INSERT INTO events (event_id, run_id, created_at, event_type, payload_bytes)"
        " VALUES (?, ?, ?, ?, ?) RETURNING seq", (event_id, run_id, now, event_type, size)).fetchone()[0]
    conn.execute("INSERT INTO event_payloads (event_seq, payload_json) VALUES (?, ?)",
                 (seq, encoded))
    return Event(event_id=event_id, run_id=run_id, created_at=now, event_type=event_type,
                 payload_bytes=size, seq=seq)


def require_owner(conn: sqlite3.Connection, run_id: str, worker_id: str) -> None:
    """Inside a write transaction: the run must still be ``running`` and held by ``worker_id``.

    A worker that hung and lost its lease (its run was failed by another
    worker) must not add to a trace that has already ended. On PostgreSQL
    the run's row is held (FOR SHARE) until the append commits, so a
    reconciler cannot end the run between this check and the insert.
    """
    held = conn.execute(dialect.sql(conn, "owned_running_run"), (run_id, worker_id)).fetchone()
    if held is None:
        raise LeaseLost(f"run {run_id} is no longer held by worker {worker_id}",
                       {"run_id": run_id, "worker_id": worker_id})


def append_event(conn: sqlite3.Connection, run_id: str, event_type: str, payload: Any,
                 now: float, owner: str | None = None) -> Event:
    """Append one event in its own transaction (durable once this returns).

    With ``owner``, the append happens only while that worker still holds the run.
    """
    with write_transaction(conn):
        if owner is not None:
            require_owner(conn, run_id, owner)
        return insert_event(conn, run_id, event_type, payload, now)


def append_events(conn: sqlite3.Connection, run_id: str,
                  events: Iterable[tuple[str, Any]], now: float) -> list[Event]:
    """Append several events of one step in a single transaction."""
    with write_transaction(conn):
        return [insert_event(conn, run_id, kind, payload, now) for kind, payload in events]


def _event_from_row(row: sqlite3.Row, with_payload: bool) -> Event:
    return Event(event_id=row["event_id"], run_id=row["run_id"], created_at=row["created_at"],
                 event_type=row["event_type"], payload_bytes=row["payload_bytes"],
                 seq=row["seq"],
                 payload=json.loads(row["payload_json"]) if with_payload else None)


def list_events(conn: sqlite3.Connection, run_id: str, *, limit: int, cursor: str | None,
                event_types: Sequence[str] = (), since: float | None = None,
                until: float | None = None, include_payload: bool = False
                ) -> tuple[list[Event], str | None, bool]:
    """Oldest first. ``since`` is inclusive, ``until`` exclusive (epoch seconds)."""
    clauses, params = ["e.run_id = ?"], [run_id]
    if cursor:
        clauses.append("e.seq > ?")
        params.append(decode_cursor(CURSOR_KIND, cursor))
    if event_types:
        clauses.append(f"e.event_type IN ({','.join('?' * len(event_types))})")
        params.extend(event_types)
    if since is not None:
        clauses.append("e.created_at >= ?")
        params.append(since)
    if until is not None:
        clauses.append("e.created_at < ?")
        params.append(until)
    columns = "e.*"
    join = ""
    if include_payload:
        columns = "e.*, p.payload_json"
        join = "JOIN event_payloads p ON p.event_seq = e.seq"
    rows = conn.execute(
        f"SELECT {columns} FROM events e {join} WHERE {' AND '.join(clauses)}"
        " ORDER BY e.seq LIMIT ?", (*params, limit + 1)).fetchall()
    items, next_cursor, has_more = page(rows, limit, CURSOR_KIND, lambda row: row["seq"])
    return [_event_from_row(row, include_payload) for row in items], next_cursor, has_more


def iter_events(conn: sqlite3.Connection, run_id: str, event_types: Sequence[str],
                page_size: int = 500) -> Iterator[Event]:
    """Every event of these types, with payload, oldest first, read a page at a time."""
    cursor = None
    while True:
        items, cursor, has_more = list_events(conn, run_id, limit=page_size, cursor=cursor,
                                              event_types=event_types, include_payload=True)
        yield from items
        if not has_more:
            return


def last_seq(conn: sqlite3.Connection, run_id: str) -> int:
    """The order key of the run's newest event (0 if it has none)."""
    row = conn.execute("SELECT MAX(seq) FROM events WHERE run_id = ?", (run_id,)).fetchone()
    return row[0] or 0


def get_event(conn: sqlite3.Connection, run_id: str, event_id: str) -> Event:

    row = conn.execute(
        "SELECT e.*, p.payload_json FROM events e JOIN event_payloads p ON p.event_seq = e.seq"
        " WHERE e.event_id = ? AND e.run_id = ?", (event_id, run_id)).fetchone()
    if row is None:
        raise NotFound(f"event {event_id!r} does not exist in run {run_id!r}",
                       {"run_id": run_id, "event_id": event_id})
    return _event_from_row(row, with_payload=True)
