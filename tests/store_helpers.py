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
