"""How much a recipe is worth making next, from its prediction — for the goal a chemist picks.

* ``balanced`` (default): expected improvement over the best result so far —
  a recipe is worth what it is expected to add, counting both a high mean and
  an uncertainty that may hide a better result;
* ``best``: the predicted mean (the best bet now);
* ``learn``: the standard deviation (where the model knows least).

``why`` says which part made a recipe worth it: ``exploit`` when its expected
improvement comes mostly from its mean (it is predicted better than the best so
far), ``explore`` when mostly from its uncertainty.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.planner.surrogate import Prediction, normal_cdf, normal_pdf

GOALS = ("balanced", "best", "learn")
XI = 0.01  # the least improvement worth counting, in objective units (a share: one percentage point)


@dataclass(frozen=True)
class Worth:
    value: float
    why: str  # exploit | explore


def expected_improvement(p: Prediction, best: float) -> Worth:
    gain = p.mean - best - XI
    z = gain / p.sd
    from_mean, from_spread = gain * normal_cdf(z), p.sd * normal_pdf(z)
    return Worth(max(0.0, from_mean + from_spread), "exploit" if from_mean >= from_spread else "explore")


def worth(p: Prediction, best: float, goal: str) -> Worth:
    if goal == "best":
        return Worth(p.mean, "exploit")
    if goal == "learn":
        return Worth(p.sd, "explore")
    return expected_improvement(p, best)
