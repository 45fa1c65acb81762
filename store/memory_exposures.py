"""Which run and node was shown which memory (with its score), and which runs cited it.

Exposures are written by the worker in the same transaction as the
``memory_exposed`` trace event that announces them, only while the worker
still holds the run; citations are written with the run's output
(:func:`store.runs.complete_run`). Together they are a memory's provenance
forward in time: every run it may have influenced, cited or not.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from store.db import write_transaction
from store.events import insert_event, require_owner

MEMORY_REF_PREFIX = "mem:"
PROVENANCE_RUNS = 50


@dataclass(frozen=True)
class Exposure:
    alias: str
    memory_id: str
    node_id: str | None
    role: str
    via: str
    score: float


def record_exposures(conn: sqlite3.Connection, run_id: str, event_type: str, payload: Any,
                     exposures: list[Exposure], now: float, owner: str | None) -> None:
    with write_transaction(conn):
        if owner is not None:
            require_owner(conn, run_id, owner)
        insert_event(conn, run_id, event_type, payload, now)
        conn.executemany(
            "INSERT INTO memory_exposures (run_id, alias, memory_id, node_id, role, via, score,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(run_id, e.alias, e.memory_id, e.node_id, e.role, e.via, e.score, now)
             for e in exposures])


def insert_citations(conn: sqlite3.Connection, run_id: str, citations: dict[str, str]) -> None:
    """The memories an output cites (caller holds the write transaction)."""
    conn.executemany(
        "INSERT INTO memory_citations (memory_id, run_id, alias) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        [(ref[len(MEMORY_REF_PREFIX):], run_id, alias) for alias, ref in citations.items()
         if ref.startswith(MEMORY_REF_PREFIX)])


def exposures_of_run(conn: sqlite3.Connection, run_id: str) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(
        "SELECT e.alias, e.memory_id, e.node_id, e.role, e.via, e.score, e.created_at,"
        " m.kind, m.polarity, m.title, m.status FROM memory_exposures e"
        " JOIN memory_items m ON m.memory_id = e.memory_id WHERE e.run_id = ? ORDER BY e.seq",
        (run_id,))]


def citations_of_run(conn: sqlite3.Connection, run_id: str) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(
        "SELECT c.alias, c.memory_id, m.title, m.kind, m.polarity, m.status"
        " FROM memory_citations c JOIN memory_items m ON m.memory_id = c.memory_id"
        " WHERE c.run_id = ? ORDER BY c.alias", (run_id,))]


def runs_exposed_to(conn: sqlite3.Connection, memory_id: str) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(
        "SELECT run_id, min(created_at) AS first_at, max(score) AS best_score, count(*) AS times"
        " FROM memory_exposures WHERE memory_id = ? GROUP BY run_id ORDER BY first_at DESC LIMIT ?",
        (memory_id, PROVENANCE_RUNS))]


def runs_citing(conn: sqlite3.Connection, memory_id: str) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(
        "SELECT c.run_id, c.alias FROM memory_citations c JOIN runs r ON r.run_id = c.run_id"
        " WHERE c.memory_id = ? ORDER BY r.finished_at DESC LIMIT ?", (memory_id, PROVENANCE_RUNS))]
