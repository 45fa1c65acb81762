"""Deltas: every change to the memory bank, with each touched item before and after.

A learn job's changes, a chemist's note or edit — each is one delta, applied
in the caller's write transaction together with the items and vectors it
writes, so the bank is always exactly before or exactly after it.

A rollback writes every touched item's before-state back (an item the delta
added is archived and its vector deleted, so retrieval returns what it
returned before the delta, item for item and score for score). It is refused
with ``Conflict`` when a later delta that is still applied touched one of the
same items — undoing under it would silently overwrite that later change —
and when the delta was already rolled back.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from core.errors import Conflict, NotFound
from store import dialect
from store.cursor import decode_cursor, page, where
from store.ids import new_id
from store.memory_items import bump_generation, full_state, get_items, get_vector, write_state

CURSOR_KIND = "memory_deltas"
APPLIED, ROLLED_BACK = "applied", "rolled_back"


@dataclass(frozen=True)
class Op:
    """One item's change: ``before`` None means the delta added it."""

    memory_id: str
    after: dict[str, Any]
    after_vector: bytes | None
    before: dict[str, Any] | None = None
    before_vector: bytes | None = None
    created_at: float | None = None  # for an added item

    @property
    def op(self) -> str:
        return "add" if self.before is None else "update"

    def as_dict(self) -> dict[str, Any]:
        return {"memory_id": self.memory_id, "op": self.op, "before": self.before,
                "after": self.after}


@dataclass(frozen=True)
class Delta:
    delta_id: str
    source: str
    status: str
    run_id: str | None
    feedback_version: int | None
    job_id: str | None
    summary: str
    created_at: float
    rolled_back_at: float | None
    rolled_back_why: str | None
    experiment_id: str | None = None
    undone_by: str | None = None  # the re-learn whose own ops undid this delta
    memory_ids: list[str] = field(default_factory=list)
    ops: list[dict[str, Any]] | None = None


def update_op(conn: sqlite3.Connection, memory_id: str, changes: dict[str, Any], now: float,
              vector: bytes | None = None) -> Op:
    """The op that changes ``changes`` on an item as it is now (``vector``: a new one)."""
    current = get_items(conn, [memory_id])[memory_id]
    before = current.state()
    old_vector = get_vector(conn, memory_id)
    after = {**before, **changes, "updated_at": now}
    return Op(memory_id=memory_id, before=before, before_vector=old_vector, after=after,
              after_vector=vector if vector is not None else old_vector)


def undo_op(conn: sqlite3.Connection, recorded: sqlite3.Row, now: float) -> Op:
    """The op that takes one recorded op back, from the item as it is now: an added item is
    archived without its vector, an updated one gets its before-state back."""
    current = get_items(conn, [recorded["memory_id"]])[recorded["memory_id"]]
    before, before_vector = current.state(), get_vector(conn, recorded["memory_id"])
    if recorded["before_json"] is None:
        after, after_vector = {**before, "status": "archived", "updated_at": now}, None
    else:
        after, after_vector = full_state(json.loads(recorded["before_json"])), recorded["before_vector"]
    return Op(memory_id=recorded["memory_id"], before=before, before_vector=before_vector,
              after=after, after_vector=after_vector)


def apply_delta(conn: sqlite3.Connection, *, source: str, summary: str, ops: list[Op], now: float,
                run_id: str | None = None, feedback_version: int | None = None,
                job_id: str | None = None, experiment_id: str | None = None) -> str:
    """Write the ops' after-states and record the delta (caller holds the write transaction)."""
    delta_id = new_id("delta")
    seq = conn.execute(
        "INSERT INTO memory_deltas (delta_id, source, status, run_id, feedback_version, job_id,"
        " summary, created_at, experiment_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
        (delta_id, source, APPLIED, run_id, feedback_version, job_id, summary[:500], now,
         experiment_id)).fetchone()[0]
    for position, op in enumerate(ops):
        write_state(conn, op.memory_id, op.after, op.after_vector, created_at=op.created_at)
        conn.execute(
            "INSERT INTO memory_delta_ops (delta_id, delta_seq, position, memory_id, op, before_json,"
            " after_json, before_vector, after_vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (delta_id, seq, position, op.memory_id, op.op,
             json.dumps(op.before) if op.before is not None else None, json.dumps(op.after),
             op.before_vector, op.after_vector))
    bump_generation(conn)
    return delta_id


def _delta_row(conn: sqlite3.Connection, delta_id: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM memory_deltas WHERE delta_id = ?", (delta_id,)).fetchone()
    if row is None:
        raise NotFound(f"memory delta {delta_id!r} does not exist", {"delta_id": delta_id})
    return row


def delta_ops(conn: sqlite3.Connection, delta_id: str) -> list[sqlite3.Row]:
    return conn.execute("SELECT * FROM memory_delta_ops WHERE delta_id = ? ORDER BY position",
                        (delta_id,)).fetchall()


def later_conflicts(conn: sqlite3.Connection, delta_id: str) -> list[str]:
    """Later deltas, still applied, that touched an item this one touched (oldest first)."""
    row = _delta_row(conn, delta_id)
    return [r["delta_id"] for r in conn.execute(
        "SELECT DISTINCT d.delta_id, d.seq FROM memory_deltas d"
        " JOIN memory_delta_ops o ON o.delta_id = d.delta_id"
        " WHERE d.seq > ? AND d.status = ? AND o.memory_id IN"
        " (SELECT memory_id FROM memory_delta_ops WHERE delta_id = ?) ORDER BY d.seq",
        (row["seq"], APPLIED, delta_id))]


def check_rollback(conn: sqlite3.Connection, delta_id: str) -> None:
    """Raise ``Conflict`` if the delta cannot be rolled back now."""
    row = _delta_row(conn, delta_id)
    if row["status"] != APPLIED:
        by = row["undone_by"]
        raise Conflict(f"delta {delta_id} was already rolled back"
                       + (f" (undone by the re-learn {by}: roll that back to restore it)" if by else ""),
                       {"delta_id": delta_id, "status": row["status"], "undone_by": by,
                        "rolled_back_at": row["rolled_back_at"]})
    conflicts = later_conflicts(conn, delta_id)
    if conflicts:
        raise Conflict(f"later changes touched the same memories; roll back "
                       f"{', '.join(conflicts)} first", {"delta_id": delta_id,
                                                         "conflicting_deltas": conflicts})


def rollback_in_transaction(conn: sqlite3.Connection, delta_id: str, now: float, why: str) -> list[str]:
    """Restore every item the delta touched (caller holds the write transaction)."""
    check_rollback(conn, delta_id)
    touched = []
    for op in reversed(delta_ops(conn, delta_id)):
        if op["before_json"] is None:  # it added the item: out of retrieval, vector gone
            state = {**full_state(json.loads(op["after_json"])), "status": "archived", "updated_at": now}
            write_state(conn, op["memory_id"], state, None)
        else:
            write_state(conn, op["memory_id"], full_state(json.loads(op["before_json"])),
                        op["before_vector"])
        touched.append(op["memory_id"])
    mark_rolled_back(conn, delta_id, now, why)
    # a re-learn's ops undid its subject's earlier learning: with them undone, that learning
    # is back in the bank, so its delta is applied again (and can be undone by the next re-learn)
    conn.execute("UPDATE memory_deltas SET status = ?, rolled_back_at = NULL, rolled_back_why = NULL,"
                 " undone_by = NULL WHERE undone_by = ?", (APPLIED, delta_id))
    bump_generation(conn)
    return touched


def mark_rolled_back(conn: sqlite3.Connection, delta_id: str, now: float, why: str,
                     undone_by: str | None = None) -> None:
    conn.execute("UPDATE memory_deltas SET status = ?, rolled_back_at = ?, rolled_back_why = ?,"
                 " undone_by = ? WHERE delta_id = ?", (ROLLED_BACK, now, why, undone_by, delta_id))


def rollback_preview(conn: sqlite3.Connection, delta_id: str) -> dict[str, Any]:
    """What a rollback would do now: conflicts, and which items leave or re-enter retrieval."""
    row = _delta_row(conn, delta_id)
    ops = delta_ops(conn, delta_id)
    current = get_items(conn, [op["memory_id"] for op in ops])
    leaves, returns = [], []
    for op in ops:
        now_active = current[op["memory_id"]].status == "active"
        before_active = op["before_json"] is not None and \
            json.loads(op["before_json"])["status"] == "active"
        if now_active and not before_active:
            leaves.append(op["memory_id"])
        elif before_active and not now_active:
            returns.append(op["memory_id"])
    conflicts = later_conflicts(conn, delta_id) if row["status"] == APPLIED else []
    return {"possible": row["status"] == APPLIED and not conflicts,
            "already_rolled_back": row["status"] != APPLIED, "conflicting_deltas": conflicts,
            "leaves_retrieval": leaves, "returns_to_retrieval": returns,
            "restored": [op["memory_id"] for op in ops]}


def _delta(conn: sqlite3.Connection, row: sqlite3.Row, with_ops: bool) -> Delta:
    ops = delta_ops(conn, row["delta_id"])
    return Delta(
        delta_id=row["delta_id"], source=row["source"], status=row["status"], run_id=row["run_id"],
        feedback_version=row["feedback_version"], job_id=row["job_id"], summary=row["summary"],
        created_at=row["created_at"], rolled_back_at=row["rolled_back_at"],
        rolled_back_why=row["rolled_back_why"], experiment_id=row["experiment_id"],
        undone_by=row["undone_by"], memory_ids=[op["memory_id"] for op in ops],
        ops=[{"memory_id": op["memory_id"], "op": op["op"],
              "before": json.loads(op["before_json"]) if op["before_json"] else None,
              "after": json.loads(op["after_json"])} for op in ops] if with_ops else None)


def get_delta(conn: sqlite3.Connection, delta_id: str) -> Delta:
    return _delta(conn, _delta_row(conn, delta_id), with_ops=True)


def list_deltas(conn: sqlite3.Connection, *, run_id: str | None, status: str | None,
                memory_id: str | None = None, limit: int, cursor: str | None,
                experiment_id: str | None = None) -> tuple[list[Delta], str | None, bool]:
    """Newest first. By memory, the deltas are found from its ops (their index is in delta
    order); the other filters are then checked row by row (``+``: no second index, no sort)."""
    clause, params = where([
        ("d.seq < ?", decode_cursor(CURSOR_KIND, cursor) if cursor else None),
        (dialect.equals(conn, "d.run_id", use_index=not memory_id), run_id),
        (dialect.equals(conn, "d.status", use_index=not memory_id), status),
        (dialect.equals(conn, "d.experiment_id", use_index=not memory_id), experiment_id),
        ("d.seq IN (SELECT delta_seq FROM memory_delta_ops WHERE memory_id = ?)", memory_id)])
    rows = conn.execute(f"SELECT d.* FROM memory_deltas d {clause} ORDER BY d.seq DESC LIMIT ?",
                        (*params, limit + 1)).fetchall()
    items, next_cursor, has_more = page(rows, limit, CURSOR_KIND, lambda r: r["seq"])
    return [_delta(conn, row, with_ops=False) for row in items], next_cursor, has_more


def applied_learn_delta(conn: sqlite3.Connection, experiment_id: str) -> sqlite3.Row | None:
    """The experiment's learning now in the bank (its delta, with the input its job learned)."""
    return conn.execute(
        "SELECT d.delta_id, d.job_id, j.input_hash FROM memory_deltas d LEFT JOIN learn_jobs j ON j.job_id = d.job_id"
        " WHERE d.experiment_id = ? AND d.source = 'learn' AND d.status = ?",
        (experiment_id, APPLIED)).fetchone()
