"""Lab memory, round 2 (SPEC 12 "Exact and fair"; issue 30 items 1, 6, 7; issue 33 item 4).

Learning's subject is the experiment: a run's feedback, a result entered by
hand or imported, a failed synthesis. Each test fails without its rule, on
both backends; the learner embeds through the fake OpenAI-compatible server
on loopback.
"""
import json
import time

import pytest

from core.errors import Conflict
from store import experiments, learn_jobs, learn_requests, memory_changes, memory_deltas
from store.experiments import NewExperiment
from store.memory_items import get_item, list_items
from store.memory_search import MemoryIndex
from tests.agent_fixtures import SECRET
from tests.memory_helpers import (CU_MO, learner, learner_settings, normal_run_with_feedback, probe,
                                  product_id, put, work_learn_jobs)

PROBES = ["copper molybdenum ethylene", "lab result score", "mercaptobenzoic acid modifier"]
HAND = {"M1": "Mo", "M2": "Cu", "atomic_ratio": "3:1", "small_molecule_modifier": "benzoic acid",
        "modifier_smiles": "c1ccccc1C(O)=O"}


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)


def active(conn, kind: str | None = None):
    return list_items(conn, status="active", kind=kind, role=None, polarity=None, limit=200,
                      cursor=None)[0]


def measured(conn, recipe: dict = HAND, status: str = "measured", **fields):
    products = [(product_id(conn, name), value) for name, value in fields.pop("products", {}).items()]
    return experiments.create_experiment(
        conn, NewExperiment(recipe=recipe, status=status, products=products, **fields), time.time())


# --- item 1: rolling back a re-learn is exact --------------------------------------------------

def test_rolling_back_an_exact_relearn_brings_the_earlier_learning_back(conn, fake_llm):
    the_learner, settings, index = learner(fake_llm), learner_settings(fake_llm), MemoryIndex()
    run_id = normal_run_with_feedback(conn, CU_MO, 9, {"C2H4": 1})
    [first] = work_learn_jobs(conn, the_learner)
    after_first = probe(conn, settings, index, PROBES)
    put(conn, run_id, 2, {"C2H4": 1, "H2": 3})
    [second] = work_learn_jobs(conn, the_learner)
    assert second.undone_exactly and second.undone_delta_id == first.delta_id

    memory_changes.rollback(conn, second.delta_id, time.time())

    assert probe(conn, settings, index, PROBES) == after_first  # item for item, score for score
    assert memory_deltas.get_delta(conn, first.delta_id).status == "applied"
    with pytest.raises(Conflict, match="already rolled back"):
        memory_changes.rollback(conn, second.delta_id, time.time())
    learn_requests.request_run_learning(conn, run_id, time.time())  # learn v2 again: one live result
    work_learn_jobs(conn, the_learner)
    [lab] = active(conn, "lab_result")
    assert lab.polarity == "avoid" and memory_deltas.get_delta(conn, first.delta_id).status == "rolled_back"


def test_rolling_back_a_compensating_relearn_never_leaves_two_live_results(conn, fake_llm):
    the_learner = learner(fake_llm)
    first_run = normal_run_with_feedback(conn, CU_MO, 9, {"C2H4": 1})
    [first] = work_learn_jobs(conn, the_learner)
    normal_run_with_feedback(conn, CU_MO, 8, {"C2H4": 1})  # a replicate: it touches the first's result
    work_learn_jobs(conn, the_learner)
    [old] = [i for i in active(conn) if i.source_run_id == first_run]
    put(conn, first_run, 2, {"H2": 1})
    [relearn] = work_learn_jobs(conn, the_learner)
    assert relearn.undone_exactly is False and get_item(conn, old.memory_id).status == "archived"

    memory_changes.rollback(conn, relearn.delta_id, time.time())

    back = get_item(conn, old.memory_id)
    assert (back.status, back.polarity) == ("active", "prefer")
    assert [i.memory_id for i in active(conn) if i.source_run_id == first_run] == [old.memory_id]
    assert memory_deltas.get_delta(conn, first.delta_id).status == "applied"
    learn_requests.request_run_learning(conn, first_run, time.time())
    work_learn_jobs(conn, the_learner)
    live = [i for i in active(conn, "lab_result") if i.source_run_id == first_run]
    assert [i.polarity for i in live] == ["avoid"]


# --- item 6: one learn per feedback version ----------------------------------------------------

def test_a_resave_that_changes_nothing_learns_nothing_and_a_learned_version_is_not_requeued(conn, fake_llm):
    the_learner = learner(fake_llm)
    run_id = normal_run_with_feedback(conn, CU_MO, 9, {"C2H4": 1})
    [learned] = work_learn_jobs(conn, the_learner)
    [lab] = active(conn)

    put(conn, run_id, 9, {"C2H4": 1})  # the same numbers saved again
    again = learn_requests.request_run_learning(conn, run_id, time.time())

    assert len(learn_jobs.jobs_of_run(conn, run_id)) == 1 and again.delta_id == learned.delta_id
    assert work_learn_jobs(conn, the_learner) == [] and [i.memory_id for i in active(conn)] == [lab.memory_id]
    memory_changes.rollback(conn, learned.delta_id, time.time())  # after a rollback, asking learns again
    assert learn_requests.request_run_learning(conn, run_id, time.time()).status == "queued"


def test_numbers_edited_and_restored_while_learning_are_learned_once(conn, fake_llm):
    the_learner = learner(fake_llm)
    run_id = normal_run_with_feedback(conn, CU_MO, 9, {"C2H4": 1})
    job = learn_jobs.claim_next_learn_job(conn, "w1", 0.0)
    conn.execute("INSERT INTO workers (worker_id, pid, host, started_at, heartbeat_at,"
                 " poll_interval_s) VALUES ('w1', 1, 'h', 0, 0, 1)")
    put(conn, run_id, 3, {"C2H4": 1})  # a new job is queued for the new numbers…
    put(conn, run_id, 9, {"C2H4": 1})  # …and gives way when they are back to what the running job reads
    assert [j.status for j in learn_jobs.jobs_of_run(conn, run_id)] == ["superseded", "running"]
    outcome = the_learner.execute(conn, job, "w1")
    assert outcome.status == "completed" and len(active(conn)) == 1
    assert work_learn_jobs(conn, the_learner) == []


# --- issue 33 item 4: one lab_result per measured or failed experiment --------------------------

def test_a_result_entered_by_hand_is_learned_and_a_replicate_corroborates_it(conn, fake_llm):
    the_learner = learner(fake_llm)
    first = measured(conn, score=8.0, products={"C2H4": 3, "CO": 1})
    work_learn_jobs(conn, the_learner)
    replicate = measured(conn, {**HAND, "M1": "Cu", "M2": "Mo", "atomic_ratio": "1:3",
                                "modifier_smiles": "OC(=O)c1ccccc1"}, score=9.0, products={"C2H4": 1})
    work_learn_jobs(conn, the_learner)

    [earlier, later] = sorted(active(conn, "lab_result"), key=lambda i: i.seq)
    assert (earlier.source_experiment_id, earlier.source_run_id) == (first.experiment_id, None)
    assert earlier.support_experiment_ids == [replicate.experiment_id] and earlier.support_run_ids == []
    assert later.source_experiment_id == replicate.experiment_id and len(active(conn)) == 2
    jobs = learn_jobs.jobs_of_experiment(conn, first.experiment_id)
    assert [(j.reason, j.run_id, j.status) for j in jobs] == [("experiment", None, "completed")]


def test_a_failed_synthesis_is_a_result_to_avoid_and_archiving_withdraws_it(conn, fake_llm):
    the_learner = learner(fake_llm)
    planned = measured(conn, status="planned")
    assert learn_jobs.jobs_of_experiment(conn, planned.experiment_id) == []  # nothing to learn yet
    failed = experiments.update_experiment(conn, planned.experiment_id, if_version=1,
                                           changes={"status": "failed", "notes": "gel, no powder"},
                                           now=time.time())
    work_learn_jobs(conn, the_learner)
    [lab] = active(conn)
    assert lab.polarity == "avoid" and "failed" in lab.title and "gel, no powder" in lab.content
    assert lab.outcome["status"] == "failed"

    experiments.update_experiment(conn, failed.experiment_id, if_version=failed.version,
                                  changes={"archived": True}, now=time.time())
    [withdrawal] = work_learn_jobs(conn, the_learner)
    assert active(conn) == [] and withdrawal.undone_delta_id is not None
    with pytest.raises(Conflict, match="archived"):
        learn_requests.request_experiment_learning(conn, failed.experiment_id, time.time())


def test_each_experiment_of_one_run_is_learned_on_its_own(conn, fake_llm):
    from tests.store_helpers import completed_runs
    second_recipe = {**CU_MO, "rank": 2, "atomic_ratio": "1:3"}
    run_id = completed_runs(conn, 1, dry_run=False, recipes=[CU_MO, second_recipe])[0]
    put(conn, run_id, 9, {"C2H4": 1}, recipe_index=1)
    made = experiments.create_experiment(conn, NewExperiment(source=(run_id, 2), status="measured",
                                                             score=2.0), time.time())
    work_learn_jobs(conn, learner(fake_llm))
    labs = active(conn, "lab_result")
    assert sorted(i.polarity for i in labs) == ["avoid", "prefer"]
    assert {i.source_run_id for i in labs} == {run_id}
    assert made.experiment_id in {i.source_experiment_id for i in labs}


# --- item 7: what a lab result says ------------------------------------------------------------

def test_a_lab_result_carries_amounts_shares_total_and_conditions(conn, fake_llm):
    measured(conn, score=7.5, products={"C2H4": 3, "CO": 1},
             conditions="300 W Xe lamp, 4 h, 0.1 M KHCO3 " + "x" * 700 + " END-OF-CONDITIONS")
    work_learn_jobs(conn, learner(fake_llm))
    [lab] = active(conn)
    assert "C2H4 3 (75%), CO 1 (25%); total 4" in lab.content
    assert "share of the measured products" in lab.content and "Conditions: 300 W Xe lamp" in lab.content
    assert lab.outcome["amounts"] == {"C2H4": 3.0, "CO": 1.0} and lab.outcome["total"] == 4.0


# --- item 10: embeddings are tried before the model is asked --------------------------------

def test_a_job_that_cannot_embed_never_asks_the_model(conn, fake_llm):
    """Issue 30 item 10: the endpoint answers in another dimension, so nothing could be stored."""
    from dataclasses import replace

    from worker.memory.learn import Learner
    fake_llm.script = [{"content": json.dumps({"lessons": []})}]
    settings = replace(learner_settings(fake_llm, lessons=True), embedding_dim=32)
    run_id = normal_run_with_feedback(conn, CU_MO, 9, {"C2H4": 1})
    work_learn_jobs(conn, Learner(settings))
    [job] = learn_jobs.jobs_of_run(conn, run_id)
    assert (job.status, job.error_code) == ("failed", "dependency_unavailable")
    assert fake_llm.chat_requests() == [] and active(conn) == []


# --- item 10: two workers learning the same lesson at once keep one copy -----------------------

def test_a_lesson_committed_by_another_worker_meanwhile_is_corroborated_not_copied(conn, fake_llm):
    from store.memory_items import encode_vector
    from store.memory_learning import NewMemory, Subject, commit_learning
    from tests.fake_openai import hash_embedding
    normal_run_with_feedback(conn, CU_MO, 9, {"C2H4": 1})
    normal_run_with_feedback(conn, CU_MO, 8, {"C2H4": 1})
    conn.execute("INSERT INTO workers (worker_id, pid, host, started_at, heartbeat_at,"
                 " poll_interval_s) VALUES ('w1', 1, 'h', 0, 0, 1)")
    jobs = [learn_jobs.claim_next_learn_job(conn, "w1", 0.0) for _ in range(2)]
    vector = encode_vector(hash_embedding("Cu-Mo pairs favour ethylene", 64))
    lesson = NewMemory(kind="lesson", role="tio2_expert", polarity="prefer", title="Cu-Mo favours C2H4",
                       content="Cu with Mo at 1:1 gave mostly C2H4.", vector=vector)
    for job in jobs:  # both prepared before either committed: neither saw the other's lesson
        commit_learning(conn, job=job, worker_id="w1",
                        subject=Subject(job.experiment_id, job.run_id, job.feedback_version),
                        input_hash=job.input_hash, current_hash=lambda job=job: job.input_hash,
                        embedder="fake-hash-64@64", new_items=[lesson], corroborations=[], now=time.time(),
                        notes={})
    [kept] = active(conn, "lesson")
    assert kept.source_experiment_id == jobs[0].experiment_id
    assert kept.support_experiment_ids == [jobs[1].experiment_id]
