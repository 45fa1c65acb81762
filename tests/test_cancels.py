import time

import pytest

from core import trace
from core.errors import NotFound
from store import cancels, runs, workers
from tests.store_helpers import queue_batch


def test_cancel_is_recorded_once_and_repeats_return_the_first_request(conn):
    batch_id, (run_id,) = queue_batch(conn, 1)
    first = cancels.request_run_cancel(conn, run_id, "first", time.time())
    again = cancels.request_run_cancel(conn, run_id, "second", time.time())
    via_batch = cancels.request_batch_cancel(conn, batch_id, "third", time.time())
    assert first.status == "requested"
    assert (again.status, again.cancel_id) == ("already_requested", first.cancel_id)
    assert via_batch.status == "requested"  # a batch-level request is its own record
    assert runs.get_run(conn, run_id).cancel_reason == "first"


def test_cancel_of_queued_run_is_never_started(conn):
    _, (run_id,) = queue_batch(conn, 1)
    cancels.request_run_cancel(conn, run_id, "no", time.time())
    assert runs.claim_next_run(conn, "w", time.time()) is None
    assert runs.cancel_queued_runs(conn, time.time()) == [run_id]
    run = runs.get_run(conn, run_id)
    assert run.status == "canceled" and run.started_at is None


def test_cancel_of_a_finished_run_writes_nothing(conn):
    _, (run_id,) = queue_batch(conn, 1)
    cancels.request_run_cancel(conn, run_id, None, time.time())
    runs.cancel_queued_runs(conn, time.time())
    outcome = cancels.request_run_cancel(conn, run_id, None, time.time())
    assert (outcome.status, outcome.cancel_id) == ("already_finished", None)
    assert conn.execute("SELECT COUNT(*) FROM cancel_requests").fetchone()[0] == 1


def test_batch_cancel_does_not_relabel_runs_finished_before_it(conn):
    batch_id, (done, waiting) = queue_batch(conn, 2)
    claimed = runs.claim_next_run(conn, "w", time.time())
    workers.register_worker(conn, worker_id="w", pid=1, host="h", poll_interval_s=1,
                            now=time.time())
    runs.finish_run(conn, run_id=claimed.run_id, worker_id="w",
                    event=trace.RunFailed(error_code="x", message="y"), now=time.time())
    cancels.request_batch_cancel(conn, batch_id, "stop", time.time() + 1)
    assert runs.get_run(conn, done).cancel_requested is False
    assert runs.get_run(conn, waiting).cancel_requested is True


def test_cancel_of_unknown_targets_is_not_found(conn):
    with pytest.raises(NotFound):
        cancels.request_run_cancel(conn, "run_nope", None, time.time())
    with pytest.raises(NotFound):
        cancels.request_batch_cancel(conn, "batch_nope", None, time.time())


@pytest.mark.sqlite_only  # holds SQLite's one write lock; PostgreSQL's pending check takes no row lock
def test_applying_cancels_costs_nothing_while_none_is_pending(conn, database):
    """No pending request: no write lock is taken, so a held lock does not even delay the check."""
    from store.db import connect

    queue_batch(conn, 3)
    blocker = connect(database.path)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        assert runs.cancel_queued_runs(conn, time.time()) == []
        assert time.monotonic() - started < 1  # it would wait up to 10 s for the lock otherwise
    finally:
        blocker.execute("ROLLBACK")


def test_each_request_is_applied_once_with_its_own_reason(conn):
    first_batch, (a, b) = queue_batch(conn, 2)
    _, (c,) = queue_batch(conn, 1)
    cancels.request_run_cancel(conn, c, "run c", time.time())
    cancels.request_batch_cancel(conn, first_batch, "batch one", time.time())
    assert sorted(runs.cancel_queued_runs(conn, time.time())) == sorted([a, b, c])
    assert [runs.get_run(conn, r).cancel_reason for r in (a, b, c)] == ["batch one", "batch one", "run c"]
    assert runs.cancel_queued_runs(conn, time.time()) == []  # handled: not looked at again
    assert conn.execute("SELECT COUNT(*) FROM cancel_requests WHERE handled_at IS NULL").fetchone()[0] == 0


def test_many_pending_requests_are_applied_in_bounded_transactions(conn):
    """More requests than one transaction takes: all applied, in order, in one call."""
    queued = [queue_batch(conn, 1)[1][0] for _ in range(runs.CANCELS_PER_TRANSACTION * 2 + 3)]
    for run_id in queued:
        cancels.request_run_cancel(conn, run_id, run_id, time.time())
    assert runs.cancel_queued_runs(conn, time.time()) == queued
    assert {runs.get_run(conn, r).status for r in queued} == {"canceled"}
