"""Lab memory in the store and the worker's learner: learning, re-learning, rollback, conflicts.

The learner talks to the fake OpenAI-compatible server over loopback for its
embeddings (and, where a test scripts it, for lessons).
"""
import json

import pytest

from core.errors import Conflict
from store import learn_jobs, learn_requests, memory_changes, memory_deltas
from store.memory_items import encode_vector, get_item, list_items
from store.memory_search import MemoryIndex
from tests.agent_fixtures import SECRET
from tests.fake_openai import hash_embedding
from tests.memory_helpers import (AG_ZN, CU_MO, learner, learner_settings, normal_run_with_feedback,
                                  probe, put, work_learn_jobs)

PROBES = ["copper molybdenum ethylene", "silver zinc trifluoroacetic", "lab result score",
          "mercaptobenzoic acid modifier"]


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)


def active(conn):
    return list_items(conn, status="active", kind=None, role=None, polarity=None, limit=200,
                      cursor=None)[0]


def test_feedback_queues_a_learn_job_and_the_learner_writes_a_lab_result(conn, fake_llm):
    run_id = normal_run_with_feedback(conn, CU_MO, 8.5, {"C2H4": 3, "CO": 1}, pros="clean C2H4")
    [job] = learn_jobs.jobs_of_run(conn, run_id)
    assert (job.status, job.feedback_version, job.reason) == ("queued", 1, "feedback")

    [outcome] = work_learn_jobs(conn, learner(fake_llm))

    assert outcome.status == "completed"
    [item] = active(conn)
    assert (item.kind, item.polarity, item.role, item.source_run_id) == ("lab_result", "prefer", "global", run_id)
    assert item.recipe["M1"] == "Cu" and item.outcome["fractions"] == {"C2H4": 0.75, "CO": 0.25}
    assert "clean C2H4" in item.content and item.embedder == "fake-hash-64@64"
    assert learn_jobs.jobs_of_run(conn, run_id)[0].delta_id == outcome.delta_id


def test_score_thresholds_decide_polarity(conn, fake_llm):
    for score in (2, 5, 9):
        normal_run_with_feedback(conn, CU_MO, score, {"C2H4": 1})
    work_learn_jobs(conn, learner(fake_llm))
    assert sorted(i.polarity for i in active(conn)) == ["avoid", "neutral", "prefer"]


def test_dry_run_feedback_is_kept_but_never_learned(conn, fake_llm):
    from tests.store_helpers import completed_runs
    run_id = completed_runs(conn, 1, dry_run=True, recipes=[CU_MO])[0]
    put(conn, run_id, 9, {"C2H4": 1})
    assert learn_jobs.jobs_of_run(conn, run_id) == []
    with pytest.raises(Conflict, match="dry run"):
        learn_requests.request_run_learning(conn, run_id, 0.0)


def test_rollback_gives_back_exactly_the_ranked_results_from_before(conn, fake_llm):
    settings, index = learner_settings(fake_llm), MemoryIndex()
    the_learner = learner(fake_llm)
    normal_run_with_feedback(conn, AG_ZN, 2, {"H2": 1})
    work_learn_jobs(conn, the_learner)
    before = probe(conn, settings, index, PROBES)

    run_id = normal_run_with_feedback(conn, CU_MO, 9, {"C2H4": 1})
    [outcome] = work_learn_jobs(conn, the_learner)
    assert probe(conn, settings, index, PROBES) != before
    memory_changes.rollback(conn, outcome.delta_id, 1.0)

    assert probe(conn, settings, index, PROBES) == before
    added = memory_deltas.get_delta(conn, outcome.delta_id).memory_ids
    assert conn.execute("SELECT COUNT(*) FROM memory_vectors WHERE memory_id = ?", added).fetchone()[0] == 0
    assert get_item(conn, added[0]).status == "archived"
    with pytest.raises(Conflict, match="already rolled back"):
        memory_changes.rollback(conn, outcome.delta_id, 2.0)
    assert run_id


def test_rollback_is_refused_while_a_later_change_touches_the_same_memory(conn, fake_llm):
    normal_run_with_feedback(conn, CU_MO, 9, {"C2H4": 1})
    [learned] = work_learn_jobs(conn, learner(fake_llm))
    item = active(conn)[0]
    _, edit = memory_changes.patch_item(conn, item.memory_id, {"polarity": "neutral"}, 5.0,
                                        vector=None, embedder=item.embedder)

    with pytest.raises(Conflict) as refused:
        memory_changes.rollback(conn, learned.delta_id, 6.0)
    assert refused.value.details["conflicting_deltas"] == [edit]

    memory_changes.rollback(conn, edit, 7.0)  # undo the edit first: exact before-state again
    assert get_item(conn, item.memory_id).polarity == "prefer"
    memory_changes.rollback(conn, learned.delta_id, 8.0)
    assert active(conn) == []


def test_editing_feedback_relearns_in_one_transaction(conn, fake_llm):
    the_learner = learner(fake_llm)
    run_id = normal_run_with_feedback(conn, CU_MO, 9, {"C2H4": 1})
    [first] = work_learn_jobs(conn, the_learner)
    put(conn, run_id, 2, {"C2H4": 1, "H2": 3})
    [second] = work_learn_jobs(conn, the_learner)

    [item] = active(conn)
    assert (item.polarity, item.feedback_version) == ("avoid", 2)
    assert memory_deltas.get_delta(conn, first.delta_id).status == "rolled_back"
    assert second.undone_delta_id == first.delta_id and second.undone_exactly


def test_a_job_for_an_old_feedback_version_is_superseded(conn, fake_llm):
    run_id = normal_run_with_feedback(conn, CU_MO, 9, {"C2H4": 1})
    job = learn_jobs.claim_next_learn_job(conn, "w1", 0.0) or pytest.fail("no job")
    conn.execute("INSERT INTO workers (worker_id, pid, host, started_at, heartbeat_at,"
                 " poll_interval_s) VALUES ('w1', 1, 'h', 0, 0, 1)")
    put(conn, run_id, 3, {"C2H4": 1})  # the chemist edits while the job works

    outcome = learner(fake_llm).execute(conn, job, "w1")

    assert outcome.status == "superseded" and active(conn) == []
    work_learn_jobs(conn, learner(fake_llm))
    assert [i.feedback_version for i in active(conn)] == [2]


def test_a_fenced_off_worker_cannot_commit_its_learning(conn, fake_llm):
    normal_run_with_feedback(conn, CU_MO, 9, {"C2H4": 1})
    job = learn_jobs.claim_next_learn_job(conn, "w-frozen", 0.0)
    conn.execute("UPDATE learn_jobs SET status = 'queued', worker_id = NULL")  # reconciled away
    assert learner(fake_llm).execute(conn, job, "w-frozen") is None
    assert active(conn) == [] and learn_jobs.get_job(conn, job.job_id).status == "queued"


def test_without_an_embedding_endpoint_the_job_fails_clearly_and_stores_nothing(conn, fake_llm, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY")
    run_id = normal_run_with_feedback(conn, CU_MO, 9, {"C2H4": 1})
    work_learn_jobs(conn, learner(fake_llm))
    [job] = learn_jobs.jobs_of_run(conn, run_id)
    assert (job.status, job.error_code) == ("failed", "dependency_unavailable")
    assert "OPENAI_API_KEY" in job.error_message and active(conn) == []


LESSON = {"title": "Cu-Mo pairs favour ethylene", "content": "Cu with Mo at 1:1 gave mostly C2H4.",
          "role": "tio2_expert", "polarity": "prefer"}


def test_lessons_are_checked_repaired_once_and_near_duplicates_corroborate(conn, fake_llm):
    fake_llm.script = [{"content": json.dumps({"lessons": [{**LESSON, "content": "as [C1] showed"}]})},
                       {"content": json.dumps({"lessons": [LESSON]})},
                       {"content": json.dumps({"lessons": [LESSON]})}]
    the_learner = learner(fake_llm, lessons=True)
    first_run = normal_run_with_feedback(conn, CU_MO, 9, {"C2H4": 1})
    second_run = normal_run_with_feedback(conn, CU_MO, 8, {"C2H4": 1})
    outcomes = work_learn_jobs(conn, the_learner)

    assert [o.status for o in outcomes] == ["completed", "completed"]
    [lesson] = [i for i in active(conn) if i.kind == "lesson"]
    assert (lesson.source_run_id, lesson.support_run_ids) == (first_run, [second_run])
    first_job = learn_jobs.jobs_of_run(conn, first_run)[0]
    assert first_job.notes["lesson_attempts"] == 2 and "must not cite" in first_job.notes["first_problems"][0]


def test_a_note_is_a_delta_and_can_be_undone(conn):
    vector = encode_vector(hash_embedding("a note", 64))
    item, delta_id = memory_changes.create_note(conn, title="Avoid Pt", content="Too costly for scale-up.",
                                                role="global", polarity="avoid", extra={},
                                                vector=vector, embedder="fake-hash-64@64", now=1.0)
    assert item.kind == "note" and active(conn)[0].memory_id == item.memory_id
    preview = memory_deltas.rollback_preview(conn, delta_id)
    assert preview["possible"] and preview["leaves_retrieval"] == [item.memory_id]
    memory_changes.rollback(conn, delta_id, 2.0)
    assert active(conn) == []


def test_a_changed_embedder_is_left_out_of_retrieval_until_reembed_memories(conn, fake_llm, database, monkeypatch):
    from dataclasses import replace as swap
    from store.admin import main as admin
    normal_run_with_feedback(conn, CU_MO, 9, {"C2H4": 1})
    old, index = learner(fake_llm), MemoryIndex()
    work_learn_jobs(conn, old)
    new_settings = swap(learner_settings(fake_llm), embedding_model="fake-hash-64-v2")
    assert probe(conn, new_settings, index, ["copper"]) == [[]]  # other geometry: not ranked
    for name, value in (("OPENAI_BASE_URL", fake_llm.base_url), ("C2XC_EMBEDDING_MODEL", "fake-hash-64-v2"),
                        ("C2XC_EMBEDDING_DIM", "64")):
        monkeypatch.setenv(name, value)
    assert admin(["--db", database.path, "reembed-memories"]) == 0
    assert len(probe(conn, new_settings, index, ["copper"])[0]) == 1


def test_relearning_under_a_later_change_compensates_and_keeps_the_other_runs_evidence(conn, fake_llm):
    """Issue 30 item 2: run B's lesson corroborated run A's; re-learning A keeps that lesson
    (B's knowledge) in retrieval with B's support, and takes back only A's own contribution."""
    fake_llm.script = [{"content": json.dumps({"lessons": [LESSON]})}] * 3
    the_learner = learner(fake_llm, lessons=True)
    first_run = normal_run_with_feedback(conn, CU_MO, 9, {"C2H4": 1})
    second_run = normal_run_with_feedback(conn, CU_MO, 8, {"C2H4": 1})  # its lesson corroborates the first's
    [_, second] = work_learn_jobs(conn, the_learner)
    [lesson] = [i for i in active(conn) if i.kind == "lesson"]
    [old_lab] = [i for i in active(conn) if i.kind == "lab_result" and i.source_run_id == first_run]

    put(conn, first_run, 2, {"H2": 1})  # the chemist corrects the first run's result
    [outcome] = work_learn_jobs(conn, the_learner)

    assert outcome.status == "completed" and outcome.undone_exactly is False
    kept = get_item(conn, lesson.memory_id)
    assert kept.status == "active" and kept.support_run_ids == [second_run]  # the other run's evidence
    assert [i.memory_id for i in active(conn) if i.kind == "lesson"] == [lesson.memory_id]  # no copy
    assert memory_deltas.get_delta(conn, second.delta_id).status == "applied"
    assert get_item(conn, old_lab.memory_id).status == "archived"  # the first run's own result is replaced
    labs = [i for i in active(conn) if i.kind == "lab_result"]
    assert sorted(i.polarity for i in labs) == ["avoid", "prefer"]  # its new result, and the second run's


def test_the_same_recipe_made_again_supports_or_contradicts_the_earlier_result(conn, fake_llm):
    the_learner = learner(fake_llm)
    first = normal_run_with_feedback(conn, CU_MO, 9, {"C2H4": 1})
    work_learn_jobs(conn, the_learner)
    agreeing = normal_run_with_feedback(conn, CU_MO, 8, {"C2H4": 1})
    disagreeing = normal_run_with_feedback(conn, CU_MO, 1, {"H2": 1})
    normal_run_with_feedback(conn, AG_ZN, 1, {"H2": 1})  # another recipe: no bearing on it
    work_learn_jobs(conn, the_learner)
    [earlier] = [i for i in active(conn) if i.source_run_id == first]
    assert (earlier.support_run_ids, earlier.contra_run_ids) == ([agreeing], [disagreeing])


def test_the_same_recipe_is_matched_by_its_key_not_by_metals_and_a_ratio_string(conn, fake_llm):
    """Issue 30 item 3: Cu:Mo 1:3 and Mo:Cu 1:3 are different compositions; Mo:Cu 3:1 and 2:6 are the same."""
    the_learner = learner(fake_llm)
    first = normal_run_with_feedback(conn, {**CU_MO, "atomic_ratio": "1:3"}, 9, {"C2H4": 1})
    work_learn_jobs(conn, the_learner)
    same = [normal_run_with_feedback(conn, {**CU_MO, "M1": "Mo", "M2": "Cu", "atomic_ratio": ratio}, 8,
                                     {"C2H4": 1}) for ratio in ("3:1", "6:2")]
    other = normal_run_with_feedback(conn, {**CU_MO, "M1": "Mo", "M2": "Cu", "atomic_ratio": "1:3"}, 8, {"C2H4": 1})
    work_learn_jobs(conn, the_learner)
    [earlier] = [i for i in active(conn) if i.source_run_id == first]
    assert sorted(earlier.support_run_ids) == sorted(same) and other not in earlier.support_run_ids


def test_an_alias_typed_in_feedback_never_becomes_a_later_runs_citation(conn, fake_llm):
    """Issue 30 item 4: [C3] in the chemist's pros would mean another run's chunk in later prompts."""
    run_id = normal_run_with_feedback(conn, CU_MO, 9, {"C2H4": 1}, pros="as [C3] and [C4, C5] said; [C2H4] up")
    work_learn_jobs(conn, learner(fake_llm))
    [lab] = [i for i in active(conn) if i.source_run_id == run_id and i.kind == "lab_result"]
    assert "[C3]" not in lab.content and "[C4, C5]" not in lab.content
    assert "(C3 of its own run)" in lab.content and "[C2H4] up" in lab.content


def test_reembedding_never_overwrites_an_edit_made_while_it_embedded(conn, fake_llm, monkeypatch):
    """Issue 30 item 5: re-embedding is locked maintenance — a chemist's edit that lands between
    its embedding call and its write keeps the edit's own vector; no delta is written."""
    from dataclasses import replace as swap

    from core.embedding import Embedder
    from store.memory_reembed import reembed
    normal_run_with_feedback(conn, CU_MO, 9, {"C2H4": 1})
    work_learn_jobs(conn, learner(fake_llm))
    [item] = active(conn)
    settings = swap(learner_settings(fake_llm), embedding_model="fake-hash-64-v2")
    embedder = Embedder(settings)
    edited_vector = encode_vector(hash_embedding("Corrected title\n" + item.content, 64))
    real_embed = embedder.embed

    def embed_while_a_chemist_edits(texts):
        vectors = real_embed(texts)
        memory_changes.patch_item(conn, item.memory_id, {"title": "Corrected title"}, 50.0,
                                  vector=edited_vector, embedder=embedder.stamp)
        return vectors

    monkeypatch.setattr(embedder, "embed", embed_while_a_chemist_edits)
    deltas_before = len(memory_deltas.list_deltas(conn, run_id=None, status=None, limit=50, cursor=None)[0])
    result = reembed(conn, embedder)
    embedder.close()

    assert result == {"embedder": "fake-hash-64-v2@64", "reembedded": 0, "changed_meanwhile": 1}
    from store.memory_items import get_vector
    assert get_vector(conn, item.memory_id) == edited_vector
    assert len(memory_deltas.list_deltas(conn, run_id=None, status=None, limit=50, cursor=None)[0]) == \
        deltas_before + 1  # the edit's; re-embedding wrote none
