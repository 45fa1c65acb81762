"""core.planner, step by step: features → model → worth → plan (SPEC 14), on the synthetic oracle."""
from __future__ import annotations

import random

import numpy as np
import pytest

from bench.oracles import SyntheticOracle
from core.planner.acquisition import expected_improvement, worth
from core.planner.features import FEATURISATIONS, featurise
from core.planner.lab import ModelCache, observations
from core.planner.planning import Candidate, make_plan
from core.planner.surrogate import Observation, Prediction, Surrogate, model_id_for
from core.recipe_key import recipe_key
from store.experiments import LabResult

ORACLE = SyntheticOracle(3)


def _observed(n: int, seed: int = 0) -> list[Observation]:
    rng = random.Random(seed)
    return [Observation(o.key, ORACLE.values[str(o.key)]) for o in rng.sample(ORACLE.options, n)]


@pytest.mark.parametrize("featurisation", FEATURISATIONS)
def test_features_are_the_same_however_a_recipe_is_written(featurisation):
    one = recipe_key("Cu", "Mo", "1:3", "OC(=O)c1ccccc1")
    other = recipe_key("Mo", "Cu", "0.75:0.25", "c1ccccc1C(O)=O")
    third = recipe_key("Cu", "Mo", "3:1", "OC(=O)c1ccccc1")
    rows = featurise([one, other, third], featurisation)
    assert np.array_equal(rows[0], rows[1]) and not np.array_equal(rows[0], rows[2])


def test_the_same_data_gives_the_same_model_id_and_predictions():
    data = _observed(20)
    first = Surrogate("combined", 0).fit([o.key for o in data], [o.value for o in data])
    again = Surrogate("combined", 0).fit([o.key for o in data[::-1]], [o.value for o in data[::-1]])
    probe = [o.key for o in ORACLE.options[:30]]
    assert [round(p.mean, 9) for p in first.predict(probe)] == [round(p.mean, 9) for p in again.predict(probe)]
    assert model_id_for("C2H4", "combined", data) == model_id_for("C2H4", "combined", data[::-1])
    assert model_id_for("C2H4", "combined", data) != model_id_for("C2H4", "combined", data[:-1])
    assert model_id_for("C2H4", "combined", data) != model_id_for("CO", "combined", data)


def test_the_model_learns_the_oracle_and_says_how_sure_it_is():
    data = _observed(60)
    model = Surrogate("combined", 0).fit([o.key for o in data], [o.value for o in data])
    unseen = [o for o in ORACLE.options if str(o.key) not in {str(d.key) for d in data}][:100]
    predicted = model.predict([o.key for o in unseen])
    truth = np.array([ORACLE.values[str(o.key)] for o in unseen])
    means = np.array([p.mean for p in predicted])
    assert np.corrcoef(means, truth)[0, 1] > 0.7
    inside = np.mean([p.low <= t <= p.high for p, t in zip(predicted, truth)])
    assert 0.6 <= inside <= 0.98, inside  # an 80 % interval that means roughly 80 %
    far = model.predict([recipe_key("La", "Ce", "1:1", "OC(=O)CCCCCCCCCCC")])[0]
    assert far.sd > np.median([p.sd for p in predicted])  # unknown metals and modifier: less sure


def test_expected_improvement_weighs_mean_and_uncertainty():
    best = 0.5
    assert expected_improvement(Prediction(0.7, 0.01), best).why == "exploit"
    assert expected_improvement(Prediction(0.45, 0.2), best).why == "explore"
    assert expected_improvement(Prediction(0.3, 0.001), best).value == pytest.approx(0.0, abs=1e-9)
    assert expected_improvement(Prediction(0.5, 0.3), best).value > expected_improvement(Prediction(0.5, 0.1),
                                                                                        best).value
    assert worth(Prediction(0.4, 0.3), best, "best").value == 0.4
    assert worth(Prediction(0.4, 0.3), best, "learn").value == 0.3


def _fit(observed):
    model = Surrogate("combined", 0).fit([o.key for o in observed], [o.value for o in observed])
    return model, model_id_for("C2H4", "combined", observed)


def _candidates(n: int) -> list[Candidate]:
    return [Candidate(o.key, o.recipe, {"run_id": "run_x", "rank": i + 1}, {}, i)
            for i, o in enumerate(ORACLE.options[:n])]


def test_a_plan_never_repicks_what_is_measured_or_pending_and_is_the_same_for_a_seed():
    data = _observed(15)
    pool = _candidates(120)
    pending = [pool[0].key, pool[1].key]
    plan = make_plan(data, pending, pool, size=6, seed=7, fit=_fit)
    picked = {str(i.candidate.key) for i in plan.items}
    assert len(plan.items) == 6 and not picked & {str(o.key) for o in data} and not picked & {str(k) for k in pending}
    again = make_plan(data, pending, pool, size=6, seed=7, fit=_fit)
    assert [str(i.candidate.key) for i in again.items] == [str(i.candidate.key) for i in plan.items]
    assert all(i.prediction and i.acquisition is not None and i.why in ("exploit", "explore") for i in plan.items)
    with_replicates = make_plan(data, [], [Candidate(d.key, {}, None, {}, 0) for d in data], size=3, seed=7,
                                fit=_fit, replicates=True)
    assert len(with_replicates.items) == 3


def test_pending_experiments_lower_the_worth_of_recipes_like_them():
    data = _observed(15)
    pool = _candidates(120)
    alone = make_plan(data, [], pool, size=1, seed=1, fit=_fit).items[0]
    twin = Candidate(alone.candidate.key, alone.candidate.recipe, None, {}, 999)
    believed = make_plan(data, [alone.candidate.key], [c for c in pool if c.key != alone.candidate.key] + [twin],
                         size=1, seed=1, fit=_fit).items[0]
    assert str(believed.candidate.key) != str(alone.candidate.key)


def test_below_the_minimum_the_plan_keeps_the_agents_order_across_metal_pairs():
    pool = _candidates(40)  # the oracle's first options: one pair over several ratios and modifiers
    plan = make_plan(_observed(3), [], pool, size=4, seed=0, fit=_fit)
    assert plan.model_id is None and "at least 5" in plan.reason
    assert all(i.why == "agent_order" and i.prediction is None for i in plan.items)
    assert len({i.candidate.key.metal_pair for i in plan.items}) == 4


def test_failed_syntheses_count_as_the_worst_outcome_and_score_only_results_are_counted_apart():
    key = str(recipe_key("Cu", "Mo", "1:1", "CC(=O)O"))
    results = [LabResult(key, "failed", {}, None, None), LabResult(key, "measured", {"c2h4": 0.4}, False, 7.0),
               LabResult(key, "measured", {}, None, 6.0), LabResult(key, "measured", {"co": 1.0}, False, None)]
    found, score_only = observations(results, "C2H4")
    assert [(o.value, o.failed) for o in found] == [(0.0, True), (0.4, False), (0.0, False)] and score_only == 1


def test_the_model_cache_fits_once_per_data():
    cache, data = ModelCache(size=2), _observed(10)
    first, model_id = cache.fit(data, "C2H4")
    again, same_id = cache.fit(list(data), "C2H4")
    assert first is again and model_id == same_id
    cache.fit(_observed(11, seed=1), "C2H4")
    cache.fit(_observed(12, seed=2), "C2H4")
    assert cache.fit(data, "C2H4")[0] is not first  # evicted, fitted again
