"""A batch of recipes to make next: pending experiments counted, measured ones not repeated, pairs varied.

Given the lab's results (observations), what is already planned or in the lab
(pending), and candidate recipes (the agent's, and with ``explore`` the
planner's own compositions), :func:`make_plan` picks ``size`` of them:

1. Candidates are one per recipe key (the agent's first mention kept); a key the
   lab measured or is making is left out unless ``replicates``.
2. Below ``min_results`` observations there is no model worth trusting: the
   candidates keep the agent's order, taken round-robin across metal pairs so a
   batch is not five ratios of one pair; every item says so (``agent_order``).
3. Otherwise the surrogate gives every candidate and pending key a joint
   posterior. Pending experiments are *believed*: their results are taken as
   predicted (the mean stays) and the others' uncertainty is conditioned on them
   — so a recipe next to one already in the lab is worth less. Then, one pick at
   a time, the candidate with the highest worth (:mod:`core.planner.acquisition`)
   is taken, its result believed the same way. A metal pair already in the
   batch halves a candidate's worth (``PAIR_PENALTY``): varied, not forced.

Deterministic: the surrogate's seed and a seeded tie-break; the same data, request
and seed give the same plan.
"""
from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from core.planner.acquisition import worth
from core.planner.surrogate import Observation, Prediction, Surrogate
from core.recipe_key import RecipeKey

PAIR_PENALTY = 0.5


@dataclass(frozen=True)
class Candidate:
    key: RecipeKey
    recipe: dict                    # as shown: M1, M2, atomic_ratio, modifier, modifier_smiles
    source: dict | None = None      # {"run_id", "rank"}; None: composed by the planner
    citations: dict = field(default_factory=dict)
    order: int = 0                  # the agent's order (runs, then ranks): the ranking without a model


@dataclass(frozen=True)
class PlanItem:
    candidate: Candidate
    prediction: Prediction | None
    acquisition: float | None
    why: str                        # exploit | explore | agent_order


@dataclass
class Plan:
    items: list[PlanItem]
    model_id: str | None
    n_results: int
    best_so_far: float | None
    reason: str | None = None       # why there is no model (too few results)
    left_out: dict = field(default_factory=dict)   # measured / pending keys not re-picked


def distinct(candidates: list[Candidate]) -> list[Candidate]:
    seen, kept = set(), []
    for candidate in sorted(candidates, key=lambda c: c.order):
        if str(candidate.key) not in seen:
            seen.add(str(candidate.key))
            kept.append(candidate)
    return kept


def round_robin_by_pair(candidates: list[Candidate], size: int) -> list[Candidate]:
    """The agent's order, one candidate per metal pair per round."""
    by_pair: dict[str, list[Candidate]] = {}
    for candidate in candidates:
        by_pair.setdefault(candidate.key.metal_pair, []).append(candidate)
    picked = []
    while len(picked) < size and any(by_pair.values()):
        for pair in list(by_pair):
            if by_pair[pair] and len(picked) < size:
                picked.append(by_pair[pair].pop(0))
    return picked


def _condition(cov: np.ndarray, index: int) -> np.ndarray:
    """The covariance once the result at ``index`` is known (believed at its mean)."""
    column = cov[:, index].copy()
    return cov - np.outer(column, column) / max(cov[index, index], 1e-12)


def make_plan(observations: list[Observation], pending: list[RecipeKey], candidates: list[Candidate], *,
              size: int, goal: str = "balanced", seed: int = 0, replicates: bool = False, min_results: int = 5,
              fit: Callable[[list[Observation]], tuple[Surrogate, str]]) -> Plan:
    """``fit(observations) -> (surrogate, model_id)`` lets the caller cache fitted models."""
    measured_keys = {str(o.key) for o in observations}
    pending_keys = {str(k) for k in pending}
    pool = distinct(candidates)
    left_out = {"measured": 0, "pending": 0}
    if not replicates:
        kept = []
        for c in pool:
            if str(c.key) in measured_keys:
                left_out["measured"] += 1
            elif str(c.key) in pending_keys:
                left_out["pending"] += 1
            else:
                kept.append(c)
        pool = kept
    best = max((o.value for o in observations), default=None)
    if len(observations) < min_results:
        chosen = round_robin_by_pair(pool, size)
        return Plan([PlanItem(c, None, None, "agent_order") for c in chosen], None, len(observations), best,
                    reason=f"{len(observations)} measured result(s); the model needs at least {min_results}",
                    left_out=left_out)
    surrogate, model_id = fit(observations)
    if not pool:
        return Plan([], model_id, len(observations), best, left_out=left_out)
    keys = [c.key for c in pool] + list(pending)
    mean, cov = surrogate.joint(keys)
    for index in range(len(pool), len(keys)):       # what is in the lab: believed, as if measured
        cov = _condition(cov, index)
    shown = surrogate.predict([c.key for c in pool])  # each item's own prediction, from real data only
    tie_break = random.Random(seed).sample(range(len(pool)), len(pool))
    chosen: list[PlanItem] = []
    pairs: set[str] = {k.metal_pair for k in pending}
    open_slots = list(range(len(pool)))
    while open_slots and len(chosen) < size:
        scored = []
        for i in open_slots:
            now = Prediction(float(mean[i]), float(np.sqrt(max(cov[i, i], 1e-18))))
            w = worth(now, best, goal)
            value = w.value * (PAIR_PENALTY if pool[i].key.metal_pair in pairs else 1.0)
            scored.append((value, -tie_break[i], i, w))
        value, _, pick, w = max(scored)
        chosen.append(PlanItem(pool[pick], shown[pick], round(float(value), 6), w.why))
        pairs.add(pool[pick].key.metal_pair)
        cov = _condition(cov, pick)
        open_slots.remove(pick)
    return Plan(chosen, model_id, len(observations), best, left_out=left_out)


