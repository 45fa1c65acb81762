"""Leases: a worker that stops renewing its heartbeat loses its run to another worker."""
import signal
import threading
import time

import pytest

from core.errors import Conflict
from store import events, runs, workers
from store.db import open_database
from tests.processes import wait_until
from tests.store_helpers import queue_batch
from worker.heartbeat import Heartbeat


def test_a_frozen_worker_loses_its_run_to_a_live_worker_and_cannot_write_to_it(service_factory):
    svc = service_factory(C2XC_DRY_RUN_STEP_DELAY_S="0.3")
    frozen = svc.start_worker()
    run_id = svc.create_batch()["runs"][0]["run_id"]
    wait_until(lambda: svc.run(run_id)["status"] == "running", message="run start")
    frozen.send_signal(signal.SIGSTOP)  # hangs every thread, heartbeat included; pid stays alive
    try:
        svc.start_worker()
        run = wait_until(lambda: (r := svc.run(run_id))["status"] != "running" and r, 20,
                         message="lease expiry")
        assert (run["status"], run["error"]["code"]) == ("failed", "worker_lost")
        trace_at_failure = svc.all_events(run_id)
        assert trace_at_failure[-1]["event_type"] == "run_failed"
    finally:
        frozen.send_signal(signal.SIGCONT)
    # the woken worker is refused and keeps serving; the ended trace stays ended
    next_run = svc.create_batch(n_runs=3)["runs"]
    for r in next_run:
        wait_until(lambda: svc.run(r["run_id"])["status"] == "completed", 20, message="next runs")
    assert svc.all_events(run_id) == trace_at_failure
    assert svc.run(run_id)["status"] == "failed"


def test_two_workers_started_at_once_never_run_the_same_run(service_factory):
    svc = service_factory(C2XC_DRY_RUN_STEP_DELAY_S="0.01")
    created = [svc.create_batch(n_runs=5) for _ in range(4)]
    svc.start_worker()
    svc.start_worker()
    run_ids = [r["run_id"] for c in created for r in c["runs"]]
    for run_id in run_ids:
        wait_until(lambda: svc.run(run_id)["status"] == "completed", 30, message="completion")
    for run_id in run_ids:
        started = [e for e in svc.all_events(run_id) if e["event_type"] == "run_started"]
        assert len(started) == 1
    assert len({svc.run(r)["worker_id"] for r in run_ids}) >= 1


def test_heartbeat_stops_renewing_when_the_main_thread_makes_no_progress(database, conn):
    workers.register_worker(conn, worker_id="w", pid=1, host="h", poll_interval_s=1, now=0.0)
    beat = Heartbeat(open_database(database.target), "w", interval_s=0.02, hang_after_s=0.1)
    beat.start()
    try:
        wait_until(lambda: conn.execute("SELECT heartbeat_at FROM workers").fetchone()[0] > 0,
                   message="first beats")
        time.sleep(0.3)  # let the progress mark age past hang_after_s
        frozen_at = conn.execute("SELECT heartbeat_at FROM workers").fetchone()[0]
        time.sleep(0.2)
        assert conn.execute("SELECT heartbeat_at FROM workers").fetchone()[0] == frozen_at
        beat.progress()
        wait_until(lambda: conn.execute("SELECT heartbeat_at FROM workers").fetchone()[0] > frozen_at,
                   message="renewal after progress")
    finally:
        beat.stop()


def test_appends_by_a_worker_that_lost_the_run_are_refused(conn):
    queue_batch(conn, 1)
    run = runs.claim_next_run(conn, "w-old", time.time())
    events.append_event(conn, run.run_id, "recap_info", {}, time.time(), owner="w-old")
    workers.reconcile_orphaned_runs(conn, reconciler_id="w-new", host="h", now=time.time(),
                                    stale_after_s=10, pid_alive=lambda pid: False)
    with pytest.raises(Conflict):
        events.append_event(conn, run.run_id, "recap_info", {}, time.time(), owner="w-old")
    assert events.list_events(conn, run.run_id, limit=10, cursor=None)[0][-1].event_type == "run_failed"


@pytest.mark.postgres_only
def test_a_worker_frozen_inside_a_transaction_does_not_keep_its_run_from_being_failed(database, conn):
    """A stopped process keeps its row locks until the server ends its idle transaction.

    Without ``idle_in_transaction_session_timeout`` the reconciler waited out
    its lock timeout on the frozen worker's lock on the run, failed, and
    did so again on every pass: the run stayed ``running`` (a CI flake of
    the SIGSTOP test above, one time in dozens).
    """
    from store import postgres
    from store.db import write_transaction

    workers.register_worker(conn, worker_id="w-frozen", pid=1, host="elsewhere", poll_interval_s=1,
                            now=time.time() - 100)
    queue_batch(conn, 1)
    run_id = runs.claim_next_run(conn, "w-frozen", time.time() - 100).run_id
    workers.heartbeat(conn, "w-frozen", time.time() - 100)
    held, thaw, outcome = threading.Event(), threading.Event(), {}

    def frozen_mid_transaction():
        own = open_database(database.target)  # its own pool, as another process would have
        try:
            with write_transaction(own.connection()) as c:
                c.execute("SELECT 1 FROM runs WHERE run_id = ? FOR SHARE", (run_id,)).fetchall()
                held.set()
                thaw.wait(30)  # stopped: the session sits idle in its transaction
                c.execute("SELECT 1").fetchall()
        except Exception as exc:  # the server ended the session meanwhile
            outcome["frozen"] = exc
        finally:
            held.set()
            own.dispose()
    thread = threading.Thread(target=frozen_mid_transaction)
    thread.start()
    assert held.wait(20)
    started = time.monotonic()
    failed = workers.reconcile_orphaned_runs(conn, reconciler_id="w-live", host="here", now=time.time(),
                                             stale_after_s=10, pid_alive=lambda pid: True, at_startup=False)
    waited = time.monotonic() - started
    thaw.set()
    thread.join(30)
    assert failed == [run_id]
    assert waited < postgres.LOCK_TIMEOUT_MS / 1000, waited  # before any waiter's lock timeout
    assert "frozen" in outcome, "the frozen session should have been ended by the server"
    assert runs.get_run(conn, run_id).status == "failed"
