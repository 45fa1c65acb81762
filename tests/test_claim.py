import threading
import time

from store import cancels, runs
from store.db import open_database
from tests.store_helpers import queue_batch


def test_claim_takes_the_oldest_queued_run(conn):
    _, first = queue_batch(conn, 2)
    _, second = queue_batch(conn, 1)
    claimed = [runs.claim_next_run(conn, "w", time.time()).run_id for _ in range(3)]
    assert claimed == first + second
    assert runs.claim_next_run(conn, "w", time.time()) is None


def test_claim_never_takes_a_run_with_a_cancel_request(conn):
    batch_id, run_ids = queue_batch(conn, 3)
    cancels.request_run_cancel(conn, run_ids[0], "not this one", time.time())
    assert runs.claim_next_run(conn, "w", time.time()).run_id == run_ids[1]
    cancels.request_batch_cancel(conn, batch_id, "stop all", time.time())
    assert runs.claim_next_run(conn, "w", time.time()) is None


def test_two_connections_racing_never_claim_the_same_run(database):
    conn = database.connection()
    total = 60
    for _ in range(total // 3):
        queue_batch(conn, 3)
    claimed: dict[str, list[str]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def claim_all(worker_id):
        db = open_database(database.target)  # its own connection, as a second process would have
        start.wait()
        while (run := runs.claim_next_run(db.connection(), worker_id, time.time())) is not None:
            claimed[worker_id].append(run.run_id)
        db.close()

    threads = [threading.Thread(target=claim_all, args=(w,)) for w in claimed]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    everything = claimed["a"] + claimed["b"]
    assert len(everything) == total and len(set(everything)) == total
    rows = conn.execute("SELECT run_id, worker_id FROM runs WHERE status = 'running'").fetchall()
    owner = {r["run_id"]: r["worker_id"] for r in rows}
    assert all(owner[r] == w for w, ids in claimed.items() for r in ids)
