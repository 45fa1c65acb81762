"""Batches: creation, listing, cancel requests."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.schemas.common import MAX_USER_REQUEST_CHARS, PageArgsSchema, StrictSchema, bounded_text, list_schema
from store.status import BATCH_STATUSES

# --- batches ------------------------------------------------------------------

class OverridesSchema(StrictSchema):
    llm_model = fields.String(load_default="", validate=validate.Length(max=200))
    kb_principles_dir = fields.String(load_default="", validate=validate.Length(max=1000))
    kb_modulation_dir = fields.String(load_default="", validate=validate.Length(max=1000))
    openai_api_base = fields.String(load_default="", validate=validate.Length(max=1000))


class BatchCreateSchema(StrictSchema):
    user_request = fields.String(required=True, validate=bounded_text(MAX_USER_REQUEST_CHARS))
    n_runs = fields.Integer(load_default=1, strict=True, validate=validate.Range(1, 5))
    recipes_per_run = fields.Integer(load_default=1, strict=True, validate=validate.Range(1, 3))
    temperature = fields.Float(load_default=0.7, validate=validate.Range(0, 2))
    dry_run = fields.Boolean(load_default=False)
    memory = fields.Boolean(load_default=True, metadata={
        "description": "show the runs the lab memory (default); false switches it off for this "
                       "batch, e.g. for an A/B comparison (recorded in the config snapshot)"})
    overrides = fields.Nested(OverridesSchema, load_default=dict,
                              metadata={"description": "development aid; each field must be "
                                        "allowed by the operator (see docs/OPERATIONS.md)"})
    schema_version = fields.Integer(load_default=1, strict=True, validate=validate.OneOf([1]))
    extra = fields.Dict(load_default=dict)


class IdempotencyHeaderSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        validate=[validate.Length(1, 255), validate.Regexp(r"^[\x21-\x7e]+$",
                                                           error="printable ASCII, no spaces")],
        metadata={"description": "same key + same body replays the first response for 24 h"})


class RunRefSchema(ma.Schema):
    run_id = fields.String(required=True)
    run_index = fields.Integer(required=True)
    status = fields.String(required=True)


class BatchSchema(ma.Schema):
    batch_id = fields.String(required=True)
    created_at = fields.Float(required=True)
    status = fields.String(required=True, validate=validate.OneOf(BATCH_STATUSES))
    user_request = fields.String(required=True)
    n_runs = fields.Integer(required=True)
    recipes_per_run = fields.Integer(required=True)
    temperature = fields.Float(required=True)
    dry_run = fields.Boolean(required=True)
    run_counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    config_snapshot = fields.Dict()
    schema_version = fields.Integer(required=True)
    extra = fields.Dict(required=True)


class BatchCreatedSchema(ma.Schema):
    batch = fields.Nested(BatchSchema, required=True)
    runs = fields.List(fields.Nested(RunRefSchema), required=True)


class BatchListArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(BATCH_STATUSES))
    q = fields.String(validate=validate.Length(1, 500),
                      metadata={"description": "case-insensitive substring of user_request"})


BatchListSchema = list_schema(BatchSchema, "BatchList")



class CancelBodySchema(StrictSchema):

    reason = fields.String(allow_none=True, validate=validate.Length(max=2000))


class CancelResultSchema(ma.Schema):
    cancel_id = fields.String(allow_none=True, required=True)
    status = fields.String(required=True, validate=validate.OneOf(
        ["requested", "already_requested", "already_finished"]))
    target_type = fields.String(required=True)
    target_id = fields.String(required=True)
    target_status = fields.String(required=True)
    message = fields.String(required=True)
