"""Concurrent load through gunicorn (4 workers) + the worker: nothing lost, nothing locked, no 5xx."""
import random
import statistics
import threading
import time
import uuid

import pytest
import requests

from tests.processes import wait_until

CLIENTS, SECONDS = 16, 15


@pytest.mark.slow
@pytest.mark.sqlite_only  # PostgreSQL under load from many writers: tests/test_multi_host.py
def test_many_clients_for_a_bounded_time(service_factory):
    svc = service_factory(C2XC_WEB_WORKERS="4")
    svc.start_worker()
    created: list[str] = []
    statuses: list[int] = []
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + SECONDS

    def client(seed: int) -> None:
        rng, session = random.Random(seed), requests.Session()
        while time.monotonic() < deadline:
            action = rng.random()
            started = time.perf_counter()
            if action < 0.35 or not created:
                headers = {"Idempotency-Key": str(uuid.uuid4())} if rng.random() < 0.5 else {}
                reply = session.post(f"{svc.base_url}/batches", headers=headers, timeout=30,
                                     json={"user_request": f"load {seed}", "dry_run": True,
                                           "n_runs": rng.randint(1, 3)})
                if reply.status_code == 201:
                    with lock:
                        created.append(reply.json()["batch"]["batch_id"])
            elif action < 0.6:
                reply = session.get(f"{svc.base_url}/runs", params={"limit": 20}, timeout=30)
            elif action < 0.9:
                batch_id = rng.choice(created)
                runs = session.get(f"{svc.base_url}/runs", params={"batch_id": batch_id},
                                   timeout=30).json()["items"]
                reply = session.get(f"{svc.base_url}/runs/{runs[0]['run_id']}/events",
                                    params={"limit": 5}, timeout=30)
            else:
                reply = session.post(f"{svc.base_url}/batches/{rng.choice(created)}/cancel",
                                     json={"reason": "load"}, timeout=30)
            with lock:
                statuses.append(reply.status_code)
                latencies.append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(SECONDS + 60)

    assert not [s for s in statuses if s >= 500]
    assert set(statuses) <= {200, 201, 202}
    for batch_id in created:  # every created batch is there, with all its runs finished
        wait_until(lambda: svc.get(f"/batches/{batch_id}").json()["status"]
                   in ("completed", "canceled"), 60, message=f"{batch_id} to finish")
    listed = svc.get("/system/worker").json()["queue"]["batches_by_status"]
    assert sum(listed.values()) == len(created)
    logs = "\n".join(p.read_text() for p in svc.workdir.glob("*.log"))
    assert "database is locked" not in logs and "Traceback" not in logs
    latencies.sort()
    print(f"\nload: {len(statuses)} requests in {SECONDS}s by {CLIENTS} clients, "
          f"{len(created)} batches, 0 errors, p50 {statistics.median(latencies):.1f} ms, "
          f"p99 {latencies[int(len(latencies) * 0.99)]:.1f} ms")
