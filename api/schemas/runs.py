"""Runs: detail, output, modifier checks, knowledge-base status, reasoning."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.schemas.common import PageArgsSchema, StrictSchema, list_schema
from store.status import RUN_STATUSES

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
    llm_provider = fields.String(allow_none=True, metadata={
        "description": "the known provider at llm_base_url (docs/OPERATIONS.md), or null"})
    normal_runs = fields.Dict(required=True, metadata={
        "description": "{ready, missing, warnings}: what POST /batches would refuse a normal run for, "
                       "and what would make it run worse ({name: reason}; e.g. memory embedded by "
                       "another model, left out of retrieval until c2xc-admin reembed-memories)"})
    knowledge_bases = fields.List(fields.Nested(KnowledgeBaseStatusSchema), required=True)
    streams = fields.Dict(required=True)
    auth = fields.Dict(required=True, metadata={
        "description": "{token_required}: whether calls need Authorization: Bearer (never the token)"})
    memory = fields.Dict(required=True, metadata={
        "description": "{active, stale_vectors, embedder, top_k}: the lab memory; stale vectors "
                       "(another embedder) are left out of retrieval until c2xc-admin reembed-memories"})


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
        "description": "working | done | stopped (the run ended before the node concluded) | "
                       "rejected (the orchestrator answered, but the answer failed the checks: the run failed)"})
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
