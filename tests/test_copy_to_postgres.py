"""c2xc-admin copy-to: a lab's SQLite history moved to PostgreSQL, answered the same (issue 31 item 1)."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from store import runs
from store.db import open_database
from store.retention import prune_traces
from tests.backends import cluster_or_skip
from tests.processes import REPO
from tests.store_helpers import execute_queue

API = "/api/v1"
pytestmark = pytest.mark.sqlite_only  # the source is the SQLite file; the target a real PostgreSQL server


@pytest.fixture(scope="module")
def cluster():
    return cluster_or_skip()


def _admin(*args, db: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "store.admin", "--db", db, *args], cwd=REPO,
                          capture_output=True, text=True, timeout=600)


def _lab_history(make_app, fake_llm, tmp_path) -> tuple:
    """A SQLite database with every kind of row: runs and traces (one pruned), evidence, feedback,
    products and presets, experiments, a plan, memory notes with vectors and their deltas."""
    app = make_app(C2XC_DRY_RUN_STEP_DELAY_S="0", OPENAI_API_KEY="sk-copy", OPENAI_BASE_URL=fake_llm.base_url,
                   C2XC_EMBEDDING_MODEL="fake-hash-64", C2XC_EMBEDDING_DIM="64")
    client = app.test_client()
    done = client.post(f"{API}/batches", json={"user_request": "copy me", "dry_run": True, "n_runs": 3,
                                                "recipes_per_run": 2}).get_json()
    target = app.extensions["c2xc"].database.target
    execute_queue(target)
    client.post(f"{API}/batches", json={"user_request": "waiting", "dry_run": True})
    client.post(f"{API}/product_presets/standard")
    items = client.get(f"{API}/products").get_json()["items"]
    run_id = done["runs"][0]["run_id"]
    client.put(f"{API}/runs/{run_id}/feedback", json={"score": 7, "recipe_index": 1, "products": [
        {"product_id": p["product_id"], "value": i + 1} for i, p in enumerate(items[:3])]})
    client.put(f"{API}/products/{items[1]['product_id']}", json={"status": "archived"})  # used, then archived
    note = client.post(f"{API}/memories", json={"title": "copy", "content": "a note the lab wrote"}).get_json()
    client.patch(f"{API}/memories/{note['memory']['memory_id']}", json={"polarity": "prefer"})
    lines = ["M1,M2,atomic_ratio,modifier_smiles,status,notes,product:C2H4,product:CO"]
    lines += [f"Cu,{m},1:{i % 3 + 1},CC(=O)O,measured,row {i},{i + 1},{5 - i % 5}"
              for i, m in enumerate(["Mo", "Zn", "Ni", "Fe", "Co", "Ag", "Bi"])]
    assert client.post(f"{API}/experiments/import", data="\n".join(lines).encode(),
                       content_type="text/csv").status_code == 201
    plan = client.post(f"{API}/plans", json={"explore": True, "size": 3}).get_json()
    client.post(f"{API}/plans/{plan['plan_id']}/accept", json={"items": [1]})
    conn = app.extensions["c2xc"].database.connection()
    pruned = done["runs"][2]["run_id"]
    conn.execute("UPDATE runs SET finished_at = 1 WHERE run_id = ?", (pruned,))
    conn.commit() if conn.in_transaction else None
    prune_traces(conn, finished_before=2)
    assert runs.get_run(conn, pruned).trace_pruned_at
    return app, client, target, {"run_id": run_id, "batch_id": done["batch"]["batch_id"], "plan": plan["plan_id"],
                                 "memory_id": note["memory"]["memory_id"], "pruned": pruned}


def _reads(client, ids) -> dict:
    """Every list (two pages where there are two), detail and evidence read a client makes."""
    urls = ["/batches?limit=1", "/batches", "/runs?limit=2", f"/runs?batch_id={ids['batch_id']}",
            f"/runs/{ids['run_id']}", f"/runs/{ids['run_id']}/output", f"/runs/{ids['run_id']}/events?limit=3",
            f"/runs/{ids['run_id']}/events?include_payload=true", f"/runs/{ids['run_id']}/evidence",
            f"/runs/{ids['run_id']}/evidence?include_content=true", f"/runs/{ids['pruned']}",
            f"/runs/{ids['pruned']}/events", f"/runs/{ids['run_id']}/feedback", "/products", "/product_presets",
            "/experiments?limit=3", "/experiments", f"/plans/{ids['plan']}", "/memories", "/memory/deltas",
            f"/memories/{ids['memory_id']}", f"/runs/{ids['run_id']}/memory", "/export/recipes.csv",
            "/export/experiments.csv", "/predictions/calibration"]
    answers = {}
    for url in urls:
        reply = client.get(API + url)
        assert reply.status_code == 200, (url, reply.get_data(as_text=True)[:300])
        answers[url] = reply.get_data(as_text=True)
        body = reply.get_json(silent=True) or {}
        if body.get("next_cursor"):  # the next page, through the cursor the first page gave
            url2 = f"{url}{'&' if '?' in url else '?'}cursor={body['next_cursor']}"
            answers[url2] = client.get(API + url2).get_data(as_text=True)
        evidence = body.get("items") if url.endswith("/evidence") else None
        for item in evidence or []:
            one = f"/runs/{ids['run_id']}/evidence/{item['alias']}"
            answers[one] = client.get(API + one).get_data(as_text=True)
    return answers


def test_a_lab_history_moves_to_postgresql_and_every_read_answers_the_same(make_app, fake_llm, tmp_path, cluster,
                                                                           monkeypatch):
    app, client, source, ids = _lab_history(make_app, fake_llm, tmp_path)
    before = _reads(client, ids)
    app.extensions["c2xc"].database.dispose()
    name = cluster.create_database()
    url = cluster.url(name)
    try:
        copied = _admin("copy-to", url, db=source)
        assert copied.returncode == 0, copied.stderr
        report = json.loads(copied.stdout)
        assert report["verified"] and all(t["matches"] for t in report["tables"].values())
        for table in ("events", "evidence", "experiments", "memory_vectors", "memory_deltas", "plans"):
            assert report["tables"][table]["rows"] > 0, table
        from api.app import create_app

        monkeypatch.setenv("C2XC_DATABASE_URL", url)
        on_postgres = create_app()
        try:
            after = _reads(on_postgres.test_client(), ids)
        finally:
            on_postgres.extensions["c2xc"].database.dispose()
        assert after.keys() == before.keys()
        for url_ in before:
            assert after[url_] == before[url_], url_
        again = _admin("copy-to", url, db=source)  # the target is no longer empty
        assert again.returncode == 1 and "not empty" in again.stderr
    finally:
        cluster.drop_database(name)


def test_a_live_worker_on_the_source_and_a_sqlite_target_are_refused(tmp_path, cluster):
    db = open_database(str(tmp_path / "busy.db"))
    conn = db.connection()
    from store.migrations import migrate

    migrate(conn)
    conn.execute("INSERT INTO workers (worker_id, pid, host, started_at, heartbeat_at, poll_interval_s)"
                 " VALUES ('worker_x', 1, 'lab', ?, ?, 0.5)", (time.time(), time.time()))
    conn.commit() if conn.in_transaction else None
    name = cluster.create_database()
    try:
        busy = _admin("copy-to", cluster.url(name), db=str(tmp_path / "busy.db"))
        assert busy.returncode == 1 and "worker is using the source" in busy.stderr
    finally:
        cluster.drop_database(name)
    wrong = _admin("copy-to", str(tmp_path / "other.db"), db=str(tmp_path / "busy.db"))
    assert wrong.returncode == 1 and "postgresql://" in wrong.stderr
