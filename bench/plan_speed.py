"""Planner speed at SPEC 14's scale: fit + plan with 2,000 measured results and 500 candidates,
and predictions for one run's output once the model is fitted.

In one process through the real app (test client, SQLite): 2,000 measured experiments over 20
metals × 5 ratios × 5 modifiers (a synthetic share), a completed normal run with three recipes.
Each figure is the median of ``--repeats`` fresh processes' worth of work:

* ``plan_cold_ms`` — POST /plans (explore, 500 candidates) right after the results changed: reads
  the results, fits the model, ranks 500 candidates, picks 10 with pending believed, stores it;
* ``plan_warm_ms`` — the same request again (the model cached by model_id);
* ``output_cold_ms`` / ``output_warm_ms`` — GET /runs/{id}/output with its three predictions,
  before and after the model is cached;
* ``fit_ms`` — the fit alone (core.planner.surrogate) on the same 2,000 results.

Usage: python -m bench.plan_speed [--results 2000] [--candidates 500] [--repeats 5]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import tempfile
import time
from itertools import combinations

from bench.common import machine

METALS = ["Cu", "Ag", "Zn", "Mo", "Ni", "Co", "Fe", "Bi", "Mn", "W", "Sn", "In", "Ce", "La", "V", "Cr", "Ga", "Pd",
          "Ru", "Nb"]
MODIFIERS = ["OC(=O)c1ccccc1", "CC(=O)O", "OC(=O)c1ccc(S)cc1", "NCC(=O)O", "OC(=O)C(F)(F)F"]
RATIOS = ["1:3", "1:2", "1:1", "2:1", "3:1"]


def _share(m1: str, m2: str, ratio: str, smiles: str) -> float:
    effect = (METALS.index(m1) * 0.37 % 1.3) - (METALS.index(m2) * 0.53 % 1.1) + MODIFIERS.index(smiles) * 0.2
    return 1 / (1 + math.exp(-(effect + RATIOS.index(ratio) * 0.1 - 0.5)))


def _build(conn, n_results: int) -> None:
    from store import experiments, products
    from tests.store_helpers import completed_runs

    ids = {n: products.create_product(conn, name=n, status="active", extra={}, now=time.time()).product_id
           for n in ("C2H4", "H2")}
    options = [(a, b, r, s) for a, b in combinations(METALS, 2) for r in RATIOS for s in MODIFIERS]
    rng = random.Random(0)
    news = []
    for m1, m2, ratio, smiles in rng.sample(options, n_results):
        share = _share(m1, m2, ratio, smiles)
        news.append(experiments.NewExperiment(
            status="measured", recipe={"M1": m1, "M2": m2, "atomic_ratio": ratio, "small_molecule_modifier": None,
                                       "modifier_smiles": smiles},
            products=[(ids["C2H4"], share), (ids["H2"], 1 - share)]))
    experiments.insert_many(conn, iter(news), time.time())
    recipe = {"M1": "Cu", "M2": "Mo", "atomic_ratio": "1:1", "small_molecule_modifier": "benzoic acid",
              "modifier_smiles": "OC(=O)c1ccccc1", "rationale": "x [C1]"}
    return completed_runs(conn, 1, dry_run=False, recipes=[{**recipe, "rank": r} for r in (1, 2, 3)])[0]


def _ms(call) -> float:
    started = time.perf_counter()
    reply = call()
    assert reply.status_code in (200, 201), reply.get_data(as_text=True)[:300]
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", type=int, default=2000)
    parser.add_argument("--candidates", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    os.environ["C2XC_PLAN_MAX_CANDIDATES"] = str(args.candidates)
    os.environ["C2XC_LOG_LEVEL"] = "WARNING"
    figures = {k: [] for k in ("plan_cold_ms", "plan_warm_ms", "output_cold_ms", "output_warm_ms", "fit_ms")}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["C2XC_SQLITE_PATH"] = os.path.join(tmp, "speed.db")
        from api.app import create_app
        from core.planner.lab import FEATURES, observations
        from core.planner.surrogate import Surrogate
        from store import experiments

        app = create_app()
        client = app.test_client()
        run_id = _build(app.extensions["c2xc"].database.connection(), args.results)
        body = {"explore": True, "size": 10, "seed": 0}
        for repeat in range(args.repeats):
            app.extensions["c2xc"].models._models.clear()   # as after the lab's results changed
            app.extensions["c2xc"].lab_models.clear()
            figures["output_cold_ms"].append(_ms(lambda: client.get(f"/api/v1/runs/{run_id}/output")))
            figures["output_warm_ms"].append(_ms(lambda: client.get(f"/api/v1/runs/{run_id}/output")))
            app.extensions["c2xc"].models._models.clear()
            app.extensions["c2xc"].lab_models.clear()
            figures["plan_cold_ms"].append(_ms(lambda: client.post("/api/v1/plans", json=body)))
            figures["plan_warm_ms"].append(_ms(lambda: client.post("/api/v1/plans", json=body)))
        found, _ = observations(experiments.lab_results(app.extensions["c2xc"].database.connection()), "C2H4")
        for _ in range(args.repeats):
            started = time.perf_counter()
            Surrogate(FEATURES, 0).fit([o.key for o in found], [o.value for o in found])
            figures["fit_ms"].append((time.perf_counter() - started) * 1000)
        plan = client.post("/api/v1/plans", json=body).get_json()
    report = {"machine": machine(), "results": args.results, "candidates": plan["candidates"],
              "plan_items": len(plan["items"]),
              **{k: round(statistics.median(v), 1) for k, v in figures.items()},
              "spec": {"fit_plus_plan_ms": 2000, "output_predictions_ms": 50}}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
