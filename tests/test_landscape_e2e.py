"""The agent sees the lab's experiments (SPEC 14): the landscape block and `predict`, through the real
service (gunicorn + worker, real knowledge bases, the scripted model on loopback)."""
from __future__ import annotations

import json

import pytest

from bench.oracles import SyntheticOracle
from tests.agent_fixtures import agent_env, finished, submit
from tests.agent_script import ONE_RECIPE, RESEARCH
from tests.processes import running_service

ORACLE = SyntheticOracle(2)
PREDICT = {"tool_calls": [{"name": "predict", "arguments": {"recipes": [
    {"M1": "Cu", "M2": "Mo", "atomic_ratio": "1:1", "modifier_smiles": "OC(=O)c1ccc(S)cc1"},
    {"M1": "Cu", "M2": "Cu", "atomic_ratio": "1:1", "modifier_smiles": "CC(=O)O"}]}}]}


@pytest.fixture(scope="module")
def svc(llm, kbs, tmp_path_factory):
    with running_service(tmp_path_factory.mktemp("landscape"), agent_env(llm, kbs, C2XC_MEMORY_LESSONS="0")) as procs:
        yield procs


def _opening(llm) -> list[dict]:
    return llm.chat_requests()[0]


def _landscape_events(svc, run_id, kind):
    return [e for e in svc.get(f"/runs/{run_id}/events", params={"event_type": kind, "include_payload": "true"}
                               ).json()["items"]]


def test_without_experiments_the_prompts_are_as_before_and_predict_is_not_offered(svc, llm):
    run_id = submit(svc, llm, RESEARCH[:1] + [ONE_RECIPE], recipes_per_run=1)
    assert finished(svc, run_id)["status"] == "completed"
    opening = _opening(llm)
    assert not any("The lab's experiments so far" in str(m.get("content")) for m in opening["messages"])
    assert "predict" not in {t["function"]["name"] for t in opening.get("tools", [])}
    assert _landscape_events(svc, run_id, "landscape_shown") == []


def test_with_experiments_every_node_starts_with_the_landscape_and_may_ask_for_predictions(svc, llm):
    for name in ("C2H4", "H2"):
        svc.post("/products", json={"name": name})
    lines = ["M1,M2,atomic_ratio,modifier,modifier_smiles,status,product:C2H4,product:H2"]
    for o in ORACLE.options[::9][:12]:
        share = ORACLE.values[str(o.key)]
        lines.append(f"{o.recipe['M1']},{o.recipe['M2']},{o.recipe['atomic_ratio']},{o.recipe['modifier']},"
                     f"{o.recipe['modifier_smiles']},measured,{share:.4f},{1 - share:.4f}")
    lines.append("Ni,Fe,2:1,,CC(=O)O,failed,,")
    imported = svc.post("/experiments/import", data="\n".join(lines).encode(), headers={"Content-Type": "text/csv"})
    assert imported.status_code == 201, imported.text

    run_id = submit(svc, llm, RESEARCH[:1] + [PREDICT, ONE_RECIPE], recipes_per_run=1)
    assert finished(svc, run_id)["status"] == "completed"
    opening = _opening(llm)
    message = next(m["content"] for m in opening["messages"] if "The lab's experiments so far" in str(m["content"]))
    [shown] = _landscape_events(svc, run_id, "landscape_shown")
    block = shown["payload"]["text"]
    assert block in message  # after the memory block: the imported results are lab memory too now
    assert "12 measured, 1 failed syntheses, 0 planned or in the lab; 13 different recipes." in block
    assert "Best: " in block and "Worst: " in block and "Failed syntheses: Fe–Ni 1:2" in block
    assert "Metal pairs of these metals never tried:" in block and "[M" not in block
    assert "predict" in {t["function"]["name"] for t in opening["tools"]}
    assert shown["payload"]["counts"] == {"measured": 12, "failed": 1, "pending": 0, "recipes": 13}
    assert shown["payload"]["model_id"].startswith("model_")
    [asked] = _landscape_events(svc, run_id, "predictions_made")
    good, bad = asked["payload"]["items"]
    assert 0 <= good["low"] <= good["mean"] <= good["high"] <= 1 and good["recipe_key"].startswith("Cu1Mo1|")
    assert "two different metals" in bad["problem"]
    answer = [m for m in llm.chat_requests()[2]["messages"] if m["role"] == "tool"][-1]  # predict's answer
    told = json.loads(answer["content"])
    assert told["objective"] == "C2H4" and told["n_results"] == 13 and told["predictions"][0]["sd"] > 0
