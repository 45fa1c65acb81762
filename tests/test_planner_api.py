"""Predictions on a run's recipes, POST /predictions and plans over HTTP (SPEC 14), on both backends."""
from __future__ import annotations

import json

import pytest

from bench.oracles import SyntheticOracle
from store.db import write_transaction
from tests.http_helpers import ok
from tests.store_helpers import completed_runs

API = "/api/v1"
ORACLE = SyntheticOracle(5)


def _recipe(option, rank=1):
    return {**option.recipe, "rank": rank, "small_molecule_modifier": option.recipe["modifier"],
            "rationale": f"{option.recipe['M1']} and {option.recipe['M2']} [C1][C2]."}


def _measure(client, options):
    """Record the oracle's C2H4 share of each option as a measured experiment (the rest is H2)."""
    lines = ["M1,M2,atomic_ratio,modifier_smiles,product:C2H4,product:H2"]
    for o in options:
        share = ORACLE.values[str(o.key)]
        lines.append(f"{o.recipe['M1']},{o.recipe['M2']},{o.recipe['atomic_ratio']},{o.recipe['modifier_smiles']},"
                     f"{share:.6f},{1 - share:.6f}")
    ok(client.post(f"{API}/experiments/import", data="\n".join(lines).encode(), content_type="text/csv"), 201)


@pytest.fixture
def lab(client, app_db):
    for name in ("C2H4", "H2"):
        ok(client.post(f"{API}/products", json={"name": name}), 201)
    proposals = ORACLE.options[30::20][:15]  # across many metal pairs
    run_ids = completed_runs(app_db, 5, dry_run=False, recipes_per_run=3,
                             recipes=[_recipe(o, r + 1) for r, o in enumerate(proposals[:3])])
    with write_transaction(app_db):  # each run its own three recipes: five runs × three = 15 candidates
        for index, run_id in enumerate(run_ids):
            mine = proposals[index * 3:index * 3 + 3]
            app_db.execute("UPDATE run_outputs SET recipes_json = ?, citations_json = ? WHERE run_id = ?",
                           (json.dumps({"recipes": [_recipe(o, r + 1) for r, o in enumerate(mine)],
                                        "overall_notes": "ranked"}),
                            '{"C1": "kb:kb_principles__chunk-1", "C2": "kb:kb_modulation__chunk-2"}', run_id))
    return run_ids, proposals


def test_predictions_appear_on_a_runs_recipes_once_the_lab_has_enough_results(client, lab):
    run_ids, _ = lab
    before = ok(client.get(f"{API}/runs/{run_ids[0]}/output"))["recipes_json"]["recipes"]
    assert all(r["prediction"] is None and "predictions start at 5" in r["prediction_reason"] for r in before)
    assert all(r["recipe_key"] for r in before)
    _measure(client, ORACLE.options[:25])
    after = ok(client.get(f"{API}/runs/{run_ids[0]}/output"))["recipes_json"]["recipes"]
    for recipe in after:
        p = recipe["prediction"]
        assert p["objective"] == "C2H4" and p["n_results"] == 25 and p["model_id"].startswith("model_")
        assert 0 <= p["low"] <= p["mean"] <= p["high"] <= 1 and p["sd"] > 0
    again = ok(client.get(f"{API}/runs/{run_ids[0]}/output"))["recipes_json"]["recipes"]
    assert [r["prediction"] for r in again] == [r["prediction"] for r in after]  # same data, same answer


def test_post_predictions_for_any_recipes(client, lab):
    _measure(client, ORACLE.options[:25])
    body = {"recipes": [{"M1": o.recipe["M1"], "M2": o.recipe["M2"], "atomic_ratio": o.recipe["atomic_ratio"],
                         "modifier_smiles": o.recipe["modifier_smiles"]} for o in ORACLE.options[200:204]]}
    answer = ok(client.post(f"{API}/predictions", json=body))
    assert answer["n_results"] == 25 and answer["reason"] is None and len(answer["items"]) == 4
    assert all(i["prediction"]["model_id"] == answer["model_id"] for i in answer["items"])
    bad = client.post(f"{API}/predictions", json={"recipes": [{**body["recipes"][0], "M2": body["recipes"][0]["M1"]}]})
    assert bad.status_code == 422 and "recipes[0]" in bad.get_json()["error"]["details"]["fields"]
    assert client.post(f"{API}/predictions", json={**body, "objective": "Unobtainium"}).status_code == 422
    assert client.post(f"{API}/predictions", json={"recipes": []}).status_code == 422


def test_a_plan_ranks_the_batchs_recipes_counts_pending_and_accepts_once(client, lab):
    run_ids, proposals = lab
    _measure(client, ORACLE.options[:25] + [proposals[0]])      # one proposal already measured
    ok(client.post(f"{API}/experiments", json={"run_id": run_ids[0], "rank": 2}), 201)  # one in the lab
    request = {"run_ids": run_ids, "size": 4, "seed": 11}
    plan = ok(client.post(f"{API}/plans", json=request), 201)
    assert plan["status"] == "proposed" and plan["model_id"] and plan["n_results"] == 26 and plan["reason"] is None
    assert plan["left_out"]["measured"] == 1 and plan["left_out"]["pending"] == 1 and plan["candidates"] == 15
    keys = [i["recipe"]["recipe_key"] for i in plan["items"]]
    assert str(proposals[0].key) not in keys and str(proposals[1].key) not in keys and len(keys) == 4
    for item in plan["items"]:
        assert item["origin"] == "agent" and item["source"]["run_id"] in run_ids
        assert item["prediction"]["sd"] > 0 and item["acquisition"] is not None and item["why"] in ("exploit", "explore")
        assert item["citations"] == {"C1": "kb:kb_principles__chunk-1", "C2": "kb:kb_modulation__chunk-2"}
    same = ok(client.post(f"{API}/plans", json=request), 201)
    assert [i["recipe"]["recipe_key"] for i in same["items"]] == keys and same["plan_id"] != plan["plan_id"]
    assert ok(client.get(f"{API}/plans/{plan['plan_id']}"))["items"] == plan["items"]
    made = ok(client.post(f"{API}/plans/{plan['plan_id']}/accept", json={"items": [1, 3]}), 201)
    assert [e["status"] for e in made] == ["planned", "planned"] and all(e["plan_id"] == plan["plan_id"] for e in made)
    assert [e["recipe"]["recipe_key"] for e in made] == [keys[0], keys[2]]
    again = client.post(f"{API}/plans/{plan['plan_id']}/accept", json={})
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    listed = ok(client.get(f"{API}/experiments?plan_id={plan['plan_id']}"))["items"]
    assert len(listed) == 2
    accepted = ok(client.get(f"{API}/plans/{plan['plan_id']}"))
    assert accepted["status"] == "accepted" and accepted["accepted"]["items"] == [1, 3]


def test_goals_explore_and_too_few_results(client, lab):
    run_ids, _ = lab
    early = ok(client.post(f"{API}/plans", json={"run_ids": run_ids, "size": 3}), 201)
    assert early["model_id"] is None and "at least 5" in early["reason"]
    assert [i["why"] for i in early["items"]] == ["agent_order"] * 3
    assert len({frozenset((i["recipe"]["M1"], i["recipe"]["M2"])) for i in early["items"]}) == 3  # pairs varied
    _measure(client, ORACLE.options[:25])
    best = ok(client.post(f"{API}/plans", json={"run_ids": run_ids, "size": 3, "goal": "best"}), 201)
    means = [i["prediction"]["mean"] for i in best["items"]]
    assert all(i["why"] == "exploit" for i in best["items"]) and means[0] == max(means)
    learn = ok(client.post(f"{API}/plans", json={"run_ids": run_ids, "size": 3, "goal": "learn"}), 201)
    assert all(i["why"] == "explore" for i in learn["items"])
    explored = ok(client.post(f"{API}/plans", json={"explore": True, "size": 5}), 201)
    assert explored["candidates"] > 15 and all(i["origin"] == "planner" and i["source"] is None
                                               for i in explored["items"])
    made = ok(client.post(f"{API}/plans/{explored['plan_id']}/accept", json={"items": [1]}), 201)
    assert made[0]["source"] is None and made[0]["recipe"]["recipe_key"] == explored["items"][0]["recipe"]["recipe_key"]


@pytest.mark.parametrize("body, field", [
    ({}, "batch_id"), ({"size": 0, "explore": True}, "size"), ({"size": 21, "explore": True}, "size"),
    ({"batch_id": "b", "run_ids": ["r"]}, "run_ids"), ({"goal": "fastest", "explore": True}, "goal"),
    ({"explore": True, "objective": "Unobtainium"}, "objective"), ({"explore": True, "seed": -1}, "seed"),
])
def test_a_bad_plan_request_gets_the_envelope(client, lab, body, field):
    reply = client.post(f"{API}/plans", json=body)
    assert reply.status_code in (400, 422) and field in reply.get_json()["error"]["details"]["fields"]


def test_unknown_plans_and_runs_are_404(client, lab):
    assert client.get(f"{API}/plans/plan_nope").status_code == 404
    assert client.post(f"{API}/plans/plan_nope/accept", json={}).status_code == 404
    assert client.post(f"{API}/plans", json={"run_ids": ["run_nope"]}).status_code == 404
    assert client.post(f"{API}/plans", json={"batch_id": "batch_nope"}).status_code == 404


def test_calibration_predicts_each_result_from_the_others(client, lab):
    early = ok(client.get(f"{API}/predictions/calibration"))
    assert early["items"] == [] and early["coverage80"] is None and early["reason"]
    _measure(client, ORACLE.options[::7][:40])
    answer = ok(client.get(f"{API}/predictions/calibration?objective=C2H4"))
    assert answer["n_results"] == 40 and len(answer["items"]) == 40 and 0.5 <= answer["coverage80"] <= 1.0
    assert all(i["low"] <= i["mean"] <= i["high"] for i in answer["items"])
    assert client.get(f"{API}/predictions/calibration?objective=Unobtainium").status_code == 422
