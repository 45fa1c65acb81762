"""Retention: delete the traces of old finished runs without ever holding the write lock long.

Traces are most of the database (every LLM request and response, every
search). A run's recipes (``run_outputs``), the evidence its citations
resolve to, and the lab's feedback are small and are what people come back
for, so they are kept unless asked for; the run itself is kept and marked
``trace_pruned_at``.

Every deletion is its own short write transaction: a chunk of one run's
events (payloads first, for the foreign key), sized so that a transaction
takes about ``TARGET_MS`` — the chunk doubles while transactions are quick
and halves when one is slow — and followed by a pause at least as long as
the transaction held the lock. The API's writers queue behind each other
(one per process at a time), so a 2 ms gap let one of them in and the rest
waited through several chunks (``bench/retention.py``: waits up to 287 ms);
leaving the lock free half the time lets the queue drain between chunks, at
the price of a prune taking twice as long. Freed pages go back to the disk
in small ``PRAGMA incremental_vacuum`` steps when the file allows it
(databases created since this version); older files keep them for reuse by
new data (``c2xc-admin vacuum`` shrinks them, with the service stopped).
"""
from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from store import dialect
from store import status as st
from store.db import write_transaction

TARGET_MS = 5.0
MIN_ROWS, MAX_ROWS = 20, 2000
PAUSE_S = 0.002  # the least pause; waiting writers retry every 0.1-2 ms (store.db.begin_immediate)
FIRST_EVENT_ROWS, FIRST_VACUUM_PAGES = 500, 32  # where the sizing starts; then by time
WAL_SETTLE_S = 2.0  # how long the last checkpoint is retried for the file to shrink at once


@dataclass
class PruneReport:
    runs: int = 0
    events_deleted: int = 0
    outputs_deleted: int = 0
    evidence_deleted: int = 0
    feedback_deleted: int = 0
    transactions: int = 0
    longest_transaction_ms: float = 0.0
    pages_freed_to_disk: int = 0
    pages_free_for_reuse: int = 0
    wal_copied_back: bool = True  # False: the file shrinks at the next checkpoint, not yet
    bytes_before: int = 0
    bytes_after: int = 0
    seconds: float = 0.0
    transaction_ms: list[float] = field(default_factory=list, repr=False)


class _Chunks:
    """Write transactions sized to take about TARGET_MS each, timed into the report."""

    def __init__(self, conn: sqlite3.Connection, report: PruneReport, pause_s: float, rows: int):
        self.conn, self.report, self.pause_s = conn, report, pause_s
        self.rows = rows

    def run(self, work: Callable[[sqlite3.Connection, int], int]) -> int:
        """One transaction of ``work(conn, rows)``; returns what it did (0: nothing left)."""
        started = time.perf_counter()
        with write_transaction(self.conn):
            done = work(self.conn, self.rows)
        took = (time.perf_counter() - started) * 1000
        # copy the WAL back into the database between transactions (a passive checkpoint
        # blocks no one), so the WAL stays small and the next commit does not do it
        if not dialect.is_postgres(self.conn):
            self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self.report.transactions += 1
        self.report.transaction_ms.append(took)
        self.report.longest_transaction_ms = max(self.report.longest_transaction_ms, took)
        if took > TARGET_MS:
            self.rows = max(MIN_ROWS, self.rows // 2)
        elif took < TARGET_MS / 4:
            self.rows = min(MAX_ROWS, self.rows * 2)
        time.sleep(max(self.pause_s, took / 1000))  # the lock free at least as long as it was held
        return done


def _old_runs(conn: sqlite3.Connection, finished_before: float, after_seq: int,
              limit: int) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT seq, run_id FROM runs WHERE finished_at IS NOT NULL AND finished_at < ?"
        " AND trace_pruned_at IS NULL AND status IN (?, ?, ?) AND seq > ? ORDER BY seq LIMIT ?",
        (finished_before, st.COMPLETED, st.FAILED, st.CANCELED, after_seq, limit)).fetchall()


def _delete_events(run_id: str) -> Callable[[sqlite3.Connection, int], int]:
    def work(conn: sqlite3.Connection, rows: int) -> int:
        seqs = [r[0] for r in conn.execute("SELECT seq FROM events WHERE run_id = ? ORDER BY seq LIMIT ?",
                                           (run_id, rows))]
        if seqs:
            marks = ",".join("?" * len(seqs))
            conn.execute(f"DELETE FROM event_payloads WHERE event_seq IN ({marks})", seqs)
            conn.execute(f"DELETE FROM events WHERE seq IN ({marks})", seqs)
        return len(seqs)
    return work


def _close_run(run_id: str, now: float, outputs: bool, feedback: bool, report: PruneReport):
    def work(conn: sqlite3.Connection, _rows: int) -> int:
        if outputs:
            report.evidence_deleted += conn.execute("DELETE FROM evidence WHERE run_id = ?",
                                                    (run_id,)).rowcount
            report.outputs_deleted += conn.execute("DELETE FROM run_outputs WHERE run_id = ?",
                                                   (run_id,)).rowcount
        if feedback:
            conn.execute("DELETE FROM feedback_products WHERE run_id = ?", (run_id,))
            report.feedback_deleted += conn.execute("DELETE FROM run_feedback WHERE run_id = ?",
                                                    (run_id,)).rowcount
        conn.execute("UPDATE runs SET trace_pruned_at = ? WHERE run_id = ?", (now, run_id))
        return 1
    return work


def _give_back_pages(conn: sqlite3.Connection, report: PruneReport, pause_s: float) -> None:
    """SQLite: free pages go back to the disk in steps. PostgreSQL: autovacuum reuses them."""
    if dialect.is_postgres(conn):
        return
    if conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2:  # INCREMENTAL
        pages = _Chunks(conn, report, pause_s, rows=FIRST_VACUUM_PAGES)  # sized by time, like deletions
        free = _free_pages(conn)
        while free:
            pages.run(_vacuum_step)
            report.pages_freed_to_disk += free - (free := _free_pages(conn))
    report.pages_free_for_reuse = _free_pages(conn)
    report.wal_copied_back = _copy_wal_back(conn, pause_s)


def _copy_wal_back(conn: sqlite3.Connection, pause_s: float, within_s: float = WAL_SETTLE_S) -> bool:
    """Checkpoint until the whole WAL is in the database file, so the file really shrinks now.

    SQLite cuts the file to its new page count only when a checkpoint copies back every frame
    of the WAL; a commit by another connection landing while the last one ran leaves the file
    at its old size until the next checkpoint, which may be 1000 pages of writes away. A
    passive checkpoint blocks no one, so it is simply tried again (bounded: a reader pinning
    an old snapshot for longer leaves the shrinking to the next checkpoint after it lets go).
    """
    deadline = time.monotonic() + within_s
    while True:
        busy, wal_frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        if not busy and wal_frames == copied:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(pause_s)


def _free_pages(conn: sqlite3.Connection) -> int:
    return conn.execute("PRAGMA freelist_count").fetchone()[0]


def _vacuum_step(conn: sqlite3.Connection, pages: int) -> int:
    # Python's sqlite3 steps a statement without result columns once, and each step of
    # incremental_vacuum frees one page: so one statement per page.
    for _ in range(pages):
        conn.execute("PRAGMA incremental_vacuum(1)")
    return pages


def _file_bytes(conn: sqlite3.Connection) -> int:
    if dialect.is_postgres(conn):
        return int(conn.execute("SELECT pg_database_size(current_database())").fetchone()[0])
    return conn.execute("PRAGMA page_count").fetchone()[0] * conn.execute("PRAGMA page_size").fetchone()[0]


def prune_traces(conn: sqlite3.Connection, *, finished_before: float, outputs: bool = False,
                 feedback: bool = False, pause_s: float = PAUSE_S) -> PruneReport:
    """Delete the events of every run that finished before ``finished_before`` (epoch seconds)."""
    started = time.monotonic()
    report = PruneReport(bytes_before=_file_bytes(conn))
    chunks = _Chunks(conn, report, pause_s, rows=FIRST_EVENT_ROWS)
    if dialect.is_postgres(conn):
        _prune(conn, chunks, report, finished_before, outputs, feedback)
    else:
        conn.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints happen between chunks instead
        try:
            _prune(conn, chunks, report, finished_before, outputs, feedback)
        finally:
            conn.execute("PRAGMA wal_autocheckpoint=1000")
    report.bytes_after = _file_bytes(conn)
    report.seconds = round(time.monotonic() - started, 1)
    return report


def _prune(conn: sqlite3.Connection, chunks: _Chunks, report: PruneReport, finished_before: float,
           outputs: bool, feedback: bool) -> None:
    after = 0
    while batch := _old_runs(conn, finished_before, after, 200):
        for row in batch:
            while deleted := chunks.run(_delete_events(row["run_id"])):
                report.events_deleted += deleted
            chunks.run(_close_run(row["run_id"], time.time(), outputs, feedback, report))
            report.runs += 1
        after = batch[-1]["seq"]
    _give_back_pages(conn, report, chunks.pause_s)
