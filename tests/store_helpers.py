"""Arrange store state directly for unit tests (the same store API the processes use)."""
from __future__ import annotations

import time

from store import batches
from store.db import write_transaction


def queue_batch(conn, n_runs: int = 1, *, dry_run: bool = True, recipes_per_run: int = 1,
                user_request: str = "Cu/Mo for C2H4") -> tuple[str, list[str]]:
    with write_transaction(conn):
        batch, runs = batches.insert_batch(
            conn, user_request=user_request, n_runs=n_runs, recipes_per_run=recipes_per_run,
            temperature=0.7, dry_run=dry_run, config_snapshot={}, extra={}, now=time.time())
    return batch.batch_id, [run_id for run_id, _ in runs]


def queued_runs(conn, n: int, runs_per_batch: int = 5) -> list[str]:
    """``n`` queued dry runs in batches of ``runs_per_batch``, in one transaction (deep-queue tests)."""
    run_ids: list[str] = []
    now = time.time()
    with write_transaction(conn):
        for start in range(0, n, runs_per_batch):
            _, created = batches.insert_batch(
                conn, user_request="deep queue", n_runs=min(runs_per_batch, n - start), recipes_per_run=1,
                temperature=0.7, dry_run=True, config_snapshot={}, extra={}, now=now)
            run_ids += [run_id for run_id, _ in created]
    return run_ids


def bulk_events(conn, run_ids: list[str], per_run: int, created_at: float) -> int:
    """``per_run`` small events for each run, written in bulk (retention tests with a million events).

    Raw inserts in big transactions: through ``store.events`` a million events
    take minutes; the rows are the same shape the store writes.
    """
    import uuid

    total = 0
    for run_id in run_ids:
        with write_transaction(conn):
            start = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0] + 1
            seqs = range(start, start + per_run)
            conn.executemany("INSERT INTO events (seq, event_id, run_id, created_at, event_type, payload_bytes)"
                             " VALUES (?, ?, ?, ?, 'recap_info', 40)",
                             [(s, f"evt_{uuid.uuid4().hex}", run_id, created_at) for s in seqs])
            conn.executemany("INSERT INTO event_payloads (event_seq, payload_json) VALUES (?, ?)",
                             [(s, '{"state": "act", "note": "bulk event"}') for s in seqs])
        total += per_run
    return total


def completed_runs(conn, n: int, recipes_per_run: int = 3, *, dry_run: bool = True,
                   recipes: list[dict] | None = None) -> list[str]:
    """``n`` completed runs with outputs, written in bulk (for export volume tests).

    Uses the store's own insert for batches; the terminal state is set with
    one UPDATE per page instead of n claim/complete transactions, so 10,000
    runs take a second instead of a minute.
    """
    import json as _json

    recipe = {"M1": "Cu", "M2": "Mo", "atomic_ratio": "1:1", "small_molecule_modifier": "glycine",
              "modifier_smiles": "NCC(=O)O", "rationale": "bulk [C1]",
              "modifier_structure": {"canonical_smiles": "NCC(=O)O", "formula": "C2H5NO2"}}
    output = _json.dumps({"recipes": recipes or [{**recipe, "rank": r + 1}
                                                 for r in range(recipes_per_run)],
                          "overall_notes": "bulk"})
    run_ids: list[str] = []
    now = time.time()
    with write_transaction(conn):
        for start in range(0, n, 5):
            count = min(5, n - start)
            _, created = batches.insert_batch(conn, user_request="bulk export", n_runs=count,
                                              recipes_per_run=recipes_per_run, temperature=0.7,
                                              dry_run=dry_run, config_snapshot={}, extra={}, now=now)
            run_ids += [run_id for run_id, _ in created]
        conn.executemany("UPDATE runs SET status = 'completed', started_at = ?, finished_at = ?"
                         " WHERE run_id = ?", [(now, now, r) for r in run_ids])
        conn.executemany("INSERT INTO run_outputs (run_id, recipes_json, citations_json,"
                         " memory_ids_json, created_at) VALUES (?, ?, '{}', '[]', ?)",
                         [(r, output, now) for r in run_ids])
        conn.execute("UPDATE batches SET status = 'completed'")
    return run_ids


def execute_queue(target: str) -> None:
    """Run every queued run with a worker in this process (dry runs: fast, no network).

    ``target``: a SQLite path or a PostgreSQL URL.
    """
    from core.settings import load_run_settings, load_worker_settings
    from store.db import open_database
    from worker.loop import Worker

    worker = Worker(open_database(target), load_worker_settings(), load_run_settings())
    worker.start()
    try:
        while worker.run_once():
            pass
    finally:
        worker.shutdown()
