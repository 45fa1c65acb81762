"""System: health, version, worker liveness."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields

# --- system -------------------------------------------------------------------

class HealthSchema(ma.Schema):
    status = fields.String(required=True)


class VersionSchema(ma.Schema):
    version = fields.String(required=True)
    api_version = fields.String(required=True)
    schema_version = fields.Integer(required=True, metadata={"description": "database schema version"})
    code_schema_version = fields.Integer(required=True)


class WorkerInfoSchema(ma.Schema):
    running = fields.Boolean(required=True)
    worker_id = fields.String(allow_none=True)
    pid = fields.Integer(allow_none=True)
    host = fields.String(allow_none=True)
    heartbeat_age_s = fields.Float(allow_none=True)
    current_run_id = fields.String(allow_none=True)
    poll_interval_s = fields.Float(allow_none=True)
    live_workers = fields.Integer()


class QueueSchema(ma.Schema):
    runs_by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    batches_by_status = fields.Dict(keys=fields.String(), values=fields.Integer())
    learn_jobs_by_status = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "lab-memory learn jobs by status (the worker takes them before runs)"})


class StartupSchema(ma.Schema):
    reconciled_running_runs = fields.Integer(allow_none=True)


class WorkerStatusSchema(ma.Schema):
    ts = fields.Float(required=True)
    worker = fields.Nested(WorkerInfoSchema, required=True)
    queue = fields.Nested(QueueSchema, required=True)
    startup = fields.Nested(StartupSchema, required=True)
