"""A background thread that keeps the worker's heartbeat fresh in the store.

It runs on its own connection so a long step of a run never makes the worker
look dead; it stops with the worker. A failed beat is logged and retried on
the next tick, never fatal.
"""
from __future__ import annotations

import logging
import threading
import time

from store import workers
from store.db import Database

log = logging.getLogger("c2xc.worker")


class Heartbeat(threading.Thread):
    def __init__(self, database: Database, worker_id: str, interval_s: float):
        super().__init__(name="c2xc-heartbeat", daemon=True)
        self.database, self.worker_id, self.interval_s = database, worker_id, interval_s
        self._stop_requested = threading.Event()

    def run(self) -> None:
        while not self._stop_requested.wait(self.interval_s):
            try:
                workers.heartbeat(self.database.connection(), self.worker_id, time.time())
            except Exception as exc:  # keep beating; the next tick may succeed
                log.warning("heartbeat failed: %s", exc)
        self.database.close()

    def stop(self) -> None:
        self._stop_requested.set()
        self.join(timeout=5)
