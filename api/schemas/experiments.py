"""Experiments (SPEC 14): recipes the lab plans, makes, measures — and CSV import of a lab notebook."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.schemas.common import MAX_PRODUCTS, PageArgsSchema, StrictFloat, StrictSchema, list_schema
from api.schemas.lab import FeedbackProductInSchema, FeedbackProductSchema
from store.experiment_rows import STATUSES

MAX_CONDITIONS, MAX_NOTES = 2000, 4000
_SCORE = dict(allow_nan=False, validate=validate.Range(0, 10),
              metadata={"description": "the chemist's overall rating, 0..10 (measured only)"})


class RecipeInSchema(StrictSchema):
    """A recipe entered by hand: checked like the agent's (metals, ratio, the modifier's structure)."""

    M1 = fields.String(required=True, validate=validate.Length(1, 10), metadata={"example": "Cu"})
    M2 = fields.String(required=True, validate=validate.Length(1, 10), metadata={"example": "Mo"})
    atomic_ratio = fields.String(required=True, validate=validate.Length(1, 40), metadata={"example": "1:3"})
    modifier = fields.String(validate=validate.Length(1, 300), metadata={
        "description": "the modifier's name as a chemist writes it (checked against the structure with "
                       "OPSIN where it parses)", "example": "benzoic acid"})
    small_molecule_modifier = fields.String(validate=validate.Length(1, 300), metadata={
        "description": "the same as `modifier` (the field name of a run's recipe); give one of them"})
    modifier_smiles = fields.String(required=True, validate=validate.Length(1, 500),
                                    metadata={"example": "OC(=O)c1ccccc1"})

    @ma.validates_schema
    def _one_name(self, data, **kwargs):
        if "modifier" in data and "small_molecule_modifier" in data:
            raise ma.ValidationError("give the name once, as modifier", "small_molecule_modifier")


class RecipeOutSchema(ma.Schema):
    M1 = fields.String(required=True)
    M2 = fields.String(required=True)
    atomic_ratio = fields.String(required=True, metadata={"description": "as entered"})
    modifier = fields.String(allow_none=True, required=True)
    modifier_smiles = fields.String(required=True)
    canonical_smiles = fields.String(required=True, metadata={"description": "RDKit's, for the key"})
    recipe_key = fields.String(required=True, metadata={
        "description": "same key = same recipe: metals in alphabetical order with the reduced ratio "
                       "turned to match, and the canonical SMILES (`Cu1Mo3|O=C(O)c1ccccc1`)"})
    metal_pair = fields.String(required=True, metadata={"example": "Cu-Mo"})


class SourceSchema(ma.Schema):
    run_id = fields.String(required=True)
    rank = fields.Integer(required=True)


def _products(**extra):
    return fields.List(fields.Nested(FeedbackProductInSchema), validate=validate.Length(max=MAX_PRODUCTS),
                       metadata={"description": "measured amounts; fractions are computed by the server, "
                                                "as for feedback"}, **extra)


class ExperimentCreateSchema(StrictSchema):
    run_id = fields.String(validate=validate.Length(1, 100),
                           metadata={"description": "a completed normal run; with rank"})
    rank = fields.Integer(strict=True, validate=validate.Range(min=1),
                          metadata={"description": "which of the run's recipes (1-based)"})
    recipe = fields.Nested(RecipeInSchema, metadata={"description": "a recipe entered by hand, instead of "
                                                                    "run_id + rank"})
    status = fields.String(load_default="planned", validate=validate.OneOf(STATUSES))
    products = _products(load_default=list)
    score = StrictFloat(load_default=None, allow_none=True, **_SCORE)
    conditions = fields.String(load_default="", validate=validate.Length(max=MAX_CONDITIONS))
    notes = fields.String(load_default="", validate=validate.Length(max=MAX_NOTES))
    schema_version = fields.Integer(load_default=1, strict=True, validate=validate.OneOf([1]))
    extra = fields.Dict(load_default=dict)

    @ma.validates_schema
    def _one_source(self, data, **kwargs):
        from_run = "run_id" in data or "rank" in data
        if from_run and "recipe" in data:
            raise ma.ValidationError("give run_id + rank (a run's recipe) or recipe (entered by hand), "
                                     "not both", "recipe")
        if from_run and not ("run_id" in data and "rank" in data):
            raise ma.ValidationError("run_id and rank go together", "rank" if "run_id" in data else "run_id")
        if not from_run and "recipe" not in data:
            raise ma.ValidationError("required: run_id + rank, or recipe", "recipe")


class ExperimentPatchSchema(StrictSchema):
    """Only the fields given change. `If-Match: "<version>"` makes the change conditional (412 if stale)."""

    status = fields.String(validate=validate.OneOf(STATUSES), metadata={
        "description": "forward only: planned → in_lab → measured | failed"})
    products = _products()
    score = StrictFloat(allow_none=True, **_SCORE)
    conditions = fields.String(validate=validate.Length(max=MAX_CONDITIONS))
    notes = fields.String(validate=validate.Length(max=MAX_NOTES))
    archived = fields.Boolean(metadata={"description": "hidden from lists and the planner; never deleted"})
    extra = fields.Dict()


class ExperimentSchema(ma.Schema):
    experiment_id = fields.String(required=True)
    recipe = fields.Nested(RecipeOutSchema, allow_none=True, required=True, metadata={
        "description": "null: a feedback that never said which recipe was made (unknown, not guessed)"})
    source = fields.Nested(SourceSchema, allow_none=True, required=True, metadata={
        "description": "the run's recipe it came from; null when entered or imported"})
    feedback_run_id = fields.String(allow_none=True, required=True, metadata={
        "description": "set when this experiment is a run's lab feedback: its measurement changes "
                       "with PUT /runs/{run_id}/feedback"})
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))
    archived = fields.Boolean(required=True)
    products = fields.List(fields.Nested(FeedbackProductSchema), required=True)
    value_sum = fields.Float(allow_none=True, required=True)
    fractions_all_zero = fields.Boolean(allow_none=True, required=True)
    score = fields.Float(allow_none=True, required=True)
    conditions = fields.String(required=True)
    notes = fields.String(required=True)
    plan_id = fields.String(allow_none=True, required=True)
    created_at = fields.Float(required=True)
    updated_at = fields.Float(required=True)
    measured_at = fields.Float(allow_none=True, required=True)
    version = fields.Integer(required=True, metadata={"description": "send it back as If-Match"})
    schema_version = fields.Integer(required=True)
    extra = fields.Dict(required=True)


ExperimentListSchema = list_schema(ExperimentSchema, "ExperimentList")


class ExperimentListArgsSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    run_id = fields.String(validate=validate.Length(1, 100),
                           metadata={"description": "experiments of this run's recipes or feedback"})
    plan_id = fields.String(validate=validate.Length(1, 100))
    metal = fields.String(validate=validate.Length(1, 3), metadata={"description": "either metal, e.g. Cu"})
    recipe_key = fields.String(validate=validate.Length(1, 700), metadata={"description": "replicates"})
    archived = fields.Boolean(load_default=False, metadata={"description": "true: the archived ones only"})


class ImportArgsSchema(StrictSchema):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "validate only; store nothing"})


class ImportRowProblemSchema(ma.Schema):
    line = fields.Integer(required=True, metadata={"description": "1 is the header"})
    problems = fields.List(fields.String(), required=True)


class ImportResultSchema(ma.Schema):
    dry_run = fields.Boolean(required=True)
    rows = fields.Integer(required=True, metadata={"description": "data rows read"})
    stored = fields.Integer(required=True, metadata={"description": "0 on a dry run"})
    by_status = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    products = fields.List(fields.String(), required=True, metadata={"description": "product columns read"})
    ignored_columns = fields.List(fields.String(), required=True, metadata={
        "description": "columns of the export that are computed, not imported"})


class ExperimentExportArgsSchema(StrictSchema):
    bom = fields.Boolean(load_default=False, metadata={
        "description": "start with a UTF-8 byte-order mark, so Excel reads non-ASCII text right"})
