"""The commit of a learn job: everything it changes, in one transaction, exactly once.

The worker prepares the job's outcome outside any transaction (the LLM and
the embedding endpoint are slow and may fail); :func:`commit_learning` then,
under the write lock:

1. checks the worker still holds the job (fencing) and that the feedback is
   still the version the job learned from — else the job is ``superseded``
   and nothing changes (a newer job is queued for the newer version);
2. undoes the run's previous learn delta, if one is applied: exactly
   (:func:`store.memory_deltas.rollback_in_transaction`) when no later delta
   touched its items, otherwise by compensating ops in the new delta
   (archive what it added, withdraw the run from lessons it corroborated), so
   the later changes of other runs and chemists are never overwritten;
3. writes the new items with their vectors and the corroborations of existing
   lessons as one delta, and ends the job ``completed`` with that delta.

A crash anywhere leaves the bank exactly before (the job is re-queued by
reconcile) or exactly after (the job is completed): never half.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from store import dialect, learn_jobs
from store.db import write_transaction
from store.ids import new_id
from store.memory_deltas import (
    Op,
    applied_learn_delta,
    apply_delta,
    delta_ops,
    later_conflicts,
    rollback_in_transaction,
    update_op,
)
from store.memory_items import get_items, write_state


@dataclass(frozen=True)
class NewMemory:
    kind: str
    role: str
    polarity: str
    title: str
    content: str
    vector: bytes
    recipe: dict[str, Any] | None = None
    outcome: dict[str, Any] | None = None


@dataclass(frozen=True)
class Corroboration:
    """A later result that agrees (support) or disagrees (contra) with an existing lesson."""

    memory_id: str
    agrees: bool


@dataclass(frozen=True)
class LearnOutcome:
    status: str  # completed | superseded
    delta_id: str | None
    undone_delta_id: str | None
    undone_exactly: bool | None


def _compensations(conn: sqlite3.Connection, delta_id: str, run_id: str, now: float) -> list[Op]:
    """Ops that take back what ``delta_id`` (this run's previous learning) put in, as it is now."""
    ops = []
    current = get_items(conn, [op["memory_id"] for op in delta_ops(conn, delta_id)])
    for op in delta_ops(conn, delta_id):
        item = current[op["memory_id"]]
        if op["before_json"] is None:
            if item.status == "active":
                ops.append(update_op(conn, item.memory_id, {"status": "archived"}, now))
        elif run_id in item.support_run_ids or run_id in item.contra_run_ids:
            ops.append(update_op(conn, item.memory_id, {
                "support_run_ids": [r for r in item.support_run_ids if r != run_id],
                "contra_run_ids": [r for r in item.contra_run_ids if r != run_id]}, now))
    return ops


def _corroborate(conn: sqlite3.Connection, c: Corroboration, run_id: str, now: float) -> Op | None:
    item = get_items(conn, [c.memory_id]).get(c.memory_id)
    if item is None or item.status != "active":
        return None
    listed = "support_run_ids" if c.agrees else "contra_run_ids"
    if run_id in getattr(item, listed):
        return None
    return update_op(conn, c.memory_id, {listed: [*getattr(item, listed), run_id]}, now)


def commit_learning(conn: sqlite3.Connection, *, job: learn_jobs.LearnJob, worker_id: str,
                    embedder: str, new_items: list[NewMemory],
                    corroborations: list[Corroboration], now: float,
                    notes: dict[str, Any]) -> LearnOutcome:
    run_id = job.run_id
    with write_transaction(conn):
        dialect.lock(conn, "lock_memory_bank")  # deltas read the bank, then change it
        learn_jobs.require_job_owner(conn, job.job_id, worker_id)
        if learn_jobs.current_feedback_version(conn, run_id) != job.feedback_version:
            learn_jobs.end_in_transaction(conn, job.job_id, worker_id, status=learn_jobs.SUPERSEDED,
                                          now=now, notes={**notes, "superseded": True})
            return LearnOutcome(learn_jobs.SUPERSEDED, None, None, None)
        ops: list[Op] = []
        previous = applied_learn_delta(conn, run_id)
        exact = None
        if previous is not None:
            exact = not later_conflicts(conn, previous)
            if exact:
                rollback_in_transaction(conn, previous, now, why=f"relearn:{job.job_id}")
            else:
                # written at once, so the corroborations below start from the compensated state
                # (one memory may then have two ops in this delta; a rollback undoes them in reverse)
                for op in _compensations(conn, previous, run_id, now):
                    write_state(conn, op.memory_id, op.after, op.after_vector)
                    ops.append(op)
                conn.execute("UPDATE memory_deltas SET status = 'rolled_back', rolled_back_at = ?,"
                             " rolled_back_why = ? WHERE delta_id = ?",
                             (now, f"relearn:{job.job_id}:compensated", previous))
        for memory in new_items:
            state = {"status": "active", "kind": memory.kind, "role": memory.role,
                     "polarity": memory.polarity, "title": memory.title,
                     "content": memory.content, "recipe": memory.recipe,
                     "outcome": memory.outcome, "source_run_id": run_id,
                     "feedback_version": job.feedback_version, "support_run_ids": [],
                     "contra_run_ids": [], "updated_at": now, "extra": {}, "embedder": embedder}
            ops.append(Op(memory_id=new_id("mem"), after=state, after_vector=memory.vector,
                          created_at=now))
        seen: set[str] = set()
        for corroboration in corroborations:
            op = _corroborate(conn, corroboration, run_id, now) \
                if corroboration.memory_id not in seen else None
            if op is not None:
                ops.append(op)
                seen.add(corroboration.memory_id)
        summary = (f"learned from feedback v{job.feedback_version} of {run_id}: "
                   f"{len(new_items)} new, {len(seen)} corroborated")
        delta_id = apply_delta(conn, source="learn", summary=summary, ops=ops, now=now,
                               run_id=run_id, feedback_version=job.feedback_version,
                               job_id=job.job_id)
        learn_jobs.end_in_transaction(conn, job.job_id, worker_id, status=learn_jobs.COMPLETED,
                                      now=now, delta_id=delta_id,
                                      notes={**notes, "undone_delta_id": previous,
                                             "undone_exactly": exact})
    return LearnOutcome(learn_jobs.COMPLETED, delta_id, previous, exact)

