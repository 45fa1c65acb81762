"""Telling idle workers that there is new work: new batches, cancels, learn jobs.

Writers call :func:`announce_work` inside the transaction that creates the
work; an idle worker waits in :meth:`WorkWaiter.wait`, which returns early
when work may have arrived and otherwise after its timeout, so polling stays
the bound on how long work can wait unnoticed (SPEC 13).

* **SQLite**: nothing to send; the waiter re-reads ``PRAGMA data_version``
  (shared memory, no I/O) every ``check_s`` and wakes when another process
  committed anything.
* **PostgreSQL**: ``NOTIFY c2xc_work`` is sent when the writer commits (and
  never if it rolls back); the waiter ``LISTEN``s on a connection of its own,
  outside the pool, and wakes on the notification. Never per event: a busy
  run's appends wake nobody.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Any

import psycopg

from core.errors import DependencyUnavailable
from store import dialect, postgres
from store.db import DATABASE_ERRORS, change_marker

CHANNEL = "c2xc_work"
log = logging.getLogger("c2xc.worker")


def announce_work(conn: Any, what: str) -> None:
    """Inside the write transaction that made the work (delivered at its commit, on PostgreSQL)."""
    if dialect.is_postgres(conn):
        conn.execute("SELECT pg_notify(?, ?)", (CHANNEL, what)).fetchall()


class WorkWaiter:
    """How an idle worker sleeps: until work may have arrived, the timeout, or the stop event."""

    def __init__(self, database: Any, stop_event: threading.Event, check_s: float):
        self.database, self.stop_event, self.check_s = database, stop_event, check_s
        self._listener: psycopg.Connection | None = None

    def start(self) -> None:
        """Listen from now on, so work announced before the first idle wait is not missed."""
        if dialect.name_of(self.database) == dialect.POSTGRES:
            try:
                self._listening()
            except (psycopg.Error, DependencyUnavailable) as exc:
                log.warning("cannot listen for work notifications yet: %s", exc)

    def wait(self, seconds: float) -> None:
        if dialect.name_of(self.database) == dialect.POSTGRES:
            self._wait_for_notification(seconds)
        else:
            self._wait_for_commit(seconds)

    def _wait_for_commit(self, seconds: float) -> None:
        try:
            seen = change_marker(self.database.connection())
        except DATABASE_ERRORS:
            self.stop_event.wait(seconds)
            return
        deadline = time.monotonic() + seconds
        while not self.stop_event.wait(min(self.check_s, max(0.0, deadline - time.monotonic()))):
            if time.monotonic() >= deadline:
                return
            try:
                if change_marker(self.database.connection()) != seen:
                    return
            except DATABASE_ERRORS:
                return

    def _listening(self) -> psycopg.Connection:
        if self._listener is None or self._listener.closed:
            self._listener = postgres.connect_raw(self.database.url)
            self._listener.execute(f"LISTEN {CHANNEL}")
        return self._listener

    def _wait_for_notification(self, seconds: float) -> None:
        """Wake on the first notification; in slices of ``check_s`` x 10 so a stop is seen soon."""
        deadline = time.monotonic() + seconds
        try:
            listener = self._listening()
            while not self.stop_event.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                woken = any(True for _ in listener.notifies(
                    timeout=min(left, max(self.check_s * 10, 0.05)), stop_after=1))
                if woken:  # drained only after that generator ended: it holds the connection's lock
                    self._drain(listener)
                    return
        except (psycopg.Error, DependencyUnavailable) as exc:  # server gone: sleep; the next poll retries
            log.warning("waiting for work notifications failed: %s", exc)
            self.close()
            self.stop_event.wait(max(0.0, deadline - time.monotonic()))

    @staticmethod
    def _drain(listener: psycopg.Connection) -> None:
        """Several notifications queued up (a burst of batches) count as one wake-up."""
        for _ in listener.notifies(timeout=0, stop_after=64):
            pass

    def close(self) -> None:
        if self._listener is not None:
            try:
                self._listener.close()
            except psycopg.Error:
                pass
            self._listener = None
