"""Does the planner help a lab find good recipes sooner? Campaigns against lab oracles, many seeds.

Oracles (``bench/oracles.py``): the two real Olympus OER plates (measured
overpotential → 0..1, higher is better) or any folder of plates in that format
(``--data DIR``: a lab's own data), and the seeded synthetic oracle of
``bench/memory_ab.py``. Each campaign makes ``--budget`` experiments in batches
of ``--batch``; every arm starts from nothing.

Arms:

* ``random`` — untested candidates uniformly;
* ``agent`` — a *scripted* proposer standing in for the agent with lab memory:
  each round it proposes 15 recipes, five of them close to the best results it
  has been shown (same metal pair, or one shared metal; memory's "top few"),
  the rest at random, and the lab makes its first three. It proves the
  plumbing of the comparison, not what a real model would do;
* ``planner`` — the service's planner (``core.planner``) picks 3 of those 15;
* ``planner+explore`` — the planner over those 15 and every candidate it can
  compose (the benchmark's whole candidate set);
* ``optuna-tpe`` — what a user would pick instead: Optuna's TPE sampler
  (ask/tell) over the same candidate set (metal pair, ratio, modifier as
  categorical parameters); a suggestion already measured is told its known
  value and does not count as an experiment.

Reported per oracle and arm, median and interquartile range over seeds:
experiments needed to reach the oracle's top 5 % (budget + 1 when never), the
best value after 10, 20 and ``--budget`` experiments, and for the planner arms
the share of next results inside the 80 % interval predicted for them.
``--compare-models`` instead compares surrogate featurisations on held-out data
(random splits and metals never seen in training).

Usage: python -m bench.planner [--seeds 20] [--budget 30] [--data DIR] [--compare-models] [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from bench.common import machine
from bench.oracles import SHARED, Option, SyntheticOracle, plates
from core.planner.planning import Candidate, make_plan
from core.planner.surrogate import Observation, Surrogate, model_id_for

ARMS = ("random", "agent", "planner", "planner+explore", "optuna-tpe")
PROPOSALS, NEAR = 15, 5
FEATURES = "combined"


def _fit(seed: int):
    def fit(observations: list[Observation]):
        model = Surrogate(FEATURES, seed).fit([o.key for o in observations], [o.value for o in observations])
        return model, model_id_for("oracle", FEATURES, observations)
    return fit


def agent_proposals(options: list[Option], made: dict[str, float], rng: random.Random) -> list[Option]:
    """15 recipes: 5 close to the best results so far (what memory shows), then random ones."""
    untested = [o for o in options if str(o.key) not in made]
    best_keys = sorted(made, key=made.get, reverse=True)[:3]
    best_pairs = {k.split("|")[0] for k in best_keys}
    by_key = {str(o.key): o for o in options}
    best_metals = {m for k in best_keys for m in (by_key[k].key.metal_a, by_key[k].key.metal_b)}
    near = [o for o in untested if any(str(o.key).split("|")[0] == p for p in best_pairs)
            or {o.key.metal_a, o.key.metal_b} & best_metals]
    rng.shuffle(near)
    chosen = near[:NEAR]
    rest = [o for o in untested if o not in chosen]
    rng.shuffle(rest)
    return (chosen + rest)[:PROPOSALS]


def _candidates(options: list[Option], start: int = 0) -> list[Candidate]:
    return [Candidate(o.key, o.recipe, order=start + i) for i, o in enumerate(options)]


def _tpe_campaign(oracle, seed: int, budget: int, rng: random.Random) -> list[float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    by_choice = {}
    for o in oracle.options:
        by_choice[(o.key.metal_pair, o.key.ratio, o.key.canonical_smiles)] = o
    pairs = sorted({c[0] for c in by_choice})
    ratios = sorted({c[1] for c in by_choice})
    modifiers = sorted({c[2] for c in by_choice})
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    made: dict[str, float] = {}
    values: list[float] = []
    asks = 0
    while len(values) < budget and asks < budget * 50:
        asks += 1
        trial = study.ask()
        choice = (trial.suggest_categorical("pair", pairs), trial.suggest_categorical("ratio", ratios),
                  trial.suggest_categorical("modifier", modifiers))
        option = by_choice.get(choice)
        if option is None:                     # a combination that is not a candidate: worst value
            study.tell(trial, 0.0)
            continue
        key = str(option.key)
        if key in made:
            study.tell(trial, made[key])
            continue
        made[key] = oracle.measure(option.key, rng)
        values.append(made[key])
        study.tell(trial, made[key])
    return values


def campaign(arm: str, oracle, seed: int, budget: int, batch: int) -> dict:
    rng = random.Random(seed * 1009 + ARMS.index(arm))
    if arm == "optuna-tpe":
        return {"values": _tpe_campaign(oracle, seed, budget, rng), "inside": []}
    made: dict[str, float] = {}
    observations: list[Observation] = []
    values, inside = [], []
    fit = _fit(seed)
    while len(values) < budget:
        proposals = agent_proposals(oracle.options, made, rng)
        if arm == "random":
            untested = [o for o in oracle.options if str(o.key) not in made]
            picks = [(o, None) for o in rng.sample(untested, min(batch, len(untested)))]
        elif arm == "agent":
            picks = [(o, None) for o in proposals[:batch]]
        else:
            pool = _candidates(proposals)
            if arm == "planner+explore":
                pool += _candidates(oracle.options, start=len(pool))
            plan = make_plan(observations, [], pool, size=batch, seed=seed, fit=fit)
            by_key = {str(o.key): o for o in oracle.options}
            picks = [(by_key[str(item.candidate.key)], item.prediction) for item in plan.items]
        if not picks:
            break
        for option, prediction in picks[:budget - len(values)]:
            value = oracle.measure(option.key, rng)
            made[str(option.key)] = value
            observations.append(Observation(option.key, value))
            values.append(value)
            if prediction is not None:
                inside.append(prediction.low <= value <= prediction.high)
    return {"values": values, "inside": inside}


def _summary(numbers: list[float]) -> dict:
    q = np.percentile(numbers, [25, 50, 75]) if numbers else [None] * 3
    return {"median": None if q[1] is None else round(float(q[1]), 3),
            "iqr": None if q[0] is None else [round(float(q[0]), 3), round(float(q[2]), 3)]}


def evaluate(oracles, seeds: int, budget: int, batch: int) -> dict:
    report = {}
    for oracle_factory in oracles:
        per_arm = defaultdict(lambda: defaultdict(list))
        name = None
        for seed in range(seeds):
            oracle = oracle_factory(seed)
            name = oracle.name.split("-")[0]
            top5 = float(np.percentile(list(oracle.values.values()), 95))
            for arm in ARMS:
                result = campaign(arm, oracle, seed, budget, batch)
                v = result["values"]
                reached = next((i + 1 for i, x in enumerate(v) if x >= top5 - 1e-12), budget + 1)
                per_arm[arm]["to_top5"].append(reached)
                for n in (10, 20, budget):
                    per_arm[arm][f"best_after_{n}"].append(max(v[:n]))
                if result["inside"]:
                    per_arm[arm]["coverage80"].append(sum(result["inside"]) / len(result["inside"]))
        report[name] = {arm: {metric: _summary(values) for metric, values in metrics.items()}
                        for arm, metrics in per_arm.items()}
    return report


def compare_models(oracles, seeds: int, train: int = 30) -> dict:
    """Held-out RMSE, negative log predictive density and 80 % coverage per featurisation."""
    out = {}
    for oracle_factory in oracles:
        scores = defaultdict(lambda: defaultdict(list))
        name = None
        for seed in range(seeds):
            oracle = oracle_factory(seed)
            name = oracle.name.split("-")[0]
            rng = random.Random(seed)
            options = oracle.options[:]
            rng.shuffle(options)
            metals = sorted({m for o in options for m in (o.key.metal_a, o.key.metal_b)})
            held = metals[seed % len(metals)]
            splits = {"random split": (options[:train], options[train:train + 60]),
                      "unseen metal": ([o for o in options if held not in (o.key.metal_a, o.key.metal_b)][:train],
                                       [o for o in options if held in (o.key.metal_a, o.key.metal_b)])}
            for split, (tr, te) in splits.items():
                y_tr = [oracle.measure(o.key, rng) for o in tr]
                y_te = np.array([oracle.measure(o.key, rng) for o in te])
                for features in ("descriptors", "onehot", "combined"):
                    started = time.perf_counter()
                    model = Surrogate(features, seed).fit([o.key for o in tr], y_tr)
                    took = time.perf_counter() - started
                    p = model.predict([o.key for o in te])
                    m, sd = np.array([q.mean for q in p]), np.array([q.sd for q in p])
                    scores[(split, features)]["rmse"].append(float(np.sqrt(np.mean((m - y_te) ** 2))))
                    scores[(split, features)]["nlpd"].append(
                        float(np.mean(0.5 * np.log(2 * np.pi * sd ** 2) + (y_te - m) ** 2 / (2 * sd ** 2))))
                    scores[(split, features)]["coverage80"].append(
                        float(np.mean([q.low <= v <= q.high for q, v in zip(p, y_te)])))
                    scores[(split, features)]["fit_s"].append(took)
        out[name] = {f"{split} / {features}": {k: round(statistics.median(v), 3) for k, v in metrics.items()}
                     for (split, features), metrics in scores.items()}
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--budget", type=int, default=30)
    parser.add_argument("--batch", type=int, default=3)
    parser.add_argument("--data", type=Path, default=SHARED, help="a folder of plates (data.csv + config.json)")
    parser.add_argument("--no-synthetic", action="store_true")
    parser.add_argument("--compare-models", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    oracles = [lambda seed, p=p: p for p in plates(args.data)]
    if not args.no_synthetic:
        oracles.append(lambda seed: SyntheticOracle(seed + 1))
    started = time.monotonic()
    report = {"machine": machine(), "seeds": args.seeds, "budget": args.budget, "batch": args.batch,
              "features": FEATURES}
    if args.compare_models:
        report["models"] = compare_models(oracles, args.seeds)
    else:
        report["campaigns"] = evaluate(oracles, args.seeds, args.budget, args.batch)
    report["seconds"] = round(time.monotonic() - started)
    text = json.dumps(report, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
