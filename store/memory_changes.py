"""A chemist's changes to the memory bank: a note, an edit, a rollback — each one transaction.

Each is a delta (:mod:`store.memory_deltas`) so it can be undone like a learn
job's. Vectors are computed by the caller before the transaction (an HTTP
call must never hold the write lock) and passed in already encoded.
"""
from __future__ import annotations

import sqlite3
from typing import Any

from core.errors import Conflict, ValidationFailed
from store import dialect
from store.db import write_transaction
from store.ids import new_id
from store.memory_deltas import Op, apply_delta, rollback_in_transaction, rollback_preview, update_op
from store.memory_items import MemoryItem, full_state, get_item

EDITABLE = ("title", "content", "polarity", "role", "status")
TEXT_CHANGES = ("title", "content")


def create_note(conn: sqlite3.Connection, *, title: str, content: str, role: str, polarity: str,
                extra: dict[str, Any], vector: bytes, embedder: str, now: float
                ) -> tuple[MemoryItem, str]:
    """A chemist's note, active at once; (the item, its delta id)."""
    memory_id = new_id("mem")
    state = full_state({"kind": "note", "role": role, "polarity": polarity, "title": title,
                        "content": content, "updated_at": now, "extra": extra, "embedder": embedder})
    with write_transaction(conn):
        dialect.lock(conn, "lock_memory_bank")  # deltas read the bank, then change it
        delta_id = apply_delta(conn, source="manual", summary=f"note added: {title}", now=now,
                               ops=[Op(memory_id=memory_id, after=state, after_vector=vector,
                                       created_at=now)])
        return get_item(conn, memory_id), delta_id


def edited_text(item: MemoryItem, changes: dict[str, Any]) -> str:
    """What is embedded once ``changes`` are applied to ``item``: its title and content."""
    return f"{changes.get('title', item.title)}\n{changes.get('content', item.content)}"


def needs_new_vector(item: MemoryItem, changes: dict[str, Any], embedder: str) -> bool:
    """A text change, or an item whose vector is missing or of another embedder."""
    return any(k in changes and changes[k] != getattr(item, k) for k in TEXT_CHANGES) \
        or item.embedder != embedder


def patch_item(conn: sqlite3.Connection, memory_id: str, changes: dict[str, Any], now: float,
               *, vector: bytes | None, embedder: str,
               embedded_text: str | None = None) -> tuple[MemoryItem, str | None]:
    """Apply a chemist's edit as a delta; no delta when nothing changes.

    ``vector`` was computed, before the lock, for ``embedded_text`` (title and content as the
    caller read them, with the edit applied). If another change moved the text meanwhile the
    vector would describe other words: ``Conflict``, and nothing changes.
    """
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationFailed("these fields cannot be edited",
                               {"fields": {k: ["not editable"] for k in sorted(unknown)}})
    with write_transaction(conn):
        dialect.lock(conn, "lock_memory_bank")  # deltas read the bank, then change it
        item = get_item(conn, memory_id)
        if vector is not None and embedded_text is not None and \
                edited_text(item, changes) != embedded_text:
            raise Conflict(f"memory {memory_id} changed while this edit was being embedded; reload it "
                           "and apply the edit again", {"memory_id": memory_id})
        effective = {k: v for k, v in changes.items() if getattr(item, k) != v}
        if not effective and vector is None:
            return item, None
        if vector is not None:
            effective["embedder"] = embedder
        op = update_op(conn, memory_id, effective, now, vector=vector)
        summary = "edited " + ", ".join(k for k in effective if k != "embedder") + f": {item.title}"
        delta_id = apply_delta(conn, source="manual", summary=summary, ops=[op], now=now)
        return get_item(conn, memory_id), delta_id


def rollback(conn: sqlite3.Connection, delta_id: str, now: float) -> dict[str, Any]:
    """Undo a delta exactly, or raise ``Conflict`` naming what stands in the way."""
    with write_transaction(conn):
        dialect.lock(conn, "lock_memory_bank")  # deltas read the bank, then change it
        preview = rollback_preview(conn, delta_id)
        restored = rollback_in_transaction(conn, delta_id, now, why="manual")
    return {**preview, "possible": True, "restored": restored}
