import subprocess
import sys
import threading

from core.settings import load_run_settings, load_worker_settings
from store import events, runs
from store.db import open_database
from tests.processes import REPO
from tests.store_helpers import queue_batch
from worker.dry_run import execute_dry_run
from worker.loop import Worker


def _worker(database, executors=None):
    worker = Worker(open_database(database.target), load_worker_settings(), load_run_settings(),
                    executors=executors)
    worker.start()
    return worker


def _last_event(conn, run_id):
    return events.list_events(conn, run_id, limit=200, cursor=None, include_payload=True)[0][-1]


def test_an_exception_in_a_run_fails_that_run_and_not_the_loop(database, conn):
    def explode(ctx):
        raise ZeroDivisionError("boom")

    worker = _worker(database, {True: explode, False: explode})
    try:
        _, (first, second) = queue_batch(conn, 2)
        assert worker.run_once() and worker.run_once()
    finally:
        worker.shutdown()
    for run_id in (first, second):
        run = runs.get_run(conn, run_id)
        assert (run.status, run.error_code) == ("failed", "internal_error")
        failed = _last_event(conn, run_id)
        assert failed.event_type == "run_failed"
        assert "ZeroDivisionError" in failed.payload["traceback"]


def _one_normal_run(database, conn):
    """Queue a normal run (no preflight: as if its dependencies vanished since) and execute it."""
    worker = _worker(database)
    try:
        _, (run_id,) = queue_batch(conn, 1, dry_run=False)
        worker.run_once()
    finally:
        worker.shutdown()
    return runs.get_run(conn, run_id)


def test_a_normal_run_without_its_knowledge_bases_fails_before_any_llm_call(
        database, conn, monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-loop")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # would fail if ever called
    monkeypatch.setenv("LIGHTRAG_KB_PRINCIPLES_DIR", str(tmp_path / "gone"))
    monkeypatch.setenv("LIGHTRAG_KB_MODULATION_DIR", str(tmp_path / "gone2"))
    run = _one_normal_run(database, conn)
    run_id = run.run_id
    assert (run.status, run.error_code) == ("failed", "kb_error")
    assert "kb_principles" in run.error_message
    types = [e.event_type for e in events.list_events(conn, run_id, limit=50, cursor=None)[0]]
    assert "llm_request" not in types


def test_a_normal_run_without_a_key_in_the_worker_fails_clearly(database, conn, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    run = _one_normal_run(database, conn)
    assert (run.status, run.error_code) == ("failed", "dependency_unavailable")
    assert "OPENAI_API_KEY" in run.error_message


def test_worker_stop_during_a_run_records_worker_shutdown(database, conn):
    stop_now = threading.Event()

    def slow(ctx):
        stop_now.set()
        ctx.stop_event.wait(5)
        ctx.checkpoint()
        return execute_dry_run(ctx)

    worker = _worker(database, {True: slow, False: slow})
    _, (run_id,) = queue_batch(conn, 1)
    thread = threading.Thread(target=worker.run_once)
    thread.start()
    stop_now.wait(10)
    worker.stop_event.set()
    thread.join(10)
    worker.shutdown()
    run = runs.get_run(conn, run_id)
    assert (run.status, run.error_code) == ("failed", "worker_shutdown")


def test_once_on_an_empty_queue_exits_zero(tmp_path):
    done = subprocess.run([sys.executable, "-m", "worker", "--once", "--db",
                           str(tmp_path / "empty.db")], cwd=REPO, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_once_processes_exactly_one_run(database, conn):
    _, run_ids = queue_batch(conn, 2)
    done = subprocess.run([sys.executable, "-m", "worker", "--once", "--db", database.path],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [runs.get_run(conn, r).status for r in run_ids] == ["completed", "queued"]
