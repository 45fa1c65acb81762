"""What an executing run may do: write its trace, register evidence, check for stop.

Executors (dry run, recipe agent) get a :class:`RunContext` and nothing else
from the worker, so every event is written the same way and every
interruption point checks the same two things: a cancel request for this run
or its batch, and a worker shutdown.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from typing import Callable

from core.settings import RunSettings
from core.trace import KbQuery, TraceEvent
from store import cancels, events, evidence
from store.records import ClaimedRun, EvidenceItem


class RunStopped(Exception):
    """Raised at an interruption point; the loop records how the run ended."""


class RunCanceled(RunStopped):
    def __init__(self, cancel_id: str, reason: str | None):
        super().__init__(reason or "cancel requested")
        self.cancel_id, self.reason = cancel_id, reason


class WorkerShutdown(RunStopped):
    pass


class RunContext:
    def __init__(self, conn: sqlite3.Connection, run: ClaimedRun, settings: RunSettings,
                 stop_event: threading.Event, clock: Callable[[], float] = time.time,
                 worker_id: str | None = None, on_progress: Callable[[], None] = lambda: None):
        self.conn, self.run, self.settings = conn, run, settings
        self.stop_event, self.clock = stop_event, clock
        self.worker_id, self.on_progress = worker_id, on_progress

    def emit(self, event: TraceEvent) -> None:
        """Append to the trace, only while this worker still holds the run."""
        events.append_event(self.conn, self.run.run_id, event.event_type, event.payload(),
                            self.clock(), owner=self.worker_id)
        self.on_progress()

    def emit_retrieval(self, event: KbQuery, items: list[EvidenceItem]) -> None:
        """A search and the new chunks it found, in one transaction."""
        evidence.record_retrieval(self.conn, self.run.run_id, event.event_type, event.payload(),
                                  items, self.clock(), owner=self.worker_id)
        self.on_progress()

    def known_aliases(self) -> dict[str, str]:
        return evidence.aliases_of_run(self.conn, self.run.run_id)

    def checkpoint(self) -> None:
        """An interruption point: stop here if the run was canceled or the worker stops."""
        self.on_progress()
        if self.stop_event.is_set():
            raise WorkerShutdown("worker is shutting down")
        request = cancels.pending_cancel(self.conn, self.run.run_id, self.run.batch_id)
        if request is not None:
            raise RunCanceled(*request)

    def pause(self, seconds: float) -> None:
        """Wait between steps without delaying a shutdown or a cancel past the next check."""
        if seconds > 0:
            self.stop_event.wait(seconds)
        self.checkpoint()
