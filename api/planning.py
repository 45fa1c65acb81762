"""Predictions and plans for the API: the lab's results and the runs' recipes handed to ``core.planner``.

Reads only (plans are stored by the caller). The fitted model is cached per
API process by ``model_id`` (``Services.models``): the first request after the
lab's results change pays for the fit (tens of milliseconds at lab scale, under
a second at 2,000 results: ``bench/plan_speed.py``); the rest reuse it.
"""
from __future__ import annotations

from typing import Any

from api.context import services
from core.errors import InvalidArgument, ValidationFailed
from core.planner.candidates import composed, from_outputs
from core.planner.lab import LabModel, lab_model, prediction_dicts
from core.planner.planning import make_plan
from core.recipe_key import RecipeKey
from store import experiments, runs
from store.products import products_by_name

MAX_RUNS = 50


def planner_settings():
    """C2XC_PLAN_* as this process read them at start (core.settings, read once)."""
    return services().planner


def checked_objective(conn, objective: str | None) -> str:
    """The product to maximise: the request's, else the configured one; it must be in the catalogue."""
    from core.catalogue_names import name_key

    name = (objective or planner_settings().objective).strip()
    if objective is not None and name_key(name) not in products_by_name(conn):
        raise ValidationFailed(f"no product named {name!r} in the catalogue to maximise",
                               {"fields": {"objective": ["not a product of the catalogue"]}})
    return name


def current_model(conn, objective: str) -> LabModel:
    """The lab model for ``objective``, read and fitted again only when the results changed
    (``store.experiments.results_marker``): a page of predictions then costs one small query."""
    settings = planner_settings()
    marker = (experiments.results_marker(conn), objective, settings.min_results)
    known = services().lab_models
    if marker not in known:
        model = lab_model(experiments.lab_results(conn), objective, settings.min_results, services().models)
        known.clear()  # only the newest state is worth keeping
        known[marker] = model
    return known[marker]


def with_predictions(conn, output: dict[str, Any]) -> dict[str, Any]:
    """A run's output with ``recipe_key``, ``prediction`` and, when it is null, ``prediction_reason``."""
    from core.recipe_key import key_or_none

    model = current_model(conn, planner_settings().objective)
    given = output["recipes_json"].get("recipes", [])
    keys = [key_or_none(recipe) for recipe in given]
    predicted = prediction_dicts(model, keys)
    recipes = []
    for recipe, key, prediction in zip(given, keys, predicted):
        recipes.append({**recipe, "recipe_key": str(key) if key else None, "prediction": prediction,
                        **({} if prediction else {"prediction_reason": model.reason or
                            "the recipe has no key (its metals, ratio or modifier cannot be read)"})})
    return {**output, "recipes_json": {**output["recipes_json"], "recipes": recipes}}


def _outputs(conn, batch_id: str | None, run_ids: list[str] | None) -> tuple[list, dict]:
    """(run id, recipes_json, citations) of the completed normal runs asked for, in the agent's order."""
    if batch_id:
        from store.batches import get_batch

        get_batch(conn, batch_id)  # 404 for an unknown batch
        chosen = runs.list_runs(conn, batch_id=batch_id, status=None, limit=MAX_RUNS, cursor=None)[0]
    else:
        chosen = [runs.get_run(conn, run_id) for run_id in dict.fromkeys(run_ids or [])]
    outputs, skipped = [], {"not_completed": [], "dry_run": []}
    for run in chosen:
        output = runs.get_output(conn, run.run_id)
        if output is None:
            skipped["not_completed"].append(run.run_id)
        elif run.dry_run:
            skipped["dry_run"].append(run.run_id)
        else:
            outputs.append((run.run_id, output.recipes_json, output.citations))
    return outputs, skipped


def build_plan(conn, body: dict[str, Any]) -> dict[str, Any]:
    settings = planner_settings()
    objective = checked_objective(conn, body.get("objective"))
    if not body.get("batch_id") and not body.get("run_ids") and not body["explore"]:
        raise InvalidArgument("say which recipes to rank: batch_id or run_ids (or explore: true to rank "
                              "recipes composed from what the lab has used)",
                              {"fields": {"batch_id": ["batch_id, run_ids or explore is required"]}})
    outputs, skipped = _outputs(conn, body.get("batch_id"), body.get("run_ids"))
    candidates, unusable = from_outputs(outputs)
    model = current_model(conn, objective)
    if body["explore"]:
        keys = [o.key for o in model.observations] + [c.key for c in candidates]
        room = max(0, settings.max_candidates - len(candidates))
        candidates += composed(keys, experiments.modifier_names(conn), room, body["seed"], len(candidates))
    pending = [RecipeKey.parse(k) for k in experiments.pending_keys(conn)]
    plan = make_plan(model.observations, pending, candidates[:settings.max_candidates], size=body["size"],
                     goal=body["goal"], seed=body["seed"], replicates=body["replicates"],
                     min_results=settings.min_results,
                     fit=lambda observed: services().models.fit(observed, objective, body["seed"]))
    items = [{"rank": i, "recipe": item.candidate.recipe, "source": item.candidate.source,
              "origin": "agent" if item.candidate.source else "planner",
              "prediction": None if item.prediction is None else {
                  "objective": objective, "mean": round(item.prediction.mean, 4), "sd": round(item.prediction.sd, 4),
                  "low": round(item.prediction.low, 4), "high": round(item.prediction.high, 4),
                  "n_results": plan.n_results, "model_id": plan.model_id},
              "acquisition": item.acquisition, "why": item.why, "citations": item.candidate.citations}
             for i, item in enumerate(plan.items, start=1)]
    return {"objective": objective, "goal": body["goal"], "model_id": plan.model_id, "n_results": plan.n_results,
            "best_so_far": None if plan.best_so_far is None else round(plan.best_so_far, 4),
            "reason": plan.reason, "explore": body["explore"], "seed": body["seed"], "items": items,
            "candidates": len(candidates),
            "left_out": {**plan.left_out, **model.left_out, "recipes_without_key": unusable,
                         "runs_not_completed": skipped["not_completed"], "dry_runs": skipped["dry_run"]}}
