"""SIGKILL at random points: no run stays running or runs twice, no finished step is lost."""
import os
import random
import signal
import subprocess
import threading
import time

import pytest
import requests

from store.db import connect, is_postgres_url, open_database
from tests.processes import wait_until

TERMINAL_EVENTS = {"final_output", "run_failed", "run_canceled"}
DRY_RUN_TYPES = ["run_started", "recap_info", "recap_info", "kb_query", "kb_query", "llm_request",
                 "llm_response", "recap_info", "citations_resolved", "final_output"]


def _integrity_ok(target: str) -> bool:
    """SQLite's own check of its file; PostgreSQL's WAL replay needs no such check from us."""
    if is_postgres_url(target):
        return True
    conn = connect(target)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()


@pytest.mark.slow
def test_worker_killed_at_random_points_of_many_runs(service_factory):
    svc = service_factory(C2XC_DRY_RUN_STEP_DELAY_S="0.01")
    run_ids = [r["run_id"] for _ in range(8) for r in svc.create_batch(n_runs=5)["runs"]]
    rng = random.Random(20261124)
    for _ in range(10):
        worker = svc.start_worker()
        wait_until(lambda: svc.get("/runs", params={"status": "running"}).json()["items"],
                   30, message="the worker to hold a run")
        time.sleep(rng.uniform(0.0, 0.15))  # the random kill point within a ~0.1 s run
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    svc.start_worker()
    for run_id in run_ids:
        wait_until(lambda: svc.run(run_id)["status"] in ("completed", "failed"), 60,
                   message=f"{run_id} to finish")
    outcomes = {"completed": 0, "failed": 0}
    for run_id in run_ids:
        run = svc.run(run_id)
        types = [e["event_type"] for e in svc.all_events(run_id)]
        assert types.count("run_started") == 1, (run_id, types)  # never executed twice
        assert types[-1] in TERMINAL_EVENTS and sum(t in TERMINAL_EVENTS for t in types) == 1
        if run["status"] == "completed":
            assert types == DRY_RUN_TYPES
        else:
            assert run["error"]["code"] == "worker_lost"
            assert types[:-1] == DRY_RUN_TYPES[:len(types) - 1]  # every step before the kill kept
        outcomes[run["status"]] += 1
    assert outcomes["failed"] >= 1  # the kills did land mid-run
    assert svc.get("/runs", params={"status": "running"}).json()["items"] == []
    assert _integrity_ok(svc.database_target)


@pytest.mark.slow
def test_gunicorn_workers_killed_mid_request_never_leave_a_partial_batch(service_factory):
    svc = service_factory(C2XC_WEB_WORKERS="2")
    master = svc.processes[0].pid
    stop = threading.Event()
    accepted, lost = [], []

    def submit():
        session = requests.Session()
        while not stop.is_set():
            try:
                reply = session.post(f"{svc.base_url}/batches", timeout=30,
                                     json={"user_request": "kill me", "dry_run": True, "n_runs": 5})
                if reply.status_code == 201:
                    accepted.append(reply.json()["batch"]["batch_id"])
            except requests.RequestException:
                lost.append(1)  # the worker serving it died; the batch is whole or absent

    clients = [threading.Thread(target=submit) for _ in range(6)]
    for c in clients:
        c.start()
    kills = 0
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        children = subprocess.run(["pgrep", "-P", str(master)], capture_output=True,
                                  text=True).stdout.split()
        if children:
            os.kill(int(random.choice(children)), signal.SIGKILL)
            kills += 1
        time.sleep(0.3)  # pace the kills; gunicorn respawns workers meanwhile
    stop.set()
    for c in clients:
        c.join(60)
    wait_until(lambda: svc.get("/healthz").status_code == 200, 30, message="API back")

    db = open_database(svc.database_target)
    try:
        sizes = db.connection().execute("SELECT b.batch_id, b.n_runs, COUNT(r.run_id) FROM batches b"
                             " LEFT JOIN runs r ON r.batch_id = b.batch_id GROUP BY b.batch_id, b.n_runs"
                             ).fetchall()
    finally:
        db.dispose()
    assert kills >= 5 and accepted
    assert all(n_runs == count == 5 for _, n_runs, count in sizes)  # whole or absent
    assert set(accepted) <= {batch_id for batch_id, _, _ in sizes}
    assert _integrity_ok(svc.database_target)
