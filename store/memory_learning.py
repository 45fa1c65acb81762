"""The commit of a learn job: everything it changes, in one transaction, exactly once.

The subject of learning is an experiment (SPEC 14: a run's feedback is the
experiment of the recipe it names). The worker prepares the job's outcome
outside any transaction (the LLM and the embedding endpoint are slow and may
fail); :func:`commit_learning` then, under the write lock:

1. checks the worker still holds the job (fencing) and that the experiment
   still says what the job learned (its input fingerprint) — else the job is
   ``superseded`` and nothing changes (a newer job is queued for the newer
   input); when that input is already in the bank the job changes nothing;
2. undoes the experiment's previous learning, if it is applied, **as ops of
   the new delta**: exactly (each item back to its before-state) when no
   later delta touched its items, otherwise by compensating (archive what it
   added, withdraw the experiment from results and lessons it corroborated) so
   the later changes of others are never overwritten. A lesson that other
   experiments corroborated stays in retrieval with their marks: re-learning
   one result changes only that result's own contribution. The undone delta
   is marked rolled back *by* the new one, so rolling the new one back
   restores the bank before it exactly — the earlier learning included;
3. writes the new items with their vectors and the corroborations of
   existing items as the same delta, and ends the job ``completed`` with it.

A crash anywhere leaves the bank exactly before (the job is re-queued by
reconcile) or exactly after (the job is completed): never half.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from store import dialect, learn_jobs
from store.db import write_transaction
from store.ids import new_id
from store.memory_deltas import (
    Op,
    applied_learn_delta,
    apply_delta,
    delta_ops,
    later_conflicts,
    mark_rolled_back,
    undo_op,
    update_op,
)
from store.memory_items import MemoryItem, decode_vectors, full_state, get_items, write_state
from store.memory_search import Hit


OPPOSITE = {("prefer", "avoid"), ("avoid", "prefer")}  # stances that disagree


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
    unchanged: bool = False  # the input was learned already: nothing written


@dataclass(frozen=True)
class Subject:
    """Who learns: the experiment, its run (if it came from one) and the feedback version."""

    experiment_id: str
    run_id: str | None
    feedback_version: int | None


def _runs_of(conn: sqlite3.Connection, experiment_ids: list[str]) -> set[str]:
    if not experiment_ids:
        return set()
    marks = ",".join("?" * len(experiment_ids))
    return {row[0] for row in conn.execute(
        f"SELECT COALESCE(feedback_run_id, source_run_id) FROM experiments WHERE experiment_id IN ({marks})",
        experiment_ids) if row[0] is not None}


def _withdrawn(conn: sqlite3.Connection, item: MemoryItem, subject: Subject) -> dict[str, Any] | None:
    """The item's marks without the subject's (None: the subject left none on it)."""
    if subject.experiment_id not in (*item.support_experiment_ids, *item.contra_experiment_ids) and \
            subject.run_id not in (*item.support_run_ids, *item.contra_run_ids):
        return None
    changes: dict[str, Any] = {}
    for side in ("support", "contra"):
        others = [e for e in getattr(item, f"{side}_experiment_ids") if e != subject.experiment_id]
        still = _runs_of(conn, others)  # a run stays listed while another of its results agrees
        changes[f"{side}_experiment_ids"] = others
        changes[f"{side}_run_ids"] = [r for r in getattr(item, f"{side}_run_ids")
                                      if r != subject.run_id or r in still]
    return changes


def kept_for_others(item: MemoryItem, subject: Subject) -> bool:
    """A lesson other experiments corroborated outlives its author's re-learn (their evidence)."""
    marks = {*item.support_experiment_ids, *item.contra_experiment_ids} - {subject.experiment_id}
    return item.kind != "lab_result" and bool(marks)


def _undo_previous(conn: sqlite3.Connection, previous: str, subject: Subject, now: float
                   ) -> tuple[list[Op], bool]:
    """Ops (already written, in order) that take the subject's previous learning out; exact?"""
    exact = not later_conflicts(conn, previous)
    ops: list[Op] = []
    recorded = list(reversed(delta_ops(conn, previous))) if exact else delta_ops(conn, previous)
    for op in recorded:
        item = get_items(conn, [op["memory_id"]])[op["memory_id"]]
        if exact:
            if op["before_json"] is None and kept_for_others(item, subject):
                continue
            undo = undo_op(conn, op, now)
        elif op["before_json"] is None:
            if item.status != "active" or kept_for_others(item, subject):
                continue
            undo = update_op(conn, item.memory_id, {"status": "archived"}, now)
            undo = replace(undo, after_vector=None)  # out of retrieval, as a rollback leaves it
        else:
            changes = _withdrawn(conn, item, subject)
            if changes is None:
                continue
            undo = update_op(conn, item.memory_id, changes, now)
        # written at once: a memory may have two ops here, each from the state the last one left
        write_state(conn, undo.memory_id, undo.after, undo.after_vector)
        ops.append(undo)
    return ops, exact


def _corroborate(conn: sqlite3.Connection, c: Corroboration, subject: Subject, now: float) -> Op | None:
    item = get_items(conn, [c.memory_id]).get(c.memory_id)
    if item is None or item.status != "active" or item.source_experiment_id == subject.experiment_id:
        return None
    side = "support" if c.agrees else "contra"
    experiments = getattr(item, f"{side}_experiment_ids")
    if subject.experiment_id in experiments:
        return None
    changes: dict[str, Any] = {f"{side}_experiment_ids": [*experiments, subject.experiment_id]}
    listed_runs = getattr(item, f"{side}_run_ids")
    if subject.run_id and subject.run_id not in listed_runs:
        changes[f"{side}_run_ids"] = [*listed_runs, subject.run_id]
    return update_op(conn, c.memory_id, changes, now)


def near_duplicate_lesson(conn: sqlite3.Connection, hits: list[Hit], *, experiment_id: str,
                          threshold: float) -> MemoryItem | None:
    """The active lesson among ``hits`` (best first) that a new lesson of ``experiment_id`` nearly
    repeats (cosine ≥ threshold): another experiment's, or this experiment's earlier lesson that
    others corroborated (it outlives the re-learn, so a copy would be a duplicate). Asked at the
    commit, under the bank's lock (:func:`lesson_hits`): a lesson another worker committed a
    moment ago counts too."""
    close = [h for h in hits if h.score >= threshold]
    items = get_items(conn, [h.memory_id for h in close])
    for hit in close:
        item = items.get(hit.memory_id)
        if item and item.kind == "lesson" and item.status == "active" and (
                item.source_experiment_id != experiment_id or
                kept_for_others(item, Subject(experiment_id, None, None))):
            return item
    return None


def lesson_hits(conn: sqlite3.Connection, vector: bytes, embedder: str) -> list[Hit]:
    """Active lessons by similarity to ``vector``, read in the caller's transaction — not through a
    process's cached index, which must never hold a state that may yet roll back."""
    rows = conn.execute(
        "SELECT m.memory_id, m.role, v.vector FROM memory_items m JOIN memory_vectors v"
        " ON v.memory_id = m.memory_id WHERE m.kind = 'lesson' AND m.status = 'active'"
        " AND v.embedder = ?", (embedder,)).fetchall()
    if not rows:
        return []
    query = np.frombuffer(vector, dtype="<f4")
    scores = decode_vectors([r["vector"] for r in rows], len(query)) @ query
    return sorted((Hit(r["memory_id"], r["role"], float(score)) for r, score in zip(rows, scores)),
                  key=lambda hit: -hit.score)


def commit_learning(conn: sqlite3.Connection, *, job: learn_jobs.LearnJob, worker_id: str,
                    subject: Subject, input_hash: str, current_hash: Callable[[], str],
                    embedder: str, new_items: list[NewMemory], corroborations: list[Corroboration],
                    now: float, notes: dict[str, Any], near_duplicate: float = 0.92) -> LearnOutcome:
    """``current_hash`` reads the experiment's input fingerprint again, under the lock;
    ``near_duplicate`` is the cosine at which a new lesson is an existing one."""
    with write_transaction(conn):
        dialect.lock(conn, "lock_memory_bank")  # deltas read the bank, then change it
        learn_jobs.require_job_owner(conn, job.job_id, worker_id)
        if current_hash() != input_hash:
            learn_jobs.end_in_transaction(conn, job.job_id, worker_id, status=learn_jobs.SUPERSEDED,
                                          now=now, notes={**notes, "superseded": True})
            return LearnOutcome(learn_jobs.SUPERSEDED, None, None, None)
        applied = applied_learn_delta(conn, subject.experiment_id)
        if applied is not None and applied["input_hash"] == input_hash:
            learn_jobs.end_in_transaction(conn, job.job_id, worker_id, status=learn_jobs.COMPLETED,
                                          now=now, notes={**notes, "unchanged": applied["delta_id"]})
            return LearnOutcome(learn_jobs.COMPLETED, None, None, None, unchanged=True)
        ops: list[Op] = []
        previous, exact = (applied["delta_id"], None) if applied is not None else (None, None)
        if previous is not None:
            undo, exact = _undo_previous(conn, previous, subject, now)
            ops += undo
            mark_rolled_back(conn, previous, now, f"relearn:{job.job_id}")
        corroborations = list(corroborations)
        kept: list[NewMemory] = []
        for memory in new_items:
            twin = near_duplicate_lesson(conn, lesson_hits(conn, memory.vector, embedder),
                                         experiment_id=subject.experiment_id,
                                         threshold=near_duplicate) if memory.kind == "lesson" else None
            if twin is None:
                kept.append(memory)
            else:
                corroborations.append(Corroboration(twin.memory_id,
                                                    agrees=(memory.polarity, twin.polarity) not in OPPOSITE))
        new_items = kept
        for memory in new_items:
            state = full_state({
                "kind": memory.kind, "role": memory.role, "polarity": memory.polarity,
                "title": memory.title, "content": memory.content, "recipe": memory.recipe,
                "outcome": memory.outcome, "source_run_id": subject.run_id,
                "feedback_version": subject.feedback_version, "updated_at": now,
                "embedder": embedder, "source_experiment_id": subject.experiment_id})
            ops.append(Op(memory_id=new_id("mem"), after=state, after_vector=memory.vector,
                          created_at=now))
        seen: set[str] = set()
        for corroboration in corroborations:
            op = _corroborate(conn, corroboration, subject, now) \
                if corroboration.memory_id not in seen else None
            if op is not None:
                ops.append(op)
                seen.add(corroboration.memory_id)
        what = f"the lab feedback on run {subject.run_id} (save {subject.feedback_version})" \
            if subject.feedback_version else f"experiment {subject.experiment_id}"
        summary = (f"learned from {what}: {len(new_items)} new, {len(seen)} corroborated"
                   if new_items else f"withdrew experiment {subject.experiment_id} (no result to learn)")
        delta_id = apply_delta(conn, source="learn", summary=summary, ops=ops, now=now,
                               run_id=subject.run_id, feedback_version=subject.feedback_version,
                               job_id=job.job_id, experiment_id=subject.experiment_id)
        if previous is not None:
            conn.execute("UPDATE memory_deltas SET undone_by = ? WHERE delta_id = ?", (delta_id, previous))
        learn_jobs.end_in_transaction(conn, job.job_id, worker_id, status=learn_jobs.COMPLETED,
                                      now=now, delta_id=delta_id,
                                      notes={**notes, "undone_delta_id": previous,
                                             "undone_exactly": exact})
    return LearnOutcome(learn_jobs.COMPLETED, delta_id, previous, exact)
