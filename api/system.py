"""`/system/worker`: is a worker alive, what is it doing, how long is the queue."""
from __future__ import annotations

import time

from flask.views import MethodView

from api.blueprint import Blueprint
from api.context import conn, services
from api.schemas import WorkerStatusSchema
from store import workers
from store.db import read_transaction

blp = Blueprint("system", __name__, description="Worker liveness and queue")


@blp.route("/system/worker")
class WorkerStatus(MethodView):
    @blp.response(200, WorkerStatusSchema)
    def get(self):
        """Worker liveness from its heartbeat, and runs/batches by status.

        A worker whose heartbeat is older than `C2XC_WORKER_STALE_S` is
        reported as not running.
        """
        now = time.time()
        stale_after = services().worker_settings.stale_after_s
        c = conn()
        with read_transaction(c):
            live = workers.live_workers(c, now, stale_after)
            latest = live[0] if live else workers.latest_worker(c)
            runs_by_status, batches_by_status = workers.queue_counts(c)
        worker = {"running": bool(live), "live_workers": len(live), "worker_id": None,
                  "pid": None, "host": None, "heartbeat_age_s": None, "current_run_id": None,
                  "poll_interval_s": services().worker_settings.poll_interval_s}
        if latest is not None:
            worker.update(worker_id=latest.worker_id, pid=latest.pid, host=latest.host,
                          heartbeat_age_s=round(max(0.0, now - latest.heartbeat_at), 3),
                          current_run_id=latest.current_run_id if live else None,
                          poll_interval_s=latest.poll_interval_s)
        return {"ts": now, "worker": worker,
                "queue": {"runs_by_status": runs_by_status, "batches_by_status": batches_by_status},
                "startup": {"reconciled_running_runs":
                            latest.reconciled_running_runs if latest else None}}
