"""What a run is shown of the lab's experiments (SPEC 14): the landscape block and ``predict``.

Memory shows a node the few lab results closest to its task; that lets a
mediocre result it happened to see pull every run back to it. The landscape
is the whole picture in a few lines, the same for every node of a run: how
many experiments, the best and the worst recipes with their shares (replicates
as mean and range), the syntheses that failed, and the metal pairs of the
lab's own metals never tried. ``predict`` lets the agent ask the planner's
model about recipes it considers before it proposes them.

Read once per run, at its first node, from the store; with no experiments
nothing is added and the tool is not offered, so the prompts are exactly as
before. Every block placed before the model (``landscape_shown``) and every
``predict`` answer (``predictions_made``) is in the trace.
"""
from __future__ import annotations

import json
from itertools import combinations
from statistics import mean
from typing import Any

from core import trace
from core.planner.lab import LabModel, ModelCache, lab_model, prediction_dicts
from core.prompts import template
from core.recipe_key import RecipeKey, RecipeKeyError, recipe_key
from core.settings import PlannerSettings
from store import experiments
from worker.run_context import RunContext

SHOWN, UNTRIED_PAIRS, MAX_PREDICT = 3, 12, 10

PREDICT_TOOL = {
    "name": "predict",
    "description": ("Predict from this lab's own measured results the share of the objective product "
                    "(mean, sd, 80 % interval) for recipes you consider; at most 10 per call."),
    "parameters": {"type": "object", "properties": {"recipes": {
        "type": "array", "maxItems": MAX_PREDICT, "items": {"type": "object", "properties": {
            "M1": {"type": "string"}, "M2": {"type": "string"}, "atomic_ratio": {"type": "string"},
            "modifier_smiles": {"type": "string"}},
            "required": ["M1", "M2", "atomic_ratio", "modifier_smiles"]}}}, "required": ["recipes"]}}


def _pct(value: float) -> str:
    return f"{value * 100:.0f} %"


def _recipe_text(key: RecipeKey, names: dict[str, str]) -> str:
    name = names.get(key.canonical_smiles)
    return f"{key.metal_a}–{key.metal_b} {key.ratio} with {name + ' ' if name else ''}({key.canonical_smiles})"


class Landscape:
    """One run's view of the lab's experiments; inert (``active`` False) when there are none."""

    def __init__(self, ctx: RunContext, settings: PlannerSettings, models: ModelCache | None = None):
        self.ctx, self.settings = ctx, settings
        self.models = models or ModelCache(size=1)
        self._text: str | None = None
        self._counts: dict[str, int] = {}
        self._model: LabModel | None = None
        self._read = False

    def _load(self) -> None:
        if self._read:
            return
        self._read = True
        conn = self.ctx.conn
        results = experiments.lab_results(conn)
        pending = experiments.pending_keys(conn)
        if not results and not pending:
            return
        self._model = lab_model(results, self.settings.objective, self.settings.min_results, self.models)
        self._text = self._describe(self._model, pending, experiments.modifier_names(conn))

    def _describe(self, model: LabModel, pending: list[str], names: dict[str, str]) -> str:
        by_key: dict[str, list] = {}
        for o in model.observations:
            by_key.setdefault(str(o.key), []).append(o)
        measured = {k: v for k, v in by_key.items() if any(not o.failed for o in v)}
        failed_only = [k for k, v in by_key.items() if all(o.failed for o in v)]

        def line(key: str) -> str:
            values = [o.value for o in by_key[key] if not o.failed]
            spread = f" ({len(values)} replicates: {_pct(min(values))}–{_pct(max(values))})" if len(values) > 1 else ""
            return f"{_recipe_text(RecipeKey.parse(key), names)}: {_pct(mean(values))}{spread}"

        ranked = sorted(measured, key=lambda k: mean(o.value for o in by_key[k] if not o.failed), reverse=True)
        best, worst = ranked[:SHOWN], [k for k in ranked[::-1][:SHOWN] if k not in ranked[:SHOWN]]
        used = sorted({m for k in by_key for m in (RecipeKey.parse(k).metal_a, RecipeKey.parse(k).metal_b)})
        tried = {RecipeKey.parse(k).metal_pair for k in by_key} | {RecipeKey.parse(k).metal_pair for k in pending}
        untried = [f"{a}–{b}" for a, b in combinations(used, 2) if f"{a}-{b}" not in tried]
        self._counts = {"measured": sum(1 for o in model.observations if not o.failed),
                        "failed": sum(1 for o in model.observations if o.failed), "pending": len(pending),
                        "recipes": len(by_key)}
        counts = (f"{self._counts['measured']} measured, {self._counts['failed']} failed syntheses, "
                  f"{self._counts['pending']} planned or in the lab; {len(by_key)} different recipes.")
        return template("landscape_block").format(
            objective=model.objective, counts=counts,
            best="Best: " + "; ".join(line(k) for k in best) + "." if best else "No measured result yet.",
            worst="Worst: " + "; ".join(line(k) for k in worst) + "." if worst else "",
            failed=("Failed syntheses: " + "; ".join(_recipe_text(RecipeKey.parse(k), names) for k in failed_only[:SHOWN])
                    + "." if failed_only else ""),
            untried=("Metal pairs of these metals never tried: " + ", ".join(untried[:UNTRIED_PAIRS])
                     + (f" and {len(untried) - UNTRIED_PAIRS} more" if len(untried) > UNTRIED_PAIRS else "") + "."
                     if untried else "")).replace("\n\n", "\n").strip()

    @property
    def active(self) -> bool:
        self._load()
        return self._text is not None

    def block_for(self, node_id: str, role: str) -> str | None:
        """The block a node starts with (traced), or None when the lab has no experiments."""
        if not self.active:
            return None
        self.ctx.emit(trace.LandscapeShown(node_id=node_id, role=role, objective=self._model.objective,
                                           counts=self._counts, model_id=self._model.model_id, text=self._text))
        return self._text

    def predict(self, arguments: dict[str, Any], node_id: str) -> str:
        """The ``predict`` tool: the model's answer for each recipe asked, or why it has none."""
        recipes = arguments.get("recipes")
        if not isinstance(recipes, list) or not recipes:
            return "error: predict needs recipes: [{M1, M2, atomic_ratio, modifier_smiles}, …]"
        items, keys = [], []
        for recipe in recipes[:MAX_PREDICT]:
            try:
                key = recipe_key(recipe.get("M1"), recipe.get("M2"), recipe.get("atomic_ratio"),
                                 recipe.get("modifier_smiles")) if isinstance(recipe, dict) else None
            except RecipeKeyError as error:
                key, problem = None, str(error)
            else:
                problem = None if key else "a recipe is an object with M1, M2, atomic_ratio, modifier_smiles"
            keys.append(key)
            items.append({"recipe": recipe, **({"problem": problem} if problem else {})})
        self._load()
        model = self._model
        predictions = prediction_dicts(model, keys) if model else [None] * len(keys)
        for item, key, p in zip(items, keys, predictions):
            if p:
                item.update(recipe_key=str(key), **{k: p[k] for k in ("mean", "sd", "low", "high")})
        self.ctx.emit(trace.PredictionsMade(node_id=node_id, objective=self.settings.objective,
                                            model_id=model.model_id if model else None, items=items))
        if model is None or model.surrogate is None:
            reason = model.reason if model else "the lab has no experiments yet"
            return f"no prediction: {reason}"
        return json.dumps({"objective": model.objective, "n_results": model.n_results, "predictions": items},
                          ensure_ascii=False)
