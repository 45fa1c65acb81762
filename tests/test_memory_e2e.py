"""The loop end to end across processes: run → lab feedback → the worker learns → the next run is
shown the lab's result and cites it; a SIGKILL in the middle of learning loses nothing and
applies nothing twice. gunicorn + worker processes, real LightRAG KBs, the fake LLM on loopback.
"""
import json
import signal
import sqlite3

import pytest

from tests.agent_fixtures import agent_env
from tests.agent_fixtures import finished as _finished
from tests.agent_fixtures import submit as _submit
from tests.agent_script import RESEARCH, final, recipe
from tests.processes import running_service, wait_until

ONE = final(recipe("Cu", "Mo", "1:1", "4-mercaptobenzoic acid", "Cu-Mo stabilises OCCO [C1]."))
HEEDS_THE_LAB = final(recipe("Cu", "Ag", "3:1", "4-mercaptobenzoic acid",
                             "The lab found Cu-Mo poor [M1]; Ag suppresses HER [C1]."),
                      notes="Cu-Mo avoided after the lab result [M1].")


@pytest.fixture(scope="module")
def memory_service(llm, kbs, tmp_path_factory):
    env = agent_env(llm, kbs, C2XC_MEMORY_LESSONS="0")
    with running_service(tmp_path_factory.mktemp("memory"), env) as procs:
        yield procs


def product(svc, name):
    reply = svc.post("/products", json={"name": name})
    return reply.json()["product_id"] if reply.status_code == 201 else reply.json()["error"]["details"]["product_id"]


def give_feedback(svc, run_id, score, **values):
    body = {"score": score, "recipe_index": 1,
            "products": [{"product_id": product(svc, n), "value": v} for n, v in values.items()]}
    reply = __import__("requests").put(f"{svc.base_url}/runs/{run_id}/feedback", json=body, timeout=10)
    assert reply.status_code == 200, reply.text


def learned(svc, run_id):
    def done():
        jobs = svc.get(f"/runs/{run_id}/memory").json()["learn_jobs"]
        return jobs and jobs[0]["status"] in ("completed", "failed") and jobs[0]
    return wait_until(done, 30, message=f"learning from {run_id}")


def a_lab_result(svc, llm):
    """The bank's newest lab result; learned from a run of its own when the bank has none, so a
    test that needs one also passes run alone (-k), not only after the tests that make one."""
    items = svc.get("/memories", params={"kind": "lab_result"}).json()["items"]
    if not items:
        run_id = _submit(svc, llm, RESEARCH[:1] + [ONE], recipes_per_run=1)
        assert _finished(svc, run_id)["status"] == "completed"
        give_feedback(svc, run_id, 1.5, H2=9, C2H4=1)
        assert learned(svc, run_id)["status"] == "completed"
        items = svc.get("/memories", params={"kind": "lab_result"}).json()["items"]
    return items[0]


def test_the_next_run_is_shown_the_lab_result_and_cites_it(memory_service, llm):
    svc = memory_service
    first = _submit(svc, llm, RESEARCH[:1] + [ONE], recipes_per_run=1)
    assert _finished(svc, first)["status"] == "completed"
    give_feedback(svc, first, 1.5, H2=9, C2H4=1)
    job = learned(svc, first)
    assert job["status"] == "completed", job
    [lab] = svc.get("/memories", params={"kind": "lab_result"}).json()["items"]
    assert lab["polarity"] == "avoid" and lab["recipe"]["M2"] == "Mo"

    second = _submit(svc, llm, RESEARCH[:1] + [HEEDS_THE_LAB], recipes_per_run=1,
                     request="Copper molybdenum TiO2 for ethylene")
    assert _finished(svc, second)["status"] == "completed"

    [started] = svc.all_events(second, event_type="run_started", include_payload="true")
    assert started["payload"]["memory"] == {"enabled": True, "top_k": 3, "search_max_k": 5,
                                            "embedder": "fake-hash-64@64"}  # as the worker applied it
    opening = llm.chat_requests()[0]["messages"]
    block = next(m["content"] for m in opening if m["content"].startswith("Lab memory"))
    assert "[M1] lab_result · avoid" in block and "Cu–Mo 1:1" in block
    output = svc.get(f"/runs/{second}/output").json()
    assert output["citations"]["M1"] == f"mem:{lab['memory_id']}"
    assert output["memory_ids"] == [lab["memory_id"]]
    exposed = svc.all_events(second, event_type="memory_exposed", include_payload="true")
    assert exposed[0]["payload"]["memories"][0]["memory_id"] == lab["memory_id"]
    view = svc.get(f"/runs/{second}/memory").json()
    assert [e["alias"] for e in view["exposures"]] == ["M1"] and view["cited"][0]["alias"] == "M1"
    provenance = svc.get(f"/memories/{lab['memory_id']}").json()["provenance"]
    assert [r["run_id"] for r in provenance["cited_by_runs"]] == [second]


def test_a_batch_without_memory_is_shown_none_and_sends_the_same_prompt(memory_service, llm):
    llm.script = RESEARCH[:1] + [ONE]
    llm.requests.clear()
    created = memory_service.post("/batches", json={"user_request": "Cu/Mo again", "memory": False})
    assert created.status_code == 201
    run_id = created.json()["runs"][0]["run_id"]
    assert _finished(memory_service, run_id)["status"] == "completed"
    assert not any(m["content"] and m["content"].startswith("Lab memory")
                   for body in llm.chat_requests() for m in body["messages"])
    assert memory_service.all_events(run_id, event_type="memory_exposed") == []
    assert memory_service.get(f"/runs/{run_id}/memory").json()["memory_enabled"] is False


LESSONS = json.dumps({"lessons": [{"title": "Cu-Mo makes hydrogen here", "role": "tio2_expert",
                                    "content": "A 1:1 Cu-Mo pair gave mostly H2 in our lab.",
                                    "polarity": "avoid"}]})


def bank(db_path):
    with sqlite3.connect(db_path) as db:
        return (db.execute("SELECT COUNT(*) FROM memory_items").fetchone()[0],
                db.execute("SELECT COUNT(*) FROM memory_vectors").fetchone()[0],
                db.execute("SELECT COUNT(*) FROM memory_deltas").fetchone()[0])


@pytest.mark.slow
def test_sigkill_in_the_middle_of_learning_leaves_the_bank_before_and_the_job_finishes_once(
        llm, kbs, tmp_path):
    env = agent_env(llm, kbs, C2XC_WORKER_STALE_S="1")
    with running_service(tmp_path, env) as svc:
        run_id = _submit(svc, llm, RESEARCH[:1] + [ONE], recipes_per_run=1)
        assert _finished(svc, run_id)["status"] == "completed"
        slow_lessons = {"content": LESSONS, "delay": 4}
        llm.respond = lambda body: slow_lessons if "distil lessons" in body["messages"][0]["content"] \
            else {"status": 500}
        try:
            give_feedback(svc, run_id, 2, H2=1)
            wait_until(lambda: svc.get(f"/runs/{run_id}/memory").json()["learn_jobs"][0]["status"]
                       == "running", 20, message="the learn job to start")
            wait_until(lambda: any("distil lessons" in r["messages"][0]["content"]
                                   for r in llm.chat_requests()), 20, message="the lesson call")
            before = bank(svc.db_path)
            worker = svc.processes[-1]
            worker.send_signal(signal.SIGKILL)
            worker.wait(10)
            assert bank(svc.db_path) == before == (0, 0, 0)

            svc.start_worker()
            job = learned(svc, run_id)
        finally:
            llm.respond = None
        assert (job["status"], job["attempts"]) == ("completed", 2), job
        items = svc.get("/memories").json()["items"]
        assert sorted(i["kind"] for i in items) == ["lab_result", "lesson"]
        assert bank(svc.db_path) == (2, 2, 1)
        assert len(svc.get("/memory/deltas", params={"run_id": run_id}).json()["items"]) == 1


def test_the_terminal_client_lists_searches_shows_relearns_and_rolls_back(memory_service, llm):
    from tests.test_cli import _json, c2xc
    svc = memory_service
    lab = a_lab_result(svc, llm)
    assert [m["memory_id"] for m in _json(c2xc(svc, "memory", "list", "--kind", "lab_result", "--json"))] \
        == [lab["memory_id"]]
    found = _json(c2xc(svc, "memory", "search", "copper molybdenum lab result", "--json"))
    assert found[0]["memory_id"] == lab["memory_id"] and found[0]["score"] > 0
    shown = c2xc(svc, "memory", "show", lab["memory_id"])
    assert shown.returncode == 0 and "cited by runs" in shown.stdout and lab["title"] in shown.stdout

    already = c2xc(svc, "learn", lab["source_run_id"])  # learned: nothing is queued, and it says so
    assert already.returncode == 0 and "learned already" in already.stdout
    first = _json(c2xc(svc, "learn", lab["source_run_id"], "--json"))
    assert c2xc(svc, "rollback", first["delta_id"]).returncode == 0
    job = _json(c2xc(svc, "learn", lab["source_run_id"], "--json"))
    assert job["status"] == "queued"
    done = learned(svc, lab["source_run_id"])
    assert done["job_id"] == job["job_id"] and done["status"] == "completed"
    by_experiment = c2xc(svc, "learn", done["experiment_id"])  # the same result, named by its experiment
    assert by_experiment.returncode == 0 and "learned already" in by_experiment.stdout
    rolled = c2xc(svc, "rollback", done["delta_id"])
    assert rolled.returncode == 0 and "rolled back" in rolled.stdout
    again = c2xc(svc, "rollback", done["delta_id"])
    assert again.returncode == 5 and "conflict" in again.stderr and len(again.stderr.splitlines()) == 1
    assert c2xc(svc, "memory", "show", "mem_nope").returncode == 3


def test_memory_of_another_embedder_is_said_everywhere_until_reembedded(memory_service, llm):
    """Issue 30 item 5: vectors of another embedder are never ranked, and that is never silent —
    the System page's preflight, the run's trace, the worker's log; c2xc-admin brings them back."""
    import subprocess
    import sys

    from tests.processes import REPO
    svc = memory_service
    lab = a_lab_result(svc, llm)
    if lab["status"] != "active":  # the tests before rolled its learning back: learn it again
        assert svc.post(f"/runs/{lab['source_run_id']}/learn").status_code == 202
        assert learned(svc, lab["source_run_id"])["status"] == "completed"
    assert svc.get("/memories", params={"status": "active"}).json()["items"]
    with sqlite3.connect(svc.db_path) as db:  # as if a different embedding model had made them
        db.execute("UPDATE memory_vectors SET embedder = 'an-older-model@64'")
    warning = svc.get("/system/config").json()["normal_runs"]["warnings"]["memory"]
    assert "left out of retrieval" in warning and "c2xc-admin reembed-memories" in warning

    run_id = _submit(svc, llm, RESEARCH[:1] + [ONE], recipes_per_run=1)
    assert _finished(svc, run_id)["status"] == "completed"
    [stale] = svc.all_events(run_id, event_type="memory_stale", include_payload="true")
    assert stale["payload"]["stale"] >= 1 and stale["payload"]["fix"] == "c2xc-admin reembed-memories"
    assert stale["payload"]["embedder"] == "fake-hash-64@64"
    assert svc.all_events(run_id, event_type="memory_exposed") == []
    assert "left out of retrieval; run c2xc-admin reembed-memories" in svc.worker_log()

    fixed = subprocess.run([sys.executable, "-m", "store.admin", "--db", svc.db_path, "reembed-memories"],
                           cwd=REPO, env=svc.env, capture_output=True, text=True, timeout=60)
    assert fixed.returncode == 0, fixed.stderr
    assert svc.get("/system/config").json()["normal_runs"]["warnings"] == {}
