"""Normal runs end to end: gunicorn + worker processes, real LightRAG KBs, a fake LLM on loopback.

The fake server plays the LLM from a script; each test sets the script,
submits a batch through the API and reads the outcome through the API.
The documents and the scripted conversation are in tests/agent_script.py.
"""
import json
import shutil

import pytest

from tests.agent_fixtures import SECRET, agent_env
from tests.agent_fixtures import finished as _finished
from tests.agent_fixtures import submit as _submit
from tests.agent_script import MISBEHAVIOURS, ONE_RECIPE, RESEARCH, THREE, final, recipe
from tests.agent_script import MODULATION_DOCS as MODULATION
from tests.agent_script import PRINCIPLES_DOCS as PRINCIPLES
from tests.processes import running_service, wait_until


@pytest.fixture(scope="module")
def agent_service(llm, kbs, tmp_path_factory):
    with running_service(tmp_path_factory.mktemp("agent"), agent_env(llm, kbs)) as procs:
        yield procs


def _sent_back(llm, complaint):
    """The last call carried the repair message naming ``complaint`` (before the node's state)."""
    last = llm.chat_requests()[-1]["messages"]
    return any(m["role"] == "user" and complaint in m["content"] and "Your final answer was not accepted"
               in m["content"] for m in last)


def test_a_normal_run_answers_with_valid_cited_recipes_and_a_faithful_trace(agent_service, llm):
    run_id = _submit(agent_service, llm, RESEARCH + [THREE])
    run = _finished(agent_service, run_id)
    assert run["status"] == "completed", run
    output = agent_service.get(f"/runs/{run_id}/output").json()
    assert len(output["recipes_json"]["recipes"]) == 3
    assert set(output["citations"]) == {"C1", "C2", "C3", "C4"}
    contents = {**PRINCIPLES, **MODULATION}
    for alias, ref in output["citations"].items():
        item = agent_service.get(f"/runs/{run_id}/evidence/{alias}").json()
        assert item["ref"] == ref and item["content"] in contents.values()
    c1 = agent_service.get(f"/runs/{run_id}/evidence/C1").json()
    assert (c1["source"], c1["content"]) == ("10.1000/cumo.001", PRINCIPLES["cu_mo.md"])
    assert agent_service.get(f"/runs/{run_id}/evidence/C4").json()["source"] == "tfa.md"

    trace = agent_service.all_events(run_id, include_payload="true")
    sent = [e["payload"]["messages"] for e in trace if e["event_type"] == "llm_request"]
    assert sent == [body["messages"] for body in llm.chat_requests()]
    types = [e["event_type"] for e in trace]
    for expected in ("run_started", "recap_info", "kb_query", "kb_get", "note_update",
                     "citations_resolved", "final_output"):
        assert expected in types
    depths = {e["payload"]["depth"] for e in trace if e["event_type"] == "recap_info"}
    assert depths == {0, 1}  # the expert ran one level down


def test_no_secret_reaches_the_database_or_the_logs(agent_service, llm):
    run_id = _submit(agent_service, llm, RESEARCH + [THREE])
    _finished(agent_service, run_id)
    for path in agent_service.workdir.iterdir():
        assert SECRET.encode() not in path.read_bytes(), path.name


def test_an_answer_citing_an_unretrieved_alias_is_repaired_then_fails_after_the_bound(agent_service, llm):
    bad = final(recipe("Cu", "Mo", "1:1", "4-mercaptobenzoic acid", "See [C9]."), notes="[C1]")
    run_id = _submit(agent_service, llm, RESEARCH[:1] + [bad, bad], recipes_per_run=1)
    run = _finished(agent_service, run_id)
    assert (run["status"], run["error"]["code"]) == ("failed", "invalid_output")
    assert "[C9] was never retrieved" in run["error"]["message"]
    assert _sent_back(llm, "[C9] was never retrieved")


@pytest.mark.parametrize("misbehaviour", sorted(MISBEHAVIOURS))
def test_a_misbehaving_answer_is_caught_traced_and_repaired(agent_service, llm, misbehaviour):
    bad, complaint = MISBEHAVIOURS[misbehaviour]
    run_id = _submit(agent_service, llm, RESEARCH[:1] + [final(bad), ONE_RECIPE], recipes_per_run=1)
    run = _finished(agent_service, run_id)
    assert run["status"] == "completed", run
    trace = agent_service.all_events(run_id, include_payload="true")
    answers = [e["payload"]["content"] for e in trace if e["event_type"] == "llm_response"]
    assert answers[-2] == final(bad)["content"]                      # the rejected answer
    repairs = [e["payload"] for e in trace if e["event_type"] == "recap_info"
               and e["payload"]["state"] == "repair"]
    assert len(repairs) == 1 and any(complaint in error for error in repairs[0]["result"])
    assert _sent_back(llm, complaint)  # the errors sent back
    output = agent_service.get(f"/runs/{run_id}/output").json()
    assert output["recipes_json"]["recipes"][0]["modifier_smiles"] == "OC(=O)c1ccc(S)cc1"
    assert set(output["citations"]) == {"C1"}


def test_a_misbehaviour_that_persists_fails_the_run_with_no_output(agent_service, llm):
    bad, complaint = MISBEHAVIOURS["linker under its systematic name"]
    run_id = _submit(agent_service, llm, RESEARCH[:1] + [final(bad), final(bad)], recipes_per_run=1)
    run = _finished(agent_service, run_id)
    assert (run["status"], run["error"]["code"]) == ("failed", "invalid_output")
    assert complaint in run["error"]["message"]
    missing = agent_service.get(f"/runs/{run_id}/output")
    assert missing.status_code == 409 and missing.json()["error"]["details"]["status"] == "failed"


def test_a_rate_limit_is_retried(agent_service, llm):
    one = final(recipe("Cu", "Mo", "1:1", "4-mercaptobenzoic acid", "Cu-Mo [C1]."))
    run_id = _submit(agent_service, llm, [{"status": 429}] + RESEARCH[:1] + [one], recipes_per_run=1)
    assert _finished(agent_service, run_id)["status"] == "completed"
    attempts = [e for e in agent_service.all_events(run_id, include_payload="true")
                if e["event_type"] == "llm_response"]
    assert "RateLimitError" in attempts[0]["payload"]["error"]


def test_an_llm_that_is_down_fails_the_run_clearly(agent_service, llm):
    run_id = _submit(agent_service, llm, [{"status": 500}] * 3, recipes_per_run=1)
    run = _finished(agent_service, run_id)
    assert (run["status"], run["error"]["code"]) == ("failed", "llm_unavailable")
    assert len(llm.chat_requests()) == 3


def test_an_llm_that_never_stops_calling_tools_is_stopped_by_the_bounds(agent_service, llm):
    loop = [{"tool_calls": [{"name": "kb_list", "arguments": {}}]}] * 20
    run_id = _submit(agent_service, llm, loop, recipes_per_run=1)
    run = _finished(agent_service, run_id)
    assert (run["status"], run["error"]["code"]) == ("failed", "agent_bounds_exceeded")
    assert "12 steps" in run["error"]["message"]


def test_cancel_between_steps_ends_the_run_within_one_step(agent_service, llm):
    slow = [{**turn, "delay": 0.4} for turn in RESEARCH] + [THREE]
    run_id = _submit(agent_service, llm, slow)
    wait_until(lambda: len(llm.chat_requests()) >= 1, message="the first LLM call")
    agent_service.post(f"/runs/{run_id}/cancel", json={"reason": "enough"})
    run = _finished(agent_service, run_id)
    assert run["status"] == "canceled"
    assert len(llm.chat_requests()) <= 2  # the call in flight, at most
    assert agent_service.all_events(run_id)[-1]["event_type"] == "run_canceled"


def test_a_knowledge_base_that_vanished_after_preflight_fails_clearly(agent_service, llm, kbs, tmp_path):
    backup = shutil.copytree(kbs[1], tmp_path / "modulation-backup")
    agent_service.stop(agent_service.processes[-1])  # stop the worker so the run waits
    run_id = _submit(agent_service, llm, RESEARCH + [THREE])
    shutil.rmtree(kbs[1])
    try:
        agent_service.start_worker()
        run = _finished(agent_service, run_id)
    finally:
        shutil.copytree(backup, kbs[1])
    assert (run["status"], run["error"]["code"]) == ("failed", "kb_error")
    assert "kb_modulation" in run["error"]["message"]


def test_a_graph_search_without_keywords_gets_them_through_the_traced_client(agent_service, llm):
    ask = {"tool_calls": [{"name": "kb_search", "arguments": {
        "kb": "kb_principles", "query": "copper molybdenum ethylene", "top_k": 1}}]}
    keywords = {"content": json.dumps({"high_level_keywords": ["dual metal sites"],
                                       "low_level_keywords": ["Copper", "TiO2"]})}
    answer = final(recipe("Cu", "Mo", "1:1", "4-mercaptobenzoic acid", "Cu-Mo [C1]."), notes="[C1]")
    run_id = _submit(agent_service, llm, [ask, keywords, answer], recipes_per_run=1)
    assert _finished(agent_service, run_id)["status"] == "completed"
    trace = agent_service.all_events(run_id, include_payload="true")
    requests = [e["payload"] for e in trace if e["event_type"] == "llm_request"]
    assert [r.get("purpose") for r in requests] == [None, "retrieval_keywords", None]
    assert "copper molybdenum ethylene" in requests[1]["messages"][0]["content"]
    query = next(e["payload"] for e in trace if e["event_type"] == "kb_query")
    assert query["mode"] == "mix" and query["keywords"]["source"] == "llm"
    assert query["keywords"]["low_level"] == ["Copper", "TiO2"] and query["entities"]
    assert len(llm.chat_requests()) == 3  # the keyword call went to the same endpoint, once


def test_the_worker_log_holds_our_lines_and_no_library_chatter(agent_service, llm):
    run_id = _submit(agent_service, llm, RESEARCH + [THREE])
    assert _finished(agent_service, run_id)["status"] == "completed"
    lines = [line for line in agent_service.worker_log().splitlines() if "INFO" in line]
    assert any(f"run {run_id} claimed" in line for line in lines)
    assert any(f"run {run_id} completed" in line for line in lines)
    chatter = [line for line in lines if " INFO c2xc." not in line]
    assert chatter == []
