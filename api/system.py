"""`/system/worker` and `/system/config`: worker liveness, queue, versions, configuration."""
from __future__ import annotations

import time

from flask.views import MethodView

from api import API_VERSION, __version__
from api.blueprint import Blueprint
from api.context import conn, services
from api.schemas import SystemConfigSchema, WorkerStatusSchema
from core.kb_folder import folder_status
from core.llm_providers import provider_for
from core.preflight import missing_for_normal_run
from store import learn_jobs, memory_items, migrations, workers
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
            learning = learn_jobs.counts(c)
        worker = {"running": bool(live), "live_workers": len(live), "worker_id": None,
                  "pid": None, "host": None, "heartbeat_age_s": None, "current_run_id": None,
                  "poll_interval_s": services().worker_settings.poll_interval_s}
        if latest is not None:
            worker.update(worker_id=latest.worker_id, pid=latest.pid, host=latest.host,
                          heartbeat_age_s=round(max(0.0, now - latest.heartbeat_at), 3),
                          current_run_id=latest.current_run_id if live else None,
                          poll_interval_s=latest.poll_interval_s)
        return {"ts": now, "worker": worker,
                "queue": {"runs_by_status": runs_by_status, "batches_by_status": batches_by_status,
                          "learn_jobs_by_status": learning},
                "startup": {"reconciled_running_runs":
                            latest.reconciled_running_runs if latest else None}}


@blp.route("/system/config")
class SystemConfig(MethodView):
    @blp.response(200, SystemConfigSchema)
    @blp.alt_response(503, description="the database is unavailable")

    def get(self):
        """The non-secret configuration, versions, and whether normal runs can start.

        Knowledge bases are checked as the preflight checks them (folder,
        LightRAG files, embedding); no secret is ever included.
        """
        s = services()
        run = s.run_settings
        missing = missing_for_normal_run(run)
        stale = memory_items.stale_vector_count(conn(), run.embedder_stamp)
        warnings = {"memory": f"{stale} active memories were embedded by another model than "
                              f"{run.embedder_stamp} and are left out of retrieval until "
                              "c2xc-admin reembed-memories"} if stale else {}
        return {
            "versions": {"service": __version__, "api": API_VERSION,
                         "db_schema": migrations.current_version(conn()),
                         "code_schema": migrations.LATEST_VERSION},
            "run": run.snapshot(), "llm_api_key_set": bool(run.api_key),
            "llm_provider": getattr(provider_for(run.llm_base_url), "name", None),
            "normal_runs": {"ready": not missing, "missing": missing, "warnings": warnings},
            "knowledge_bases": [folder_status(name, directory, run.embedding_model,
                                              run.embedding_dim)
                                for name, directory in run.kb_dirs().items()],
            "streams": {"max_per_api_worker": s.api_settings.streams.max_streams,
                        "keepalive_s": s.api_settings.streams.keepalive_s},
            "auth": {"token_required": bool(s.api_settings.auth.token)},
            "memory": {"active": memory_items.active_count(conn()),
                       "stale_vectors": stale,
                       "embedder": run.embedder_stamp, "top_k": run.memory.top_k},
        }
