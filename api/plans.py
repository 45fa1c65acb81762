"""`/predictions` and `/plans`: what the lab's results predict, and which recipes to make next (SPEC 14).

The API only reads the lab's results and stores plans (and, on accept, planned
experiments); a model is fitted at most once per change of the results in each
API process and kept by ``model_id`` (``api/planning.py``).
"""
from __future__ import annotations

import time

from flask.views import MethodView

from api import planning
from api.blueprint import Blueprint
from api.context import conn
from api.schemas.experiments import ExperimentSchema
from api.schemas.planner import (
    AcceptSchema,
    CalibrationArgsSchema,
    CalibrationSchema,
    PlanRequestSchema,
    PlanSchema,
    PredictionsSchema,
    PredictRequestSchema,
)
from core.errors import ValidationFailed
from core.planner.lab import calibration, prediction_dicts
from core.recipe_key import RecipeKeyError, recipe_key
from store import plans

blp = Blueprint("plans", __name__, description="Predictions and plans: which recipes to make next")


def _plan_dict(stored: plans.StoredPlan) -> dict:
    return {**stored.answer, "status": stored.status, "accepted": stored.accepted}


@blp.route("/predictions")
class Predictions(MethodView):
    @blp.arguments(PredictRequestSchema)
    @blp.response(200, PredictionsSchema)
    @blp.alt_response(422, description="a recipe without a key (details.fields names it), an unknown objective")
    def post(self, body):
        """Predict the objective's share for any recipes (at most 200), with sd and 80 % interval."""
        c = conn()
        objective = planning.checked_objective(c, body.get("objective"))
        keys, problems = [], {}
        for index, recipe in enumerate(body["recipes"]):
            try:
                keys.append(recipe_key(recipe["M1"], recipe["M2"], recipe["atomic_ratio"], recipe["modifier_smiles"]))
            except RecipeKeyError as error:
                problems[f"recipes[{index}]"] = [str(error)]
        if problems:
            raise ValidationFailed("some recipes cannot be read", {"fields": problems})
        model = planning.current_model(c, objective)
        return {"objective": objective, "model_id": model.model_id, "n_results": model.n_results,
                "reason": model.reason,
                "items": [{"recipe_key": str(k), "prediction": p} for k, p in zip(keys, prediction_dicts(model, keys))]}


@blp.route("/predictions/calibration")
class Calibration(MethodView):
    @blp.arguments(CalibrationArgsSchema, location="query")
    @blp.response(200, CalibrationSchema)
    @blp.alt_response(422, description="an unknown objective")
    def get(self, args):
        """Predicted vs measured: each result the model saw, predicted from all the others (leave one out).

        `coverage80` is the share inside their 80 % intervals: near 0.8 when the
        uncertainty the service shows can be trusted.
        """
        c = conn()
        objective = planning.checked_objective(c, args.get("objective"))
        model = planning.current_model(c, objective)
        return {"objective": objective, "model_id": model.model_id, "n_results": model.n_results,
                "reason": model.reason, **calibration(model)}


@blp.route("/plans")
class Plans(MethodView):
    @blp.arguments(PlanRequestSchema)
    @blp.response(201, PlanSchema)
    @blp.alt_response(404, description="batch_id or a run id names nothing")
    @blp.alt_response(422, description="validation failed; an unknown objective")
    def post(self, body):
        """Rank the runs' recipes (and, with explore, the planner's own) and pick the next `size`.

        By expected improvement (or the `goal` asked), counting planned and
        in-lab experiments as already chosen, never re-picking a measured recipe
        unless `replicates`. Below the minimum of measured results the plan keeps
        the agent's order, varied across metal pairs, and `reason` says so. The
        same data, request and seed give the same plan.
        """
        c = conn()
        answer = planning.build_plan(c, body)
        return _plan_dict(plans.save_plan(c, request=body, answer=answer, now=time.time()))


@blp.route("/plans/<string:plan_id>")
class PlanDetail(MethodView):
    @blp.response(200, PlanSchema)
    @blp.alt_response(404, description="no such plan")
    def get(self, plan_id):
        """A plan as it was answered, and whether it was accepted."""
        return _plan_dict(plans.get_plan(conn(), plan_id))


@blp.route("/plans/<string:plan_id>/accept")
class PlanAccept(MethodView):
    @blp.arguments(AcceptSchema)
    @blp.response(201, ExperimentSchema(many=True))
    @blp.alt_response(404, description="no such plan")
    @blp.alt_response(409, description="the plan was accepted already")
    @blp.alt_response(422, description="an item number out of range or repeated")
    def post(self, body, plan_id):
        """Create the planned experiments of the chosen items (default: all), in one transaction."""
        _, made = plans.accept_plan(conn(), plan_id, body.get("items"), time.time())
        return made
