"""Every request and response shape of ``/api/v1`` (the OpenAPI spec is generated from these).

Within v1 fields are only ever added, never renamed. Request schemas reject
unknown fields (marshmallow's default), so a typo is a 422, not a silent no-op.

Longer than our ~400-line guideline on purpose: one module holding every
shape (as microblog-api's ``schemas.py``) is where a client developer looks
first, and sections below follow the resources in the order of docs/API.md.
"""

from __future__ import annotations

import unicodedata

import marshmallow as ma
from marshmallow import fields, validate

from core.errors import HTTP_ERROR_CODES
from store.status import BATCH_STATUSES, RUN_STATUSES

MAX_LIMIT = 200
MAX_USER_REQUEST_CHARS = 20_000


def _not_blank(value: str) -> bool:
    if not value.strip():
        raise ma.ValidationError("must not be blank")
    return True


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE


# --- errors -----------------------------------------------------------------

class ErrorBodySchema(ma.Schema):
    code = fields.String(required=True, metadata={"description": "stable machine-readable code",
                                                  "enum": list(HTTP_ERROR_CODES)})

    message = fields.String(required=True)
    details = fields.Dict(required=True)


class ErrorEnvelopeSchema(ma.Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


# --- pagination ---------------------------------------------------------------

class PageArgsSchema(StrictSchema):
    limit = fields.Integer(load_default=50, validate=validate.Range(1, MAX_LIMIT),
                           metadata={"description": f"page size, 1..{MAX_LIMIT} (larger is rejected)"})
    cursor = fields.String(validate=validate.Length(1, 512),
                           metadata={"description": "next_cursor of the previous page"})


def list_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    return ma.Schema.from_dict({
        "items": fields.List(fields.Nested(item_schema), required=True),
        "next_cursor": fields.String(allow_none=True, required=True),
        "has_more": fields.Boolean(required=True),
    }, name=name)


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


class StartupSchema(ma.Schema):
    reconciled_running_runs = fields.Integer(allow_none=True)


class WorkerStatusSchema(ma.Schema):
    ts = fields.Float(required=True)
    worker = fields.Nested(WorkerInfoSchema, required=True)
    queue = fields.Nested(QueueSchema, required=True)
    startup = fields.Nested(StartupSchema, required=True)


# --- batches ------------------------------------------------------------------

class OverridesSchema(StrictSchema):
    llm_model = fields.String(load_default="", validate=validate.Length(max=200))
    kb_principles_dir = fields.String(load_default="", validate=validate.Length(max=1000))
    kb_modulation_dir = fields.String(load_default="", validate=validate.Length(max=1000))
    openai_api_base = fields.String(load_default="", validate=validate.Length(max=1000))


class BatchCreateSchema(StrictSchema):
    user_request = fields.String(required=True, validate=[
        validate.Length(1, MAX_USER_REQUEST_CHARS), _not_blank])
    n_runs = fields.Integer(load_default=1, strict=True, validate=validate.Range(1, 5))
    recipes_per_run = fields.Integer(load_default=1, strict=True, validate=validate.Range(1, 3))
    temperature = fields.Float(load_default=0.7, validate=validate.Range(0, 2))
    dry_run = fields.Boolean(load_default=False)
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


# --- runs ---------------------------------------------------------------------

class RunErrorSchema(ma.Schema):
    code = fields.String(required=True)
    message = fields.String(allow_none=True)


class RunSchema(ma.Schema):
    run_id = fields.String(required=True)
    batch_id = fields.String(required=True)
    run_index = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(RUN_STATUSES))
    dry_run = fields.Boolean(required=True)
    created_at = fields.Float(required=True)
    started_at = fields.Float(allow_none=True)
    finished_at = fields.Float(allow_none=True)
    worker_id = fields.String(allow_none=True)
    error = fields.Nested(RunErrorSchema, allow_none=True)
    cancel_requested = fields.Boolean(required=True)
    cancel_requested_at = fields.Float(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    trace_pruned_at = fields.Float(allow_none=True, metadata={
        "description": "when retention (c2xc-admin prune) deleted this run's events; null if never"})
    schema_version = fields.Integer(required=True)
    extra = fields.Dict(required=True)


class RunListArgsSchema(PageArgsSchema):
    batch_id = fields.String(validate=validate.Length(1, 100))
    status = fields.String(validate=validate.OneOf(RUN_STATUSES))


RunListSchema = list_schema(RunSchema, "RunList")


class RunOutputSchema(ma.Schema):
    recipes_json = fields.Dict(required=True)
    citations = fields.Dict(keys=fields.String(), values=fields.String(), required=True)
    memory_ids = fields.List(fields.Raw(), required=True)


class ModifierCheckSchema(ma.Schema):
    rank = fields.Integer(required=True)
    name = fields.String(allow_none=True, required=True,
                         metadata={"description": "small_molecule_modifier, as the agent wrote it"})
    smiles = fields.String(allow_none=True, required=True,
                           metadata={"description": "modifier_smiles; null for outputs made "
                                     "before structures were checked"})
    canonical_smiles = fields.String(allow_none=True)
    formula = fields.String(allow_none=True)
    molecular_weight = fields.Float(allow_none=True, metadata={"description": "g/mol"})
    inchikey = fields.String(allow_none=True)
    carboxylic_acid_groups = fields.Integer(allow_none=True)
    heavy_atoms = fields.Integer(allow_none=True)
    name_check = fields.String(allow_none=True, metadata={
        "description": "verified | not_parsed | unavailable (OPSIN could not be run); a "
                       "mismatch never reaches a stored output"})
    name_check_note = fields.String(allow_none=True)
    structure_checked = fields.Boolean(required=True, metadata={
        "description": "true when the structure passed every check (COOH, not BTB, small)"})


class ModifierChecksSchema(ma.Schema):
    run_id = fields.String(required=True)
    items = fields.List(fields.Nested(ModifierCheckSchema), required=True)
    limits = fields.Dict(required=True, metadata={
        "description": "the small-molecule limits the structures were checked against"})


class StructureArgsSchema(StrictSchema):
    smiles = fields.String(required=True, validate=validate.Length(1, 300))
    theme = fields.String(load_default="light", validate=validate.OneOf(["light", "dark"]))


class KnowledgeBaseStatusSchema(ma.Schema):
    name = fields.String(required=True)
    variable = fields.String(required=True, metadata={"description": "the setting naming its folder"})
    directory = fields.String(required=True)
    ready = fields.Boolean(required=True)
    problem = fields.String(allow_none=True, required=True)
    documents = fields.Integer(allow_none=True)
    chunk_token_size = fields.Integer(allow_none=True)
    tokenizer = fields.String(allow_none=True)
    embedding = fields.Dict(allow_none=True)


class SystemConfigSchema(ma.Schema):
    versions = fields.Dict(required=True)
    run = fields.Dict(required=True, metadata={"description": "the run settings new batches "
                                               "get (secret-free: the key variable's name only)"})
    llm_api_key_set = fields.Boolean(required=True)
    normal_runs = fields.Dict(required=True, metadata={
        "description": "{ready, missing}: what POST /batches would refuse a normal run for"})
    knowledge_bases = fields.List(fields.Nested(KnowledgeBaseStatusSchema), required=True)
    streams = fields.Dict(required=True)
    auth = fields.Dict(required=True, metadata={
        "description": "{token_required}: whether calls need Authorization: Bearer (never the token)"})


class PlanRevisionSchema(ma.Schema):
    revision = fields.Integer(allow_none=True)
    think = fields.String(allow_none=True)
    plan = fields.List(fields.Dict(), required=True,
                       metadata={"description": "`{step, by}` in order, as stated"})
    at = fields.Float(required=True)


class ReasoningNodeSchema(ma.Schema):
    node_id = fields.String(required=True)
    parent_id = fields.String(allow_none=True, required=True)
    depth = fields.Integer(required=True)
    role = fields.String(allow_none=True, required=True)
    task = fields.Raw(allow_none=True)
    status = fields.String(required=True, metadata={
        "description": "working | done | stopped (the run ended before the node concluded)"})
    think = fields.String(allow_none=True)
    plan = fields.List(fields.Dict(), required=True, metadata={"description": "what remains"})
    plan_revisions = fields.List(fields.Nested(PlanRevisionSchema), required=True)
    steps = fields.List(fields.Dict(), required=True, metadata={
        "description": "`{action, outcome, implicit_plan, at}` per round of tool calls"})
    repairs = fields.List(fields.Dict(), required=True)
    result = fields.Raw(allow_none=True)
    citations = fields.List(fields.String(), required=True)
    llm_calls = fields.Integer(required=True)
    prompt_tokens = fields.Integer(required=True)
    completion_tokens = fields.Integer(required=True)
    started_at = fields.Float(required=True)
    ended_at = fields.Float(allow_none=True)
    duration_s = fields.Float(allow_none=True)
    children = fields.List(fields.String(), required=True)


class RecipeArgumentSchema(ma.Schema):
    rank = fields.Integer(required=True)
    citations = fields.List(fields.String(), required=True)
    node_ids = fields.List(fields.String(), required=True)


class ReasoningSchema(ma.Schema):
    run_id = fields.String(required=True)
    run_status = fields.String(required=True)
    nodes = fields.List(fields.Nested(ReasoningNodeSchema), required=True,
                        metadata={"description": "in the order they started; n1 is the root"})
    recipes = fields.List(fields.Nested(RecipeArgumentSchema), required=True)


# --- lab feedback: products, presets, feedback, export ---------------------------------

class StrictFloat(fields.Float):
    """A JSON number only: "7" and true are refused (a lab value typed as text is a mistake)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, (str, bool)):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


STATUS_VALUES = ("active", "archived")
MAX_NAME, MAX_TEXT, MAX_PRODUCTS = 100, 4000, 50


def _no_control_characters(value: str) -> bool:
    """A name is one line of text. (A NUL would also end it early for SQLite's length()
    in the table's CHECK: found by the contract fuzzing as a 500.)"""
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ma.ValidationError("must not contain control characters (tabs, line breaks, NUL, …)")
    return True


def _name(**extra):
    return fields.String(validate=[validate.Length(1, MAX_NAME), _not_blank, _no_control_characters], **extra)


class _CatalogueEntrySchema(ma.Schema):
    """What products and presets share: a unique name, a status, nothing ever deleted."""

    name = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUS_VALUES))
    created_at = fields.Float(required=True)
    updated_at = fields.Float(required=True)
    schema_version = fields.Integer(required=True)
    extra = fields.Dict(required=True)


class _CatalogueCreateSchema(StrictSchema):
    name = _name(required=True, metadata={"description": "unique, compared trimmed and without case"})
    status = fields.String(load_default="active", validate=validate.OneOf(STATUS_VALUES))
    extra = fields.Dict(load_default=dict)


class _CatalogueUpdateSchema(StrictSchema):
    """Only the fields given change."""

    name = _name()
    status = fields.String(validate=validate.OneOf(STATUS_VALUES),
                           metadata={"description": "archived: kept where it was used, no longer offered"})
    extra = fields.Dict()


class ProductSchema(_CatalogueEntrySchema):
    product_id = fields.String(required=True)


class ProductCreateSchema(_CatalogueCreateSchema):
    pass


class ProductUpdateSchema(_CatalogueUpdateSchema):
    pass


class StatusListArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(STATUS_VALUES))


ProductListSchema = list_schema(ProductSchema, "ProductList")


class PresetSchema(_CatalogueEntrySchema):
    preset_id = fields.String(required=True)
    product_ids = fields.List(fields.String(), required=True)
    products = fields.List(fields.Nested(ProductSchema), required=True,
                           metadata={"description": "in the preset's order"})


def _product_ids(**extra):
    return fields.List(fields.String(validate=validate.Length(1, 100)),
                       validate=validate.Length(max=MAX_PRODUCTS),
                       metadata={"description": "ordered; each an existing, active product, listed once"},
                       **extra)


class PresetCreateSchema(_CatalogueCreateSchema):
    product_ids = _product_ids(required=True)


class PresetUpdateSchema(_CatalogueUpdateSchema):
    product_ids = _product_ids()


PresetListSchema = list_schema(PresetSchema, "PresetList")


class StandardPresetSchema(ma.Schema):
    preset = fields.Nested(PresetSchema, required=True)
    products_added = fields.List(fields.String(), required=True,
                                 metadata={"description": "names of the products created now"})


_AMOUNT = dict(allow_nan=False, validate=validate.Range(min=0, max=1.7976931348623157e308))


class FeedbackProductInSchema(StrictSchema):
    product_id = fields.String(required=True, validate=validate.Length(1, 100))
    value = StrictFloat(required=True, **_AMOUNT, metadata={
        "description": "the measured amount (finite, ≥ 0), in any unit shared by the products"})


class FeedbackPutSchema(StrictSchema):
    score = StrictFloat(required=True, allow_nan=False, validate=validate.Range(0, 10),
                         metadata={"description": "the chemist's overall rating, 0..10"})
    pros = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))
    cons = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))
    other = fields.String(load_default="", validate=validate.Length(max=MAX_TEXT))
    recipe_index = fields.Integer(allow_none=True, load_default=None, strict=True,
                                  validate=validate.Range(min=1),
                                  metadata={"description": "which recipe of the run was made (1-based)"})
    products = fields.List(fields.Nested(FeedbackProductInSchema), load_default=list,
                           validate=validate.Length(max=MAX_PRODUCTS))
    schema_version = fields.Integer(load_default=1, strict=True, validate=validate.OneOf([1]))
    extra = fields.Dict(load_default=dict)


class FeedbackProductSchema(ma.Schema):
    product_id = fields.String(required=True)
    name = fields.String(required=True)
    status = fields.String(required=True)
    value = fields.Float(required=True)
    fraction = fields.Float(required=True, metadata={"description": "value / sum, computed by the server"})


class FeedbackSchema(ma.Schema):
    run_id = fields.String(required=True)
    feedback_id = fields.String(required=True)
    score = fields.Float(required=True)
    pros = fields.String(required=True)
    cons = fields.String(required=True)
    other = fields.String(required=True)
    recipe_index = fields.Integer(allow_none=True, required=True)
    products = fields.List(fields.Nested(FeedbackProductSchema), required=True)
    value_sum = fields.Float(required=True)
    fractions_all_zero = fields.Boolean(required=True, metadata={
        "description": "true when the values sum to 0: every fraction is 0"})
    created_at = fields.Float(required=True)
    updated_at = fields.Float(required=True)
    schema_version = fields.Integer(required=True)
    extra = fields.Dict(required=True)


class ExportArgsSchema(StrictSchema):
    format = fields.String(load_default="csv", validate=validate.OneOf(["csv", "jsonl"]),
                           metadata={"description": "csv (default) or jsonl (one JSON object per line)"})


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


# --- events and evidence -------------------------------------------------------

class EventListArgsSchema(PageArgsSchema):
    event_type = fields.List(fields.String(validate=validate.Length(1, 64)),
                             validate=validate.Length(max=20),
                             metadata={"description": "repeatable; any of these types"})
    since = fields.Float(metadata={"description": "created_at >= since (epoch seconds)"})
    until = fields.Float(metadata={"description": "created_at < until (epoch seconds)"})
    include_payload = fields.Boolean(load_default=False)


class EventSchema(ma.Schema):
    event_id = fields.String(required=True)
    run_id = fields.String(required=True)
    created_at = fields.Float(required=True)
    event_type = fields.String(required=True)
    payload_bytes = fields.Integer(required=True)
    cursor = fields.String(metadata={"description": "pass as `cursor` (list) or `after` (stream) "
                                     "to continue right after this event"})
    payload = fields.Raw(metadata={"description": "only with include_payload=true; always on detail"})


EventListSchema = list_schema(EventSchema, "EventList")


class EventStreamArgsSchema(StrictSchema):
    event_type = fields.List(fields.String(validate=validate.Length(1, 64)),
                             validate=validate.Length(max=20),
                             metadata={"description": "repeatable; only these types"})
    after = fields.String(validate=validate.Length(1, 512),
                          metadata={"description": "continue after this cursor (an event's SSE id "
                                    "or a list page's next_cursor)"})


class LastEventIdHeaderSchema(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    last_event_id = fields.String(data_key="Last-Event-ID", validate=validate.Length(max=512),
                                  metadata={"description": "sent by browsers on reconnect"})


class EvidenceListArgsSchema(PageArgsSchema):
    include_content = fields.Boolean(load_default=False)


class EvidenceSchema(ma.Schema):
    alias = fields.String(required=True)
    ref = fields.String(required=True)
    source = fields.String(required=True)
    kb_namespace = fields.String(required=True)
    lightrag_chunk_id = fields.String(required=True)
    created_at = fields.Float(required=True)
    content = fields.String(metadata={"description": "only with include_content=true; always on detail"})


EvidenceListSchema = list_schema(EvidenceSchema, "EvidenceList")
