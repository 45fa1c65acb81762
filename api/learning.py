"""What a run was shown of the lab memory and what was learned from it; deltas and rollback.

``POST /runs/{id}/learn`` only queues a learn job: the worker learns. A
rollback, in contrast, needs no model and no endpoint — it writes back the
before-states its delta recorded — so it happens here, in one transaction.
"""
from __future__ import annotations

import time
from typing import Any

from flask.views import MethodView

from api.blueprint import Blueprint
from api.context import conn
from api.schemas.memory import (DeltaDetailSchema, DeltaListArgsSchema, DeltaListSchema,
                                LearnJobSchema, RollbackResultSchema, RunMemorySchema)
from api.serializers import page_dict
from store import learn_jobs, learn_requests, memory_changes, memory_deltas, memory_exposures, runs
from store.batches import get_batch

blp = Blueprint("learning", __name__, description="Learning from lab feedback: jobs, deltas, rollback")


def job_dict(job: learn_jobs.LearnJob) -> dict[str, Any]:
    error = {"code": job.error_code, "message": job.error_message} if job.error_code else None
    return {**vars(job), "error": error}


def queued_answer(job: learn_jobs.LearnJob) -> tuple[dict[str, Any], int]:
    """202 for a job that will learn; 200 with the job that already learned this input."""
    return job_dict(job), 202 if job.status in (learn_jobs.QUEUED, learn_jobs.RUNNING) else 200


@blp.route("/runs/<string:run_id>/memory")
class RunMemory(MethodView):
    @blp.response(200, RunMemorySchema)
    @blp.alt_response(404, description="no such run")
    def get(self, run_id):
        """What the run was shown (every exposure, cited or not) and cited of the lab memory,
        and what was learned from its feedback: learn jobs and their deltas."""
        run = runs.get_run(conn(), run_id)
        snapshot = get_batch(conn(), run.batch_id).config_snapshot
        deltas, _, _ = memory_deltas.list_deltas(conn(), run_id=run_id, status=None, limit=50,
                                                 cursor=None)
        return {"run_id": run_id,
                "memory_enabled": bool((snapshot.get("memory") or {}).get("enabled", True)),
                "exposures": memory_exposures.exposures_of_run(conn(), run_id),
                "cited": memory_exposures.citations_of_run(conn(), run_id),
                "learn_jobs": [job_dict(j) for j in learn_jobs.jobs_of_run(conn(), run_id)],
                "deltas": deltas}


@blp.route("/runs/<string:run_id>/learn")
class RunLearn(MethodView):
    @blp.response(202, LearnJobSchema)
    @blp.alt_response(404, description="no such run")
    @blp.alt_response(200, schema=LearnJobSchema, description="this version is learned already: the job "
                      "that learned it (nothing is queued)")
    @blp.alt_response(409, description="the run has no feedback, or is a dry run (never learned from)")
    def post(self, run_id):
        """Queue learning from the run's current feedback again (e.g. after a failed job or a
        rollback); the worker undoes its previous learning and applies the new one. A version
        already learned is not learned twice: the answer is the job that learned it."""
        return queued_answer(learn_requests.request_run_learning(conn(), run_id, time.time()))


@blp.route("/experiments/<string:experiment_id>/learn")
class ExperimentLearn(MethodView):
    @blp.response(202, LearnJobSchema)
    @blp.alt_response(404, description="no such experiment")
    @blp.alt_response(200, schema=LearnJobSchema, description="this result is learned already: the job "
                      "that learned it (nothing is queued)")
    @blp.alt_response(409, description="not measured or failed, archived, or a dry run's result")
    def post(self, experiment_id):
        """Queue learning from a measured or failed experiment again (e.g. after a failed job or
        a rollback). What is already learned is not learned twice: the answer is its job."""
        return queued_answer(learn_requests.request_experiment_learning(conn(), experiment_id,
                                                                        time.time()))


@blp.route("/memory/deltas")
class Deltas(MethodView):
    @blp.arguments(DeltaListArgsSchema, location="query")
    @blp.response(200, DeltaListSchema)
    def get(self, args):
        """Every change to the memory, newest first; filters `run_id`, `experiment_id`,
        `memory_id`, `status`."""
        items, next_cursor, has_more = memory_deltas.list_deltas(
            conn(), run_id=args.get("run_id"), status=args.get("status"),
            memory_id=args.get("memory_id"), limit=args["limit"], cursor=args.get("cursor"),
            experiment_id=args.get("experiment_id"))
        return page_dict(items, next_cursor, has_more)


@blp.route("/memory/deltas/<string:delta_id>")
class DeltaDetail(MethodView):
    @blp.response(200, DeltaDetailSchema)
    @blp.alt_response(404, description="no such delta")
    def get(self, delta_id):
        """One change with every item's state before and after, and what a rollback would do now
        (which memories leave retrieval, which later changes stand in the way)."""
        delta = memory_deltas.get_delta(conn(), delta_id)
        return {**vars(delta), "rollback": memory_deltas.rollback_preview(conn(), delta_id)}


@blp.route("/memory/deltas/<string:delta_id>/rollback")
class DeltaRollback(MethodView):
    @blp.response(200, RollbackResultSchema)
    @blp.alt_response(404, description="no such delta")
    @blp.alt_response(409, description="already rolled back, or a later change still applied "
                      "touched the same memories (details.conflicting_deltas)")
    def post(self, delta_id):
        """Undo a change exactly: every memory it touched is restored to its before-state; a
        memory it added is archived and its vector removed, in one transaction."""
        result = memory_changes.rollback(conn(), delta_id, time.time())
        return {**result, "delta": memory_deltas.get_delta(conn(), delta_id)}
