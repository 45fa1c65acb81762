"""The lab's experiments as the model's observations, and fitted models kept by ``model_id``.

The objective is the share of one product (``C2XC_PLAN_OBJECTIVE``, default
C2H4) among the measured products of an experiment:

* a measured experiment with products: the objective's fraction (0 when the
  product was not among them, or when every amount was 0);
* a **failed** experiment (the synthesis or measurement did not work): 0 — the
  worst outcome, so the model learns where recipes fail; never dropped;
* a measured experiment with a score only (no products): no share to learn, so it
  is left out, and counted (``score_only``) so the caller can say so.

Fitted models are cached per process by ``model_id`` (which names the data),
so a page of predictions after the first costs a lookup; a fit happens at most
once per change of the lab's results, in whichever process asks first.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from core.catalogue_names import name_key
from core.planner.surrogate import Observation, Prediction, Surrogate, model_id_for
from core.recipe_key import RecipeKey

FEATURES = "combined"   # chosen by bench/planner.py --compare-models (docs/PLANNER.md)
CACHED_MODELS = 8


@dataclass
class LabModel:
    objective: str
    observations: list[Observation]
    model_id: str | None
    surrogate: Surrogate | None
    reason: str | None = None                       # why there is no model
    left_out: dict = field(default_factory=dict)    # score_only: measured results without products

    @property
    def n_results(self) -> int:
        return len(self.observations)


def observations(results, objective: str) -> tuple[list[Observation], int]:
    """(observations, how many measured results had a score only) from ``store.experiments.lab_results``."""
    wanted, found, score_only = name_key(objective), [], 0
    for result in results:
        key = RecipeKey.parse(result.recipe_key)
        if result.status == "failed":
            found.append(Observation(key, 0.0, failed=True))
        elif result.shares:
            share = 0.0 if result.fractions_all_zero else result.shares.get(wanted, 0.0)
            found.append(Observation(key, float(share)))
        else:
            score_only += 1
    return found, score_only


class ModelCache:
    """Fitted surrogates by model_id, the few most recent, shared by a process's threads."""

    def __init__(self, size: int = CACHED_MODELS):
        self.size, self._models, self._lock = size, OrderedDict(), threading.Lock()

    def fit(self, observations_: list[Observation], objective: str, seed: int = 0) -> tuple[Surrogate, str]:
        model_id = model_id_for(objective, FEATURES, observations_)
        with self._lock:
            if (model_id, seed) in self._models:
                self._models.move_to_end((model_id, seed))
                return self._models[(model_id, seed)], model_id
        model = Surrogate(FEATURES, seed).fit([o.key for o in observations_], [o.value for o in observations_])
        with self._lock:
            self._models[(model_id, seed)] = model
            while len(self._models) > self.size:
                self._models.popitem(last=False)
        return model, model_id


def lab_model(results, objective: str, min_results: int, cache: ModelCache) -> LabModel:
    found, score_only = observations(results, objective)
    left_out = {"score_only": score_only}
    if len(found) < min_results:
        reason = (f"{len(found)} measured result(s) with products or a failed synthesis; predictions "
                  f"start at {min_results} (C2XC_PLAN_MIN_RESULTS)")
        return LabModel(objective, found, None, None, reason, left_out)
    surrogate, model_id = cache.fit(found, objective)
    return LabModel(objective, found, model_id, surrogate, None, left_out)


def prediction_dicts(model: LabModel, keys: list[RecipeKey | None]) -> list[dict | None]:
    """The API's ``prediction`` objects (mean, sd, 80 % interval of the objective's share), one
    model call for them all; None for a key that is None or when there is no model."""
    wanted = [k for k in keys if k is not None]
    if model.surrogate is None or not wanted:
        return [None] * len(keys)
    found = iter(model.surrogate.predict(wanted))
    return [None if k is None else _as_dict(model, next(found)) for k in keys]


def _as_dict(model: LabModel, p: Prediction) -> dict:
    return {"objective": model.objective, "mean": round(p.mean, 4), "sd": round(p.sd, 4), "low": round(p.low, 4),
            "high": round(p.high, 4), "n_results": model.n_results, "model_id": model.model_id}


def calibration(model: LabModel) -> dict:
    """Each result the model saw against what the model predicts for it from all the others."""
    if model.surrogate is None:
        return {"coverage80": None, "items": []}
    values = [o.value for o in model.observations]
    predicted = model.surrogate.leave_one_out(values)
    items = [{"recipe_key": str(o.key), "measured": round(o.value, 4), "failed": o.failed,
              "mean": round(p.mean, 4), "sd": round(p.sd, 4), "low": round(p.low, 4), "high": round(p.high, 4)}
             for o, p in zip(model.observations, predicted)]
    inside = sum(1 for i in items if i["low"] <= i["measured"] <= i["high"])
    return {"coverage80": round(inside / len(items), 3), "items": items}
