"""Database faults give a clear start-up error or a 503 in the envelope — never a hang or a traceback."""
import sqlite3
import subprocess
import sys
import time

import pytest

from store import events, runs
from store.db import connect, open_database
from store.migrations import LATEST_VERSION, migrate
from tests.processes import REPO, ServiceProcesses
from tests.store_helpers import queue_batch


def _corrupt(path):
    path.write_bytes(b"this is not an SQLite database, it is a lab notebook\n" * 200)


def _newer(path):
    conn = connect(str(path))
    migrate(conn)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()


def _under_a_file(path):
    path.parent.parent.mkdir(parents=True, exist_ok=True)
    path.parent.write_text("a file where a directory should be")


FAULTS = {"corrupt": (_corrupt, "cannot open the database"),
          "newer": (_newer, "newer than this code"),
          "unusable_location": (_under_a_file, "cannot create the database directory")}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_the_worker_refuses_to_start_with_one_clear_line(tmp_path, fault):
    make, message = FAULTS[fault]
    path = tmp_path / "dir" / "app.db"
    if fault != "unusable_location":
        path.parent.mkdir(parents=True)
    make(path)
    done = subprocess.run([sys.executable, "-m", "worker", "--once", "--db", str(path)], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert message in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_the_api_refuses_to_start_with_one_clear_line(tmp_path, fault):
    make, message = FAULTS[fault]
    procs = ServiceProcesses(tmp_path)
    path = tmp_path / "dir" / "app.db"
    if fault != "unusable_location":
        path.parent.mkdir(parents=True)
    make(path)
    procs.env["C2XC_SQLITE_PATH"] = str(path)
    proc, log = procs._spawn([sys.executable, "-m", "gunicorn", "-c",
                              str(REPO / "api" / "gunicorn_conf.py"), "api.wsgi:app"],
                             "gunicorn", procs.env)
    try:
        assert proc.wait(60) != 0  # gunicorn halts on the boot error instead of looping
    finally:
        procs.stop_all()
    text = log.read_text()
    assert "c2xc-api: cannot start: " in text and message in text


@pytest.mark.sqlite_only  # fills SQLite's max_page_count; a full PostgreSQL disk is not simulated
def test_a_full_database_is_a_503_for_writes_while_reads_still_work(make_app):
    app = make_app()
    client = app.test_client()
    conn = app.extensions["c2xc"].database.connection()  # the connection this thread's requests use
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    reply = client.post("/api/v1/batches", json={"user_request": "x" * 15000, "dry_run": True,
                                                 "n_runs": 5})
    assert reply.status_code == 503
    error = reply.get_json()["error"]
    assert error["code"] == "dependency_unavailable" and "full" in error["message"]
    assert client.get("/api/v1/batches").status_code == 200
    assert client.get("/api/v1/healthz").status_code == 200


@pytest.mark.sqlite_only
def test_a_worker_whose_database_fills_up_keeps_its_loop_alive(database, conn):
    from core.settings import load_run_settings, load_worker_settings
    from worker.loop import Worker

    _, (first, second) = queue_batch(conn, 2)
    _, (filler,) = queue_batch(conn, 1)  # claimed last; only used to fill the file
    worker = Worker(open_database(database.target), load_worker_settings(), load_run_settings())
    worker.start()
    try:
        own = worker.conn
        own.execute(f"PRAGMA max_page_count = {own.execute('PRAGMA page_count').fetchone()[0]}")
        with pytest.raises(sqlite3.OperationalError, match="full"):
            for _ in range(10_000):  # use up the free space left inside the pages
                events.append_event(own, filler, "filler", {"x": "y" * 2000}, time.time())
        worker.run_once()  # the run's writes fail; the iteration must not raise
        assert runs.get_run(conn, first).status == "running"
        own.execute("PRAGMA max_page_count = 1073741823")
        assert worker.run_once()  # space is back: the refused ending is recorded, the next run runs
    finally:
        worker.shutdown()
    lost, done = runs.get_run(conn, first), runs.get_run(conn, second)
    assert (lost.status, lost.error_code) == ("failed", "storage_error")
    assert done.status == "completed"
