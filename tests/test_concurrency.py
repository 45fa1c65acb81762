"""Writers that overlap (SPEC 13): each case is forced into its worst interleaving.

SQLite runs one write transaction at a time, so none of these can go wrong
there; PostgreSQL runs them side by side under READ COMMITTED, where a check
followed by a write can be overtaken. Each test pauses the first writer inside
its transaction, right after the step that matters, runs the second writer to
the end (or until it blocks on a lock the first holds — the fix at work), then
lets the first commit. Every case failed on PostgreSQL before its fix: the
lock or the guard named in its docstring is what it proves.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from core.errors import Conflict
from store import batches, cancels, events, feedback, products, runs, workers
from store.db import write_transaction
from store.records import RunOutput
from tests.store_helpers import completed_runs, queue_batch

HOLD_S = 1.0  # how long the paused writer waits for the second one, which may be blocked on it


def interleave(monkeypatch, module: Any, step: str, first: Callable[[], Any],
               second: Callable[[], Any]) -> tuple[Any, Any]:
    """Run ``first`` until it returns from ``module.step``, then all of ``second``, then the rest.

    Each runs in its own thread, hence on its own connection. ``first`` waits
    at most ``HOLD_S`` for ``second``: when a lock makes ``second`` wait for
    ``first`` to commit, the wait ends and both finish in the safe order.
    Returns each one's result, or the exception it raised.
    """
    original = getattr(module, step)
    paused, second_done = threading.Event(), threading.Event()

    def pausing(*args, **kwargs):
        result = original(*args, **kwargs)
        if threading.current_thread().name == "first" and not paused.is_set():
            paused.set()
            second_done.wait(HOLD_S)
        return result
    monkeypatch.setattr(module, step, pausing)
    outcome: dict[str, Any] = {}

    def call(label: str, work: Callable[[], Any]) -> None:
        try:
            outcome[label] = work()
        except Exception as exc:  # reported to the test, which says what it expects
            outcome[label] = exc
        finally:
            (second_done if label == "second" else paused).set()  # a failed first must not hang
    threads = {label: threading.Thread(target=call, args=(label, work), name=label)
               for label, work in (("first", first), ("second", second))}
    threads["first"].start()
    assert paused.wait(20), "the first writer never reached the step"
    assert not isinstance(outcome.get("first"), Exception), outcome["first"]
    threads["second"].start()
    for thread in threads.values():
        thread.join(30)
    return outcome["first"], outcome["second"]


def _output() -> RunOutput:
    return RunOutput(recipes_json={"recipes": []}, citations={}, memory_ids=[])


def test_two_workers_finishing_a_batchs_last_two_runs_complete_it(database, conn, monkeypatch):
    """lock_batch: the second roll-up waits for the first and counts its run."""
    batch_id, _ = queue_batch(conn, 2)
    one = runs.claim_next_run(conn, "w1", time.time()).run_id
    two = runs.claim_next_run(conn, "w2", time.time()).run_id

    def finish(run_id, worker_id):
        return lambda: runs.complete_run(database.connection(), run_id=run_id, worker_id=worker_id,
                                         output=_output(), now=time.time())
    first, second = interleave(monkeypatch, runs, "refresh_batch_status",
                               finish(one, "w1"), finish(two, "w2"))
    assert first is None and second is None
    assert batches.get_batch(conn, batch_id).status == "completed"


def test_a_cancel_never_overwrites_a_run_another_worker_just_claimed(database, conn, monkeypatch):
    """The guard ``AND status = 'queued'``: a run claimed meanwhile is left to its worker."""
    batch_id, (run_id,) = queue_batch(conn, 1)

    def claim():
        return runs.claim_next_run(database.connection(), "w1", time.time())

    def cancel_arrives_and_is_applied():
        # the request commits after the claim chose the run (written directly: the API's own
        # path would wait for the batch lock the claim holds, which hides this window)
        other = database.connection()
        with write_transaction(other):
            other.execute("INSERT INTO cancel_requests (cancel_id, target_type, target_id, reason,"
                          " created_at) VALUES ('cancel_race', 'run', ?, 'race', ?)", (run_id, time.time()))
        return runs.cancel_queued_runs(other, time.time())
    claimed, canceled = interleave(monkeypatch, runs, "refresh_batch_status", claim,
                                   cancel_arrives_and_is_applied)
    assert claimed.run_id == run_id and canceled == []
    run = runs.get_run(conn, run_id)
    assert (run.status, run.worker_id) == ("running", "w1")
    assert [e.event_type for e in events.list_events(conn, run_id, limit=10, cursor=None,
                                                     include_payload=False)[0]] == []
    # the worker sees the request at its next interruption point and ends the run itself
    assert cancels.pending_cancel(conn, run_id, batch_id) is not None


def test_two_reconcilers_write_one_run_failed(database, conn, monkeypatch):
    """The guarded UPDATE … RETURNING: only the reconciler that moved the run writes its event."""
    workers.register_worker(conn, worker_id="w-gone", pid=1, host="elsewhere", poll_interval_s=1,
                            now=time.time() - 100)
    queue_batch(conn, 1)
    run_id = runs.claim_next_run(conn, "w-gone", time.time() - 100).run_id
    workers.heartbeat(conn, "w-gone", time.time() - 100)

    def reconcile(reconciler_id):
        return lambda: workers.reconcile_orphaned_runs(
            database.connection(), reconciler_id=reconciler_id, host="here", now=time.time(),
            stale_after_s=10, pid_alive=lambda pid: False, at_startup=False)
    first, second = interleave(monkeypatch, workers, "insert_event", reconcile("r1"), reconcile("r2"))
    assert sorted([first, second], key=len) == [[], [run_id]]
    types = [e.event_type for e in events.list_events(conn, run_id, limit=10, cursor=None,
                                                      include_payload=False)[0]]
    assert types == ["run_failed"]


def test_two_creates_of_one_name_are_one_product_and_a_409(database, conn, monkeypatch):
    """A unique violation from a racing insert becomes the same Conflict the check gives."""
    def create(name):
        return lambda: products.create_product(database.connection(), name=name, status="active",
                                               extra={}, now=time.time())
    first, second = interleave(monkeypatch, products, "get_product", create("C2H4"), create(" c2h4"))
    assert first.name == "C2H4"
    assert isinstance(second, Conflict), second
    assert [p.name for p in products.list_products(conn, status=None, limit=10, cursor=None)[0]] == ["C2H4"]


def test_concurrent_feedback_saves_replace_one_after_the_other(database, conn, monkeypatch):
    """lock_run: the second save sees the first (version 2), never a duplicate-key 500."""
    (run_id,) = completed_runs(conn, 1)
    co = products.create_product(conn, name="CO", status="active", extra={}, now=time.time())

    def save(score):
        return lambda: feedback.put_feedback(
            database.connection(), run_id, score=score, pros="", cons="", other="",
            recipe_index=None, products=[(co.product_id, 1.0)], extra={})
    first, second = interleave(monkeypatch, feedback, "_check_products", save(1.0), save(4.0))
    assert (first.version, second.version) == (1, 2), (first, second)
    final = feedback.get_feedback(conn, run_id)
    assert (final.score, final.version) == (4.0, 2)


def test_same_key_creates_make_one_batch_and_replay_it(make_app, monkeypatch):
    """lock_idempotency_key: the second create waits, then finds the first's response."""
    app = make_app()

    def create():
        with app.test_client() as client:
            reply = client.post("/api/v1/batches", headers={"Idempotency-Key": "same-key-1"},
                                json={"user_request": "Cu/Mo", "dry_run": True})
            return reply.status_code, reply.get_json()
    first, second = interleave(monkeypatch, batches, "insert_batch", create, create)
    assert (first[0], second[0]) == (201, 201), (first, second)
    assert first[1]["batch"]["batch_id"] == second[1]["batch"]["batch_id"]
    with app.test_client() as client:
        assert len(client.get("/api/v1/batches").get_json()["items"]) == 1


@pytest.mark.parametrize("n_threads", [6])
def test_many_workers_claiming_at_once_take_each_run_once(database, conn, n_threads):
    """FOR UPDATE SKIP LOCKED (PostgreSQL) / the write lock (SQLite): no run claimed twice."""
    queue_batch(conn, 30)
    claimed: list[tuple[str, str]] = []
    start = threading.Barrier(n_threads)

    def drain(worker_id):
        start.wait()
        own = database.connection()
        while (run := runs.claim_next_run(own, worker_id, time.time())) is not None:
            claimed.append((run.run_id, worker_id))
    threads = [threading.Thread(target=drain, args=(f"w{i}",)) for i in range(n_threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(claimed) == 30 and len({run_id for run_id, _ in claimed}) == 30


def test_a_chemists_edit_and_a_learn_commit_on_one_memory_keep_both(database, conn, fake_llm, monkeypatch):
    """lock_memory_bank: a learn commit reads a memory (to add a replicate's support mark) and
    writes it back; an edit of the same memory in between would be overwritten without the lock."""
    from store import memory_changes, memory_learning
    from store.memory_items import get_item, list_items
    from tests.agent_fixtures import SECRET
    from tests.memory_helpers import CU_MO, learner, normal_run_with_feedback, work_learn_jobs
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    normal_run_with_feedback(conn, CU_MO, 9, {"C2H4": 1})
    work_learn_jobs(conn, learner(fake_llm))
    [earlier] = list_items(conn, status="active", kind=None, role=None, polarity=None, limit=5, cursor=None)[0]
    normal_run_with_feedback(conn, CU_MO, 8, {"C2H4": 1})  # a replicate: its learning marks `earlier`
    the_learner = learner(fake_llm)

    def learn():
        return work_learn_jobs(database.connection(), the_learner)

    def edit():
        return memory_changes.patch_item(database.connection(), earlier.memory_id, {"polarity": "neutral"},
                                         time.time(), vector=None, embedder=earlier.embedder)
    first, second = interleave(monkeypatch, memory_learning, "update_op", learn, edit)
    assert not isinstance(second, Exception), second
    after = get_item(conn, earlier.memory_id)
    assert after.polarity == "neutral" and len(after.support_experiment_ids) == 1  # both changes stand
