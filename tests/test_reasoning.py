"""The reasoning tree: nodes that plan, act, revise and conclude — traced, served, bounded.

Real gunicorn + worker, real KBs, the fake LLM on loopback playing models
that plan, that never plan, whose expert fails, that get canceled mid-tree.
"""
import json

import pytest

from tests.agent_fixtures import agent_env, finished, submit
from tests.agent_script import RESEARCH, THREE, final, recipe, search
from tests.processes import running_service, wait_until


@pytest.fixture(scope="module")
def svc(llm, kbs, tmp_path_factory):
    env = agent_env(llm, kbs, C2XC_AGENT_MAX_STEPS="40", C2XC_AGENT_MAX_LLM_CALLS="40",
                    C2XC_AGENT_CONTEXT_ROUNDS="2")
    with running_service(tmp_path_factory.mktemp("reasoning"), env) as procs:
        yield procs


def plan(think, *steps):
    return {"name": "plan", "arguments": {"think": think, "subtasks": [
        {"step": step, "by": by} for step, by in steps]}}


def delegate(expert, task):
    return {"name": "delegate", "arguments": {"expert": expert, "task": task}}


ANSWER = final(recipe("Cu", "Mo", "1:1", "4-mercaptobenzoic acid",
                      "Cu-Mo stabilises OCCO [C1]; Ag lowers HER [C2]; MBA caps [C3]."),
               notes="Ranked by [C1].")
PLANNING_MODEL = [
    {"tool_calls": [plan("Find a metal pair, then a cap.", ("search principles for Cu pairs", "self"),
                         ("ask about the second metal", "tio2_expert"),
                         ("ask about the cap", "mof_expert"), ("answer", "self"))]},
    {"tool_calls": [search("kb_principles", "zzqx vvkw", mode="naive")]},          # finds nothing
    {"tool_calls": [plan("The search found nothing; search with plain words.",
                         ("search principles for copper molybdenum", "self"),
                         ("ask about the second metal", "tio2_expert"),
                         ("ask about the cap", "mof_expert"), ("answer", "self"))]},
    {"tool_calls": [search("kb_principles", "copper molybdenum ethylene OCCO")]},  # C1
    {"tool_calls": [delegate("tio2_expert", "Which second metal suppresses HER?")]},
    {"tool_calls": [plan("Look up silver.", ("search silver and HER", "self"))]},   # expert plans
    {"tool_calls": [search("kb_principles", "silver hydrogen evolution titania")]},  # C2
    {"content": "Ag suppresses hydrogen evolution [C2]."},                           # expert concludes
    {"tool_calls": [delegate("mof_expert", "Which -COOH cap enriches CO2?")]},
    {"tool_calls": [search("kb_modulation", "mercaptobenzoic acid Zr6 CO2")]},       # C3, no plan
    {"content": "Mercaptobenzoic acid caps Zr6 and enriches CO2 [C3]."},
    ANSWER,
]


def reasoning(svc, run_id):
    reply = svc.get(f"/runs/{run_id}/reasoning")
    assert reply.status_code == 200, reply.text
    return reply.json()


def by_id(tree):
    return {node["node_id"]: node for node in tree["nodes"]}


def test_a_planning_model_builds_a_tree_of_plans_revisions_and_experts(svc, llm):
    run_id = submit(svc, llm, PLANNING_MODEL, recipes_per_run=1)
    assert finished(svc, run_id)["status"] == "completed"
    tree = reasoning(svc, run_id)
    nodes = by_id(tree)
    assert list(nodes) == ["n1", "n2", "n3"]
    root, tio2, mof = nodes["n1"], nodes["n2"], nodes["n3"]
    assert (root["role"], root["parent_id"], root["children"]) == ("orchestrator", None, ["n2", "n3"])
    assert [r["think"] for r in root["plan_revisions"]] == [
        "Find a metal pair, then a cap.", "The search found nothing; search with plain words."]
    assert root["plan_revisions"][0]["plan"][1] == {"step": "ask about the second metal", "by": "tio2_expert"}
    assert [s["action"][0]["tool"] for s in root["steps"]] == ["kb_search", "kb_search", "delegate",
                                                              "delegate"]
    assert "no chunks matched" in root["steps"][0]["outcome"][0]
    assert (tio2["role"], tio2["parent_id"], tio2["task"]) == ("tio2_expert", "n1",
                                                               "Which second metal suppresses HER?")
    assert tio2["plan_revisions"][0]["plan"] == [{"step": "search silver and HER", "by": "self"}]
    assert (tio2["result"], tio2["citations"], tio2["status"]) == (
        "Ag suppresses hydrogen evolution [C2].", ["C2"], "done")
    assert mof["steps"][0]["implicit_plan"] is True and mof["plan_revisions"] == []
    assert (root["llm_calls"], tio2["llm_calls"], mof["llm_calls"]) == (7, 3, 2)
    assert tio2["prompt_tokens"] == 300 and root["duration_s"] >= tio2["duration_s"]
    assert tree["recipes"] == [{"rank": 1, "citations": ["C1", "C2", "C3"], "node_ids": ["n1", "n2", "n3"]}]


def test_a_parent_sees_only_the_childs_conclusion_and_its_own_plan(svc, llm):
    run_id = submit(svc, llm, PLANNING_MODEL, recipes_per_run=1)
    finished(svc, run_id)
    calls = llm.chat_requests()
    after_expert = calls[8]["messages"]  # the orchestrator's call after the TiO2 expert concluded
    sent = json.dumps(after_expert)
    assert "Ag suppresses hydrogen evolution [C2]." in sent          # the child's conclusion
    assert "search silver and HER" not in sent                       # never the child's own plan
    state = after_expert[-1]["content"]
    assert state.startswith("Where you stand") and "The search found nothing" in state
    assert "(tio2_expert) ask about the second metal" not in state   # done: no longer remaining
    assert "(mof_expert) ask about the cap" in state


def test_a_model_that_never_plans_still_completes_with_implicit_plans(svc, llm):
    run_id = submit(svc, llm, RESEARCH + [THREE])
    assert finished(svc, run_id)["status"] == "completed"
    nodes = by_id(reasoning(svc, run_id))
    assert list(nodes) == ["n1", "n2"]
    for node in nodes.values():
        assert node["plan_revisions"] == [] and node["status"] == "done"
        assert node["steps"] and all(step["implicit_plan"] for step in node["steps"])


def test_an_expert_that_cannot_cite_goes_back_once_and_its_parent_revises_the_plan(svc, llm):
    script = [
        {"tool_calls": [plan("Ask the expert first.", ("ask about metals", "tio2_expert"),
                             ("answer", "self"))]},
        {"tool_calls": [delegate("tio2_expert", "Best second metal?")]},
        {"content": "Silver, I believe."},                         # uncited: sent back once
        {"content": "Silver, definitely."},                        # still uncited: the child failed
        {"tool_calls": [plan("The expert could not support silver; search myself.",
                             ("search principles", "self"), ("answer", "self"))]},
        {"tool_calls": [search("kb_principles", "silver hydrogen evolution titania")]},
        final(recipe("Cu", "Ag", "3:1", "4-mercaptobenzoic acid", "Ag lowers HER [C1]."), notes="[C1]"),
    ]
    run_id = submit(svc, llm, script, recipes_per_run=1)
    assert finished(svc, run_id)["status"] == "completed"
    nodes = by_id(reasoning(svc, run_id))
    expert, root = nodes["n2"], nodes["n1"]
    assert [r["attempt"] for r in expert["repairs"]] == [1]
    assert "cites no retrieved evidence" in expert["repairs"][0]["problems"][-1]
    assert expert["result"] == "Silver, definitely." and expert["citations"] == []
    revised = [r for r in root["plan_revisions"] if r["at"] > expert["ended_at"]]
    assert revised and revised[0]["think"].startswith("The expert could not support")
    told = json.dumps(llm.chat_requests()[4]["messages"])
    assert "could not support its conclusion with evidence" in told


def test_cancel_in_the_middle_of_the_tree_shows_where_it_stopped(svc, llm):
    slow = [{**turn, "delay": 0.3} for turn in PLANNING_MODEL]
    run_id = submit(svc, llm, slow, recipes_per_run=1)
    wait_until(lambda: any(n["role"] == "tio2_expert" for n in reasoning(svc, run_id)["nodes"]),
               message="the expert node to start")
    svc.post(f"/runs/{run_id}/cancel", json={"reason": "enough"})
    assert finished(svc, run_id)["status"] == "canceled"
    tree = reasoning(svc, run_id)
    nodes = by_id(tree)
    assert tree["run_status"] == "canceled" and nodes["n1"]["status"] == "stopped"
    assert nodes["n2"]["status"] == "stopped" and "n3" not in nodes


def test_the_tree_rebuilt_from_the_trace_alone_equals_the_endpoint(svc, llm):
    run_id = submit(svc, llm, PLANNING_MODEL, recipes_per_run=1)
    finished(svc, run_id)
    rebuilt = {}
    for event in svc.all_events(run_id, event_type="recap_info", include_payload="true"):
        p = event["payload"]
        node = rebuilt.setdefault(p["node_id"], {"parent_id": p["parent_id"], "role": p["role"],
                                                 "depth": p["depth"], "plans": [], "result": None})
        if p["state"] == "down":
            node["task"] = p["task"]
        if p.get("planned"):
            node["plans"].append(p["planned"])
        if p["state"] == "up":
            node["result"] = p["result"]
    served = {n["node_id"]: {"parent_id": n["parent_id"], "role": n["role"], "depth": n["depth"],
                             "task": n["task"], "plans": [r["plan"] for r in n["plan_revisions"]],
                             "result": n["result"]}
              for n in reasoning(svc, run_id)["nodes"]}
    assert rebuilt == served


def test_reasoning_of_an_unknown_run_is_404(svc):
    reply = svc.get("/runs/run_nope/reasoning")
    assert reply.status_code == 404 and reply.json()["error"]["code"] == "not_found"


def test_prompts_stay_flat_as_a_long_run_grows(svc, llm):
    """With a two-round window, the 16th call is no bigger than the 6th (20 % slack)."""
    queries = ["copper molybdenum ethylene OCCO", "silver hydrogen evolution titania"]
    research = [{"tool_calls": [search("kb_principles", queries[i % 2])]} for i in range(16)]
    run_id = submit(svc, llm, research + [final(recipe(
        "Cu", "Mo", "1:1", "4-mercaptobenzoic acid", "Cu-Mo [C1]."), notes="[C1]")], recipes_per_run=1)
    assert finished(svc, run_id)["status"] == "completed"
    sizes = [len(json.dumps(body["messages"])) for body in llm.chat_requests()]
    assert len(sizes) == 17
    assert sizes[15] <= 1.2 * sizes[5], sizes


def test_delegation_past_the_depth_bound_is_refused_without_calling_the_model():
    """Unit level: the engine alone, with stand-ins for the run and the model."""
    from core.settings import AgentBounds
    from worker.agent.engine import RecipeAgent
    from worker.agent.nodes import Node
    from worker.agent.note import RunNote
    from worker.agent.tools import ToolBox
    from worker.llm.client import ToolCall

    class Untouchable:
        calls = 0

        def chat(self, *args, **kwargs):
            raise AssertionError("no LLM call may be made past the depth bound")

    class Run:
        def emit(self, event):
            raise AssertionError("a refused delegation starts no node")

        def checkpoint(self):
            pass

    agent = RecipeAgent(Run(), Untouchable(), ToolBox(Run(), {}, RunNote()), AgentBounds(max_depth=1))
    root = Node("n1", None, "orchestrator", 0, "task")
    call = ToolCall("c1", "delegate", json.dumps({"expert": "tio2_expert", "task": "go deeper"}))
    result = agent._delegate(root, call)
    assert result.text.startswith("error: maximum delegation depth reached")
    assert agent.ids.count == 0
