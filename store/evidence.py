"""The evidence registry: every chunk a run retrieved, by its alias (C1, C2, …).

Written by the worker in the same transaction as the ``kb_query`` event that
announced the chunks, read by the evidence endpoints and by citation checks.
"""
from __future__ import annotations

import sqlite3
from typing import Iterable

from core.errors import NotFound
from store.cursor import decode_cursor, page
from store.db import write_transaction
from store.events import insert_event, require_owner
from store.records import EvidenceItem

CURSOR_KIND = "evidence"


def insert_evidence(conn: sqlite3.Connection, run_id: str, items: Iterable[EvidenceItem]) -> None:
    """Register chunks (caller holds the write transaction); an alias is unique per run."""
    conn.executemany(
        "INSERT INTO evidence (run_id, alias, ref, source, kb_namespace, lightrag_chunk_id,"
        " content, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(run_id, i.alias, i.ref, i.source, i.kb_namespace, i.lightrag_chunk_id, i.content or "",
          i.created_at) for i in items])


def _item(row: sqlite3.Row, with_content: bool) -> EvidenceItem:
    return EvidenceItem(alias=row["alias"], ref=row["ref"], source=row["source"],
                        kb_namespace=row["kb_namespace"],
                        lightrag_chunk_id=row["lightrag_chunk_id"], created_at=row["created_at"],
                        seq=row["seq"], content=row["content"] if with_content else None)


def list_evidence(conn: sqlite3.Connection, run_id: str, *, limit: int, cursor: str | None,
                  include_content: bool) -> tuple[list[EvidenceItem], str | None, bool]:
    """In the order the chunks were retrieved."""
    after = decode_cursor(CURSOR_KIND, cursor) if cursor else 0
    columns = "seq, alias, ref, source, kb_namespace, lightrag_chunk_id, created_at"
    if include_content:
        columns += ", content"
    rows = conn.execute(
        f"SELECT {columns} FROM evidence WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
        (run_id, after, limit + 1)).fetchall()
    items, next_cursor, has_more = page(rows, limit, CURSOR_KIND, lambda row: row["seq"])
    return [_item(row, include_content) for row in items], next_cursor, has_more


def get_evidence(conn: sqlite3.Connection, run_id: str, alias: str) -> EvidenceItem:
    row = conn.execute("SELECT * FROM evidence WHERE run_id = ? AND alias = ?",
                       (run_id, alias)).fetchone()
    if row is None:
        raise NotFound(f"evidence {alias!r} does not exist in run {run_id!r}",
                       {"run_id": run_id, "alias": alias})
    return _item(row, with_content=True)


def aliases_of_run(conn: sqlite3.Connection, run_id: str) -> dict[str, str]:
    """alias -> ref for every chunk the run retrieved (for citation checks)."""
    rows = conn.execute("SELECT alias, ref FROM evidence WHERE run_id = ?", (run_id,))
    return {row["alias"]: row["ref"] for row in rows}


def record_retrieval(conn: sqlite3.Connection, run_id: str, event_type: str, payload: dict,
                     items: list[EvidenceItem], now: float, owner: str | None = None) -> None:
    """Append a retrieval event and register its chunks in one transaction."""
    with write_transaction(conn):
        if owner is not None:
            require_owner(conn, run_id, owner)
        insert_event(conn, run_id, event_type, payload, now)
        insert_evidence(conn, run_id, items)
