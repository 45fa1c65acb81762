"""A process that works one learn job and stops dead at a chosen point, for SIGKILL tests.

    python -m tests.learn_child TARGET BASE_URL MARKER inside|after

``inside``: after the commit has written every item, vector and delta of the
job but before its transaction commits; ``after``: right after it committed.
It then writes MARKER and sleeps, so the test can SIGKILL it there. The hook
wraps the store's own function; the service's code carries no test switch.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path


def main() -> None:
    target, base_url, marker, where = sys.argv[1:5]
    os.environ.update({"OPENAI_BASE_URL": base_url, "C2XC_EMBEDDING_MODEL": "fake-hash-64",
                       "C2XC_EMBEDDING_DIM": "64", "C2XC_MEMORY_LESSONS": "0"})
    from core.settings import load_run_settings
    from store import learn_jobs, memory_learning
    from store.db import open_database
    from worker.memory.learn import Learner

    def stop_here() -> None:
        Path(marker).write_text(where)
        time.sleep(120)

    apply_delta = memory_learning.apply_delta

    def apply_then_stop(*args, **kwargs):
        delta_id = apply_delta(*args, **kwargs)
        if where == "inside":
            stop_here()  # the transaction is open: nothing is committed yet
        return delta_id

    memory_learning.apply_delta = apply_then_stop
    conn = open_database(target).connection()
    conn.execute("INSERT INTO workers (worker_id, pid, host, started_at, heartbeat_at, poll_interval_s)"
                 " VALUES ('w-child', ?, 'h', 0, 0, 1)", (os.getpid(),))
    job = learn_jobs.claim_next_learn_job(conn, "w-child", time.time())
    Learner(load_run_settings()).execute(conn, job, "w-child")
    if where == "after":
        stop_here()


if __name__ == "__main__":
    main()
