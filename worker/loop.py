"""The worker loop: one iteration claims and executes at most one learn job or run.

``Worker.run_once`` is one iteration (apply cancels of queued runs, take a
queued learn job if there is one — lab feedback becomes memory before the next
run is planned — else claim a run, execute, record the end) and is all that
``--once`` calls; ``run_forever``
repeats it, sleeping with back-off only while the queue is empty. Whatever a
run raises ends that run (``failed`` with a ``run_failed`` event carrying the
code, message and traceback) and never the loop.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from core import trace
from core.errors import DependencyUnavailable, LeaseLost, RunFailure, ServiceError
from core.metrics import count_run_end
from core.settings import RunSettings, WorkerSettings
from store import learn_jobs, memory_items, runs, workers
from store.db import DATABASE_ERRORS, Database, database_now
from store.ids import new_id
from store.migrations import migrate
from store.records import ClaimedRun, RunOutput
from store.wakeups import WorkWaiter
from worker.dry_run import execute_dry_run
from worker.heartbeat import Heartbeat
from worker.memory.learn import Learner
from worker.normal_run import NormalRunExecutor
from worker.run_context import RunCanceled, RunContext, WorkerShutdown

log = logging.getLogger("c2xc.worker")
Executor = Callable[[RunContext], RunOutput]


def pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Worker:
    def __init__(self, database: Database, settings: WorkerSettings, run_settings: RunSettings,
                 *, stop_event: threading.Event | None = None,
                 executors: dict[bool, Executor] | None = None):
        self.database, self.settings, self.run_settings = database, settings, run_settings
        self.stop_event = stop_event or threading.Event()
        self.worker_id = new_id("worker")
        self.host = settings.host or socket.gethostname()
        self.executors = executors or {True: execute_dry_run, False: NormalRunExecutor()}
        self.learner = Learner(run_settings)
        self._heartbeat: Heartbeat | None = None
        self._unrecorded: list[str] = []  # runs whose end the store refused to record
        self._waiter = WorkWaiter(database, self.stop_event, settings.wake_check_s)

    @property
    def conn(self) -> Any:
        return self.database.connection()

    def now(self) -> float:
        """The database's clock: leases written here are compared by workers on other hosts."""
        return database_now(self.conn)

    def start(self) -> None:
        """Migrate, register, reconcile orphans, start heartbeating."""
        migrate(self.conn)
        workers.register_worker(self.conn, worker_id=self.worker_id, pid=os.getpid(),
                                host=self.host, poll_interval_s=self.settings.poll_interval_s,
                                now=self.now())
        if self.settings.reconcile_on_startup:
            self.reconcile(at_startup=True)
        self._heartbeat = Heartbeat(self.database, self.worker_id,
                                    self.settings.heartbeat_interval_s,
                                    hang_after_s=self.settings.hang_after_s)
        self._heartbeat.start()
        self._waiter.start()
        self._last_reconcile = time.monotonic()
        log.info("worker %s started (pid %d, db %s)", self.worker_id, os.getpid(),
                 self.database.path)
        stale = memory_items.stale_vector_count(self.conn, self.run_settings.embedder_stamp)
        if stale:  # memory is never switched off silently (SPEC 12)
            log.warning("%d active memories were embedded by another model than %s and are left out of "
                        "retrieval; run c2xc-admin reembed-memories", stale, self.run_settings.embedder_stamp)

    def _progress(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.progress()

    def reconcile(self, at_startup: bool = False) -> list[str]:
        """Fail runs, and re-queue learn jobs, held by workers that are gone (dead pid, or
        lease expired)."""
        now = self.now()
        failed = workers.reconcile_orphaned_runs(
            self.conn, reconciler_id=self.worker_id, host=self.host, now=now,
            stale_after_s=self.settings.stale_after_s, pid_alive=pid_alive, at_startup=at_startup)
        if failed:
            log.warning("reconciled %d run(s) left running by a gone worker: %s",
                        len(failed), ", ".join(failed))
        requeued = learn_jobs.requeue_orphaned(
            self.conn, reconciler_id=self.worker_id, now=now,
            is_gone=lambda worker: workers.is_gone(worker, host=self.host, now=now,
                                                  stale_after_s=self.settings.stale_after_s,
                                                  pid_alive=pid_alive))
        if requeued:
            log.warning("re-queued %d learn job(s) left by a gone worker: %s", len(requeued),
                        ", ".join(requeued))
        return failed

    def _reconcile_if_due(self) -> None:
        if time.monotonic() - self._last_reconcile >= self.settings.heartbeat_interval_s:
            self._last_reconcile = time.monotonic()
            self.reconcile()

    def _retry_unrecorded(self) -> None:
        """Close runs whose ending could not be written (e.g. the disk was full).

        Their original outcome may be lost with the failed write, so they end
        as ``failed`` with ``storage_error`` — honest, and never ``running`` forever.
        """
        message = "the database refused to record the end of this run"
        for run_id in list(self._unrecorded):
            try:
                runs.finish_run(self.conn, run_id=run_id, worker_id=self.worker_id, now=time.time(),
                                event=trace.RunFailed(error_code="storage_error", message=message))
                log.warning("run %s ended as failed (storage_error) after a refused write", run_id)
            except LeaseLost:
                log.info("run %s was already ended by another worker", run_id)
            self._unrecorded.remove(run_id)

    def run_once(self) -> bool:
        """One iteration; True if a run was executed."""
        self._progress()
        if self._unrecorded:
            self._retry_unrecorded()
        if self._heartbeat is not None:
            self._reconcile_if_due()
        canceled = runs.cancel_queued_runs(self.conn, time.time())  # display time only
        if canceled:
            log.info("canceled %d queued run(s) before start", len(canceled))
        if self.stop_event.is_set():
            return False
        now = self.now()  # a claim is a lease: the database's clock
        job = learn_jobs.claim_next_learn_job(self.conn, self.worker_id, now)
        if job is not None:
            self.learner.execute(self.conn, job, self.worker_id, progress=self._progress)
            return True
        claimed = runs.claim_next_run(self.conn, self.worker_id, now)
        if claimed is None:
            return False
        self.execute(claimed)
        return True

    def run_forever(self) -> None:
        idle_sleep = self.settings.poll_interval_s
        while not self.stop_event.is_set():
            try:
                worked = self.run_once()
            except (*DATABASE_ERRORS, ServiceError) as exc:  # the store is unwell; retry later
                log.error("worker iteration failed: %s", exc)
                worked = False
            if worked:
                idle_sleep = self.settings.poll_interval_s
                continue
            self._idle(idle_sleep)
            idle_sleep = min(idle_sleep * 2, self.settings.max_idle_poll_s)

    def _idle(self, seconds: float) -> None:
        """Sleep up to ``seconds``, waking early when work may have arrived (store.wakeups).

        The poll interval bounds how long work can wait unnoticed; the
        wake-up makes a new batch start within tens of milliseconds without
        a busy loop.
        """
        self._waiter.wait(seconds)

    def shutdown(self) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()
        for executor in self.executors.values():
            close = getattr(executor, "close", None)
            if close is not None:
                close()  # e.g. the knowledge bases kept open across runs

        try:
            if self._unrecorded:
                self._retry_unrecorded()
            workers.mark_stopped(self.conn, self.worker_id, self.now())
        except (*DATABASE_ERRORS, ServiceError) as exc:
            log.error("could not record worker stop: %s", exc)
        self._waiter.close()
        self.database.dispose()
        log.info("worker %s stopped", self.worker_id)

    def execute(self, run: ClaimedRun) -> None:
        mode = "dry_run" if run.dry_run else "normal"
        log.info("run %s claimed (batch %s, %s)", run.run_id, run.batch_id, mode)
        ctx = RunContext(self.conn, run, self.run_settings, self.stop_event,
                         worker_id=self.worker_id, on_progress=self._progress)
        self._run_started = time.monotonic()
        try:
            output = self.executors[run.dry_run](ctx)
        except RunCanceled as stop:
            self._record(runs.finish_run, run_id=run.run_id, event=trace.RunCanceled(
                reason=stop.reason, cancel_id=stop.cancel_id, stage="running", started=True))
            count_run_end("canceled", None, mode, time.monotonic() - self._run_started)
            log.info("run %s canceled", run.run_id)
        except LeaseLost as lost:  # our lease expired and another worker failed the run
            log.error("run %s was taken from this worker: %s", run.run_id, lost.message)
        except WorkerShutdown:
            self._fail(run, "worker_shutdown", "the worker was stopped during this run", {})
        except ServiceError as failure:  # every expected failure carries its own stable code
            self._fail(run, failure.code, failure.message, failure.details)
        except DATABASE_ERRORS as exc:  # the server went away mid-step (a restart, a lost link)
            self._fail(run, DependencyUnavailable.code,
                       f"the database failed during this run: {type(exc).__name__}: {exc}", {})
        except Exception as exc:
            self._fail(run, RunFailure.code, f"{type(exc).__name__}: {exc}",
                       {"traceback": traceback.format_exc()})
        else:
            self._record(runs.complete_run, run_id=run.run_id, output=output)
            count_run_end("completed", None, mode, time.monotonic() - self._run_started)
            log.info("run %s completed", run.run_id)

    def _fail(self, run: ClaimedRun, code: str, message: str, details: dict) -> None:
        log.warning("run %s failed: %s: %s", run.run_id, code, message)
        count_run_end("failed", code, "dry_run" if run.dry_run else "normal",
                      time.monotonic() - getattr(self, "_run_started", time.monotonic()))
        self._record(runs.finish_run, run_id=run.run_id,
                     event=trace.RunFailed(error_code=code, message=message, details=details))

    def _record(self, transition: Callable, **kwargs) -> None:
        """Write a terminal transition; if the store refuses, leave it to reconcile."""
        try:
            transition(self.conn, worker_id=self.worker_id, now=time.time(), **kwargs)
        except LeaseLost as exc:

            log.error("run %s was taken from this worker: %s", kwargs["run_id"], exc.message)
        except DATABASE_ERRORS as exc:
            log.error("could not record the end of run %s (%s); will retry", kwargs["run_id"], exc)
            self._unrecorded.append(kwargs["run_id"])
