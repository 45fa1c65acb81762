"""Lab memory: items, their provenance, learn jobs, deltas and rollbacks (SPEC section 12)."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.schemas.common import (STATUS_VALUES, PageArgsSchema, StrictSchema, bounded_text, list_schema,
                                no_control_characters, not_blank)
from core.aliases import has_run_local_alias
from core.recipe_key import RecipeKeyError, canonical_modifier

KINDS = ("lab_result", "lesson", "note")
ROLES = ("global", "orchestrator", "tio2_expert", "mof_expert")
POLARITIES = ("prefer", "avoid", "neutral")
MAX_TITLE, MAX_CONTENT, MAX_QUERY = 200, 4000, 500
MAX_SEARCH_LIMIT = 50
def _no_run_local_alias(value: str) -> bool:
    """[C3] or [M1] means something only inside the run that minted it ([C2H4], a formula, is fine)."""
    if has_run_local_alias(value):
        raise ma.ValidationError("must not contain run-local citation aliases such as [C3] or "
                                 "[M1]; say what the evidence showed instead")
    return True


def _title(**extra):
    return fields.String(validate=[bounded_text(MAX_TITLE), no_control_characters, _no_run_local_alias],
                         **extra)


def _content(**extra):
    return fields.String(validate=[bounded_text(MAX_CONTENT), _no_run_local_alias], **extra)


class MemoryItemSchema(ma.Schema):
    memory_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(STATUS_VALUES))
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    role = fields.String(required=True, validate=validate.OneOf(ROLES),
                         metadata={"description": "who is shown it: one expert, the orchestrator, or all"})
    polarity = fields.String(required=True, validate=validate.OneOf(POLARITIES))
    title = fields.String(required=True)
    content = fields.String(required=True)
    recipe = fields.Dict(allow_none=True, required=True,
                         metadata={"description": "lab_result: M1, M2, atomic_ratio, modifier, modifier_smiles"})
    outcome = fields.Dict(allow_none=True, required=True,
                          metadata={"description": "lab_result: score and product fractions"})
    source_run_id = fields.String(allow_none=True, required=True)
    feedback_version = fields.Integer(allow_none=True, required=True)
    source_experiment_id = fields.String(allow_none=True, required=True, metadata={
        "description": "lab_result and lesson: the experiment learned from"})
    support_run_ids = fields.List(fields.String(), required=True,
                                  metadata={"description": "runs of the experiments in support_experiment_ids"})
    contra_run_ids = fields.List(fields.String(), required=True)
    support_experiment_ids = fields.List(fields.String(), required=True, metadata={
        "description": "later results that agree: replicates of a lab_result, or results whose lesson repeats it"})
    contra_experiment_ids = fields.List(fields.String(), required=True)
    embedder = fields.String(allow_none=True, required=True,
                             metadata={"description": "model@dim of its vector; null: no vector"})
    created_at = fields.Float(required=True)
    updated_at = fields.Float(required=True)
    schema_version = fields.Integer(required=True)
    extra = fields.Dict(required=True)
    score = fields.Float(allow_none=True, metadata={"description": "similarity to q in a search; null otherwise"})


class MemoryDetailSchema(MemoryItemSchema):
    provenance = fields.Dict(required=True, metadata={"description": (
        "source run and feedback version, source experiment; deltas that touched it; runs it was "
        "shown to; runs that cited it; `contradicting`: active lab results of the same recipe "
        "with the opposite verdict")})


MemoryListSchema = list_schema(MemoryItemSchema, "MemoryList")


class MemoryListArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(STATUS_VALUES))
    kind = fields.String(validate=validate.OneOf(KINDS))
    role = fields.String(validate=validate.OneOf(ROLES))
    polarity = fields.String(validate=validate.OneOf(POLARITIES))
    metal = fields.String(validate=validate.Length(1, 3), metadata={
        "description": "memories learned from experiments with this metal (either one), e.g. Cu"})
    modifier = fields.String(validate=[validate.Length(1, 500), not_blank], metadata={
        "description": "memories learned from experiments with this modifier, as SMILES (any way of "
                       "writing it: compared by RDKit's canonical form)"})
    q = fields.String(validate=[validate.Length(1, MAX_QUERY), not_blank], metadata={
        "description": f"similarity search over active memories, best first, at most "
                      f"{MAX_SEARCH_LIMIT} (no cursor); needs the embedding endpoint"})

    @ma.validates_schema
    def _modifier_parses(self, data, **_):
        if data.get("modifier"):
            try:
                data["modifier"] = canonical_modifier(data["modifier"])
            except RecipeKeyError as exc:
                raise ma.ValidationError(str(exc), "modifier") from exc

    @ma.validates_schema
    def _search_covers_active_memories(self, data, **_):
        if data.get("q") and data.get("status") == "archived":
            raise ma.ValidationError("a search by meaning covers active memories only (archived ones "
                                     "have no vector); list archived memories without q", "q")

    @ma.validates_schema
    def _search_is_bounded(self, data, **_):
        if data.get("q") and (data.get("cursor") or data.get("limit", 0) > MAX_SEARCH_LIMIT):
            raise ma.ValidationError(f"a search (q) returns one ranked page: limit at most "
                                     f"{MAX_SEARCH_LIMIT}, no cursor", "q")


class MemoryCreateSchema(StrictSchema):
    title = _title(required=True)
    content = _content(required=True)
    role = fields.String(load_default="global", validate=validate.OneOf(ROLES))
    polarity = fields.String(load_default="neutral", validate=validate.OneOf(POLARITIES))
    extra = fields.Dict(load_default=dict)


class MemoryPatchSchema(StrictSchema):
    """Only the fields given change; each change is a delta that can be rolled back."""

    title = _title()
    content = _content()
    role = fields.String(validate=validate.OneOf(ROLES))
    polarity = fields.String(validate=validate.OneOf(POLARITIES))
    status = fields.String(validate=validate.OneOf(STATUS_VALUES))

    @ma.validates_schema
    def _something(self, data, **_):
        if not data:
            raise ma.ValidationError("give at least one of title, content, role, polarity, status")


class MemoryChangedSchema(ma.Schema):
    memory = fields.Nested(MemoryItemSchema, required=True)
    delta_id = fields.String(allow_none=True, required=True,
                             metadata={"description": "the change, for rollback; null: nothing changed"})


class LearnJobErrorSchema(ma.Schema):
    code = fields.String(required=True)
    message = fields.String(allow_none=True)


class LearnJobSchema(ma.Schema):
    job_id = fields.String(required=True)
    experiment_id = fields.String(allow_none=True, required=True, metadata={
        "description": "what is learned: a measured or failed experiment (a run's feedback is one)"})
    run_id = fields.String(allow_none=True, required=True,
                           metadata={"description": "the run the experiment came from, if any"})
    feedback_version = fields.Integer(allow_none=True, required=True,
                                      metadata={"description": "when the experiment is a run's feedback"})
    reason = fields.String(required=True, validate=validate.OneOf(
        ["feedback", "manual", "migration", "experiment"]))
    status = fields.String(required=True, validate=validate.OneOf(
        ["queued", "running", "completed", "failed", "superseded"]))
    attempts = fields.Integer(required=True)
    created_at = fields.Float(required=True)
    started_at = fields.Float(allow_none=True, required=True)
    finished_at = fields.Float(allow_none=True, required=True)
    error = fields.Nested(LearnJobErrorSchema, allow_none=True, required=True)
    delta_id = fields.String(allow_none=True, required=True)
    notes = fields.Dict(required=True, metadata={"description": "lessons asked and checked, LLM calls"})


class DeltaOpSchema(ma.Schema):
    memory_id = fields.String(required=True)
    op = fields.String(required=True, validate=validate.OneOf(["add", "update"]))
    before = fields.Dict(allow_none=True, required=True)
    after = fields.Dict(required=True)


class RollbackPreviewSchema(ma.Schema):
    possible = fields.Boolean(required=True)
    already_rolled_back = fields.Boolean(required=True)
    conflicting_deltas = fields.List(fields.String(), required=True)
    leaves_retrieval = fields.List(fields.String(), required=True)
    returns_to_retrieval = fields.List(fields.String(), required=True)
    restored = fields.List(fields.String(), required=True)


class DeltaSchema(ma.Schema):
    delta_id = fields.String(required=True)
    source = fields.String(required=True, validate=validate.OneOf(["learn", "manual"]))
    status = fields.String(required=True, validate=validate.OneOf(["applied", "rolled_back"]))
    run_id = fields.String(allow_none=True, required=True)
    feedback_version = fields.Integer(allow_none=True, required=True)
    job_id = fields.String(allow_none=True, required=True)
    summary = fields.String(required=True)
    created_at = fields.Float(required=True)
    rolled_back_at = fields.Float(allow_none=True, required=True)
    rolled_back_why = fields.String(allow_none=True, required=True)
    experiment_id = fields.String(allow_none=True, required=True,
                                  metadata={"description": "a learn delta: the experiment learned"})
    undone_by = fields.String(allow_none=True, required=True, metadata={
        "description": "the re-learn whose own ops undid this delta; rolling that one back restores it"})
    memory_ids = fields.List(fields.String(), required=True)


class DeltaDetailSchema(DeltaSchema):
    ops = fields.List(fields.Nested(DeltaOpSchema), required=True)
    rollback = fields.Nested(RollbackPreviewSchema, required=True,
                             metadata={"description": "what a rollback would do now"})


DeltaListSchema = list_schema(DeltaSchema, "DeltaList")


class DeltaListArgsSchema(PageArgsSchema):
    run_id = fields.String(validate=validate.Length(1, 100))
    memory_id = fields.String(validate=validate.Length(1, 100))
    experiment_id = fields.String(validate=validate.Length(1, 100))
    status = fields.String(validate=validate.OneOf(["applied", "rolled_back"]))


class RollbackResultSchema(RollbackPreviewSchema):
    delta = fields.Nested(DeltaSchema, required=True)


class ExposureSchema(ma.Schema):
    alias = fields.String(required=True)
    memory_id = fields.String(required=True)
    node_id = fields.String(allow_none=True, required=True)
    role = fields.String(required=True)
    via = fields.String(required=True, validate=validate.OneOf(["context", "search"]))
    score = fields.Float(required=True)
    created_at = fields.Float(required=True)
    kind = fields.String(required=True)
    polarity = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True)


class CitedMemorySchema(ma.Schema):
    alias = fields.String(required=True)
    memory_id = fields.String(required=True)
    title = fields.String(required=True)
    kind = fields.String(required=True)
    polarity = fields.String(required=True)
    status = fields.String(required=True)


class RunMemorySchema(ma.Schema):
    run_id = fields.String(required=True)
    memory_enabled = fields.Boolean(required=True, metadata={
        "description": "false when the batch switched memory off (memory: false)"})
    exposures = fields.List(fields.Nested(ExposureSchema), required=True)
    cited = fields.List(fields.Nested(CitedMemorySchema), required=True)
    learn_jobs = fields.List(fields.Nested(LearnJobSchema), required=True)
    deltas = fields.List(fields.Nested(DeltaSchema), required=True)
