"""A background thread that renews the worker's lease (its heartbeat) in the store.

It runs on its own connection so a long step of a run never makes the worker
look dead — but it renews only while the worker shows progress (an event,
an interruption point or a loop iteration within ``hang_after_s``). A worker
whose main thread is stuck therefore stops renewing, its lease expires after
``C2XC_WORKER_STALE_S``, and another worker recovers its run. A failed beat
is logged and retried on the next tick, never fatal.
"""
from __future__ import annotations

import logging
import threading
import time

from store import workers
from store.db import Database, database_now

log = logging.getLogger("c2xc.worker")


class Heartbeat(threading.Thread):
    def __init__(self, database: Database, worker_id: str, interval_s: float,
                 hang_after_s: float = float("inf")):
        super().__init__(name="c2xc-heartbeat", daemon=True)
        self.database, self.worker_id, self.interval_s = database, worker_id, interval_s
        self.hang_after_s = hang_after_s
        self.progress_at = time.monotonic()
        self._stop_requested = threading.Event()

    def progress(self) -> None:
        """Called by the main thread whenever it does something observable."""
        self.progress_at = time.monotonic()

    def run(self) -> None:
        while not self._stop_requested.wait(self.interval_s):
            stuck_for = time.monotonic() - self.progress_at
            if stuck_for > self.hang_after_s:
                log.error("no progress for %.0f s: not renewing the lease", stuck_for)
                continue
            try:
                conn = self.database.connection()
                workers.heartbeat(conn, self.worker_id, database_now(conn))
            except Exception as exc:  # keep beating; the next tick may succeed
                log.warning("heartbeat failed: %s", exc)
        self.database.close()

    def stop(self) -> None:
        self._stop_requested.set()
        self.join(timeout=5)
