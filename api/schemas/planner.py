"""Predictions and plans (SPEC 14): the planner's answers with their uncertainty."""
from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from api.schemas.common import StrictSchema
from api.schemas.experiments import RecipeInSchema
from core.planner.acquisition import GOALS

MAX_PREDICTIONS, MAX_RUN_IDS = 200, 50


class PredictionSchema(ma.Schema):
    objective = fields.String(required=True, metadata={"description": "the product whose share is predicted"})
    mean = fields.Float(required=True, metadata={"description": "predicted share (0..1) of the objective product"})
    sd = fields.Float(required=True, metadata={"description": "its standard deviation (a next result's spread)"})
    low = fields.Float(required=True, metadata={"description": "80 % interval, low end"})
    high = fields.Float(required=True, metadata={"description": "80 % interval, high end"})
    n_results = fields.Integer(required=True, metadata={"description": "measured results the model saw"})
    model_id = fields.String(required=True, metadata={"description": "names the data the model saw"})


class PredictRequestSchema(StrictSchema):
    recipes = fields.List(fields.Nested(RecipeInSchema), required=True,
                          validate=validate.Length(1, MAX_PREDICTIONS))
    objective = fields.String(validate=validate.Length(1, 100), metadata={
        "description": "a product of the catalogue (default C2XC_PLAN_OBJECTIVE, C2H4)"})


class PredictedItemSchema(ma.Schema):
    recipe_key = fields.String(required=True)
    prediction = fields.Nested(PredictionSchema, allow_none=True, required=True)


class PredictionsSchema(ma.Schema):
    objective = fields.String(required=True)
    model_id = fields.String(allow_none=True, required=True)
    n_results = fields.Integer(required=True)
    reason = fields.String(allow_none=True, required=True, metadata={
        "description": "why every prediction is null (too few measured results)"})
    items = fields.List(fields.Nested(PredictedItemSchema), required=True)


class PlanRequestSchema(StrictSchema):
    size = fields.Integer(load_default=3, strict=True, validate=validate.Range(1, 20),
                          metadata={"description": "how many experiments to plan (1..20)"})
    batch_id = fields.String(validate=validate.Length(1, 100), metadata={"description": "rank this batch's recipes"})
    run_ids = fields.List(fields.String(validate=validate.Length(1, 100)), validate=validate.Length(1, MAX_RUN_IDS),
                          metadata={"description": "or these runs' recipes, in this order"})
    explore = fields.Boolean(load_default=False, metadata={
        "description": "also rank recipes the planner composes from the metals, ratios and modifiers the "
                       "lab and the agent have used"})
    goal = fields.String(load_default="balanced", validate=validate.OneOf(GOALS), metadata={
        "description": "balanced: expected improvement; best: the best bet now; learn: where the model is "
                       "least sure"})
    objective = fields.String(validate=validate.Length(1, 100))
    seed = fields.Integer(load_default=0, strict=True, validate=validate.Range(0, 2**31 - 1))
    replicates = fields.Boolean(load_default=False, metadata={
        "description": "allow recipes the lab measured or is making (replicates)"})

    @ma.validates_schema
    def _one_source(self, data, **kwargs):
        if data.get("batch_id") and data.get("run_ids"):
            raise ma.ValidationError("give batch_id or run_ids, not both", "run_ids")


class PlanRecipeSchema(ma.Schema):
    M1 = fields.String(required=True)
    M2 = fields.String(required=True)
    atomic_ratio = fields.String(required=True)
    modifier = fields.String(allow_none=True, required=True)
    modifier_smiles = fields.String(required=True)
    recipe_key = fields.String(required=True)


class PlanItemSchema(ma.Schema):
    rank = fields.Integer(required=True)
    recipe = fields.Nested(PlanRecipeSchema, required=True)
    source = fields.Dict(allow_none=True, required=True, metadata={
        "description": "{run_id, rank} of the agent's recipe; null when the planner composed it"})
    origin = fields.String(required=True, validate=validate.OneOf(["agent", "planner"]))
    prediction = fields.Nested(PredictionSchema, allow_none=True, required=True)
    acquisition = fields.Float(allow_none=True, required=True, metadata={
        "description": "what the goal values this pick at (expected improvement, mean or sd)"})
    why = fields.String(required=True, validate=validate.OneOf(["exploit", "explore", "agent_order"]))
    citations = fields.Dict(keys=fields.String(), values=fields.String(), required=True)


class PlanSchema(ma.Schema):
    plan_id = fields.String(required=True)
    status = fields.String(required=True, validate=validate.OneOf(["proposed", "accepted"]))
    created_at = fields.Float(required=True)
    objective = fields.String(required=True)
    goal = fields.String(required=True)
    model_id = fields.String(allow_none=True, required=True)
    n_results = fields.Integer(required=True)
    best_so_far = fields.Float(allow_none=True, required=True)
    reason = fields.String(allow_none=True, required=True, metadata={
        "description": "set when the plan follows the agent's order (too few measured results)"})
    explore = fields.Boolean(required=True)
    seed = fields.Integer(required=True)
    candidates = fields.Integer(required=True)
    items = fields.List(fields.Nested(PlanItemSchema), required=True)
    left_out = fields.Dict(required=True, metadata={
        "description": "what was not ranked and why (measured, pending, dry runs, …)"})
    accepted = fields.Dict(allow_none=True, required=True, metadata={
        "description": "{items, experiment_ids} once accepted"})


class AcceptSchema(StrictSchema):
    items = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1)),
                        validate=validate.Length(1, 20), metadata={"description": "1-based; default all"})


class CalibrationArgsSchema(StrictSchema):
    objective = fields.String(validate=validate.Length(1, 100))


class CalibrationItemSchema(ma.Schema):
    recipe_key = fields.String(required=True)
    measured = fields.Float(required=True)
    failed = fields.Boolean(required=True)
    mean = fields.Float(required=True)
    sd = fields.Float(required=True)
    low = fields.Float(required=True)
    high = fields.Float(required=True)


class CalibrationSchema(ma.Schema):
    objective = fields.String(required=True)
    model_id = fields.String(allow_none=True, required=True)
    n_results = fields.Integer(required=True)
    reason = fields.String(allow_none=True, required=True)
    coverage80 = fields.Float(allow_none=True, required=True, metadata={
        "description": "share of results inside the 80 % interval predicted for them from the others"})
    items = fields.List(fields.Nested(CalibrationItemSchema), required=True)
