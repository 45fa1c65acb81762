import time

from store import events, runs, workers
from tests.store_helpers import queue_batch

HOST = "this-host"


def _worker(conn, worker_id, *, pid, host=HOST):
    workers.register_worker(conn, worker_id=worker_id, pid=pid, host=host, poll_interval_s=0.5,
                            now=time.time())


def _running_run(conn, worker_id, heartbeat_age=0.0):
    """A run claimed by the worker, whose last heartbeat then was ``heartbeat_age`` ago."""
    queue_batch(conn, 1)
    run_id = runs.claim_next_run(conn, worker_id, time.time()).run_id
    workers.heartbeat(conn, worker_id, time.time() - heartbeat_age)
    return run_id


def _reconcile(conn, alive_pids):
    return workers.reconcile_orphaned_runs(conn, reconciler_id="w-new", host=HOST,
                                           now=time.time(), stale_after_s=10,
                                           pid_alive=lambda pid: pid in alive_pids)


def test_reconcile_fails_runs_of_a_worker_whose_heartbeat_is_stale(conn):
    _worker(conn, "w-old", pid=111, host="elsewhere")
    run_id = _running_run(conn, "w-old", heartbeat_age=60)
    assert _reconcile(conn, alive_pids=set()) == [run_id]
    run = runs.get_run(conn, run_id)
    assert (run.status, run.error_code) == ("failed", "worker_lost")
    last = events.list_events(conn, run_id, limit=10, cursor=None, include_payload=True)[0][-1]
    assert last.event_type == "run_failed" and last.payload["lost_worker_id"] == "w-old"


def test_reconcile_fails_runs_of_a_dead_pid_on_this_host_at_once(conn):
    _worker(conn, "w-killed", pid=222)
    run_id = _running_run(conn, "w-killed", heartbeat_age=0.1)
    assert _reconcile(conn, alive_pids=set()) == [run_id]


def test_reconcile_never_touches_a_run_a_live_worker_holds(conn):
    _worker(conn, "w-live", pid=333)
    _worker(conn, "w-remote", pid=444, host="other-host")
    local = _running_run(conn, "w-live", heartbeat_age=0.5)
    remote = _running_run(conn, "w-remote", heartbeat_age=0.5)
    assert _reconcile(conn, alive_pids={333}) == []
    assert runs.get_run(conn, local).status == "running"
    assert runs.get_run(conn, remote).status == "running"


def test_reconcile_records_the_count_on_the_reconciling_worker(conn):
    _worker(conn, "w-new", pid=1)
    _worker(conn, "w-gone", pid=555)
    _running_run(conn, "w-gone")
    _running_run(conn, "w-gone")
    assert len(_reconcile(conn, alive_pids={1})) == 2
    row = conn.execute("SELECT reconciled_running_runs FROM workers WHERE worker_id = 'w-new'")
    assert row.fetchone()[0] == 2


def test_a_claim_whose_reply_was_lost_is_failed_by_its_own_worker_between_runs(conn):
    """The connection dropped at COMMIT: the claim stands, but the worker never learnt of it.

    Its lease stays fresh (it is alive), so only the worker itself can tell the run is
    nobody's; it reconciles only between runs, when nothing it holds can be executing.
    """
    _worker(conn, "w-new", pid=555)
    run_id = _running_run(conn, "w-new", heartbeat_age=0.1)
    assert _reconcile(conn, alive_pids={555}) == [run_id]
    run = runs.get_run(conn, run_id)
    assert (run.status, run.error_code) == ("failed", "worker_lost")
    assert "lost the database connection" in run.error_message
    assert [w.worker_id for w in workers.live_workers(conn, time.time(), 10)] == ["w-new"]  # still serving
