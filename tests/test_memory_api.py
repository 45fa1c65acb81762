"""The lab-memory endpoints in process: notes, edits, search, provenance, deltas, rollback, errors.

Embeddings come from the fake OpenAI-compatible server over loopback.
"""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.agent_fixtures import SECRET
from tests.backends import app_connection
from tests.memory_helpers import CU_MO, learner, normal_run_with_feedback, work_learn_jobs

API = "/api/v1"


@pytest.fixture
def client(make_app, fake_llm):
    app = make_app(OPENAI_API_KEY=SECRET, OPENAI_BASE_URL=fake_llm.base_url,
                   C2XC_EMBEDDING_MODEL="fake-hash-64", C2XC_EMBEDDING_DIM="64")
    return app.test_client()


@pytest.fixture
def app_conn(client):
    with app_connection(client.application) as conn:
        yield conn


def note(client, title="Avoid platinum", content="Too costly for scale-up.", **body):
    reply = client.post(f"{API}/memories", json={"title": title, "content": content, **body})
    assert reply.status_code == 201, reply.get_json()
    return reply.get_json()


def test_a_note_is_searchable_editable_and_its_edit_undoable(client):
    created = note(client, role="tio2_expert", polarity="avoid")
    memory_id = created["memory"]["memory_id"]
    assert created["memory"]["kind"] == "note" and created["delta_id"].startswith("delta_")

    hits = client.get(f"{API}/memories", query_string={"q": "platinum cost"}).get_json()["items"]
    assert hits[0]["memory_id"] == memory_id and 0 < hits[0]["score"] <= 1

    edited = client.patch(f"{API}/memories/{memory_id}", json={"content": "Pt is fine in trace amounts."})
    assert edited.status_code == 200 and edited.get_json()["memory"]["content"].startswith("Pt is fine")
    edit_id = edited.get_json()["delta_id"]
    detail = client.get(f"{API}/memory/deltas/{edit_id}").get_json()
    assert detail["ops"][0]["before"]["content"] == "Too costly for scale-up."
    assert detail["rollback"]["possible"] is True

    rolled = client.post(f"{API}/memory/deltas/{edit_id}/rollback")
    assert rolled.status_code == 200 and rolled.get_json()["delta"]["status"] == "rolled_back"
    assert client.get(f"{API}/memories/{memory_id}").get_json()["content"] == "Too costly for scale-up."
    again = client.post(f"{API}/memory/deltas/{edit_id}/rollback")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"


def test_a_memorys_deltas_filter_by_status_on_either_backend(client):
    """``memory_id`` with ``status``: once a 500 on PostgreSQL (a SQLite-only index hint)."""
    created = note(client)
    memory_id = created["memory"]["memory_id"]
    edit = client.patch(f"{API}/memories/{memory_id}", json={"content": "Pt, in traces."})
    edit_id = edit.get_json()["delta_id"]
    client.post(f"{API}/memory/deltas/{edit_id}/rollback")
    reply = client.get(f"{API}/memory/deltas", query_string={"memory_id": memory_id, "status": "applied"})
    assert reply.status_code == 200, reply.get_json()
    assert [d["delta_id"] for d in reply.get_json()["items"]] == [created["delta_id"]]
    rolled = client.get(f"{API}/memory/deltas",
                        query_string={"memory_id": memory_id, "status": "rolled_back"})
    assert [d["delta_id"] for d in rolled.get_json()["items"]] == [edit_id]


def test_rollback_of_an_older_change_names_the_later_ones_in_the_way(client):
    created = note(client)
    memory_id = created["memory"]["memory_id"]
    later = client.patch(f"{API}/memories/{memory_id}", json={"status": "archived"}).get_json()["delta_id"]
    preview = client.get(f"{API}/memory/deltas/{created['delta_id']}").get_json()["rollback"]
    assert preview["possible"] is False and preview["conflicting_deltas"] == [later]
    refused = client.post(f"{API}/memory/deltas/{created['delta_id']}/rollback").get_json()["error"]
    assert refused["details"]["conflicting_deltas"] == [later]


def test_provenance_and_a_runs_memory_after_learning(client, app_conn, fake_llm):
    run_id = normal_run_with_feedback(app_conn, CU_MO, 2, {"H2": 1})
    queued = client.get(f"{API}/runs/{run_id}/memory").get_json()
    assert [j["status"] for j in queued["learn_jobs"]] == ["queued"] and queued["memory_enabled"]
    work_learn_jobs(app_conn, learner(fake_llm))

    view = client.get(f"{API}/runs/{run_id}/memory").get_json()
    [job] = view["learn_jobs"]
    assert job["status"] == "completed" and view["deltas"][0]["delta_id"] == job["delta_id"]
    [item] = client.get(f"{API}/memories", query_string={"kind": "lab_result"}).get_json()["items"]
    detail = client.get(f"{API}/memories/{item['memory_id']}").get_json()
    assert detail["polarity"] == "avoid" and detail["provenance"]["source_run_id"] == run_id
    assert detail["provenance"]["deltas"][0]["delta_id"] == job["delta_id"]

    learned = client.post(f"{API}/runs/{run_id}/learn")  # this version is learned: nothing is queued
    assert learned.status_code == 200 and learned.get_json()["job_id"] == job["job_id"]
    client.post(f"{API}/memory/deltas/{job['delta_id']}/rollback")
    relearn = client.post(f"{API}/runs/{run_id}/learn")
    assert relearn.status_code == 202 and relearn.get_json()["reason"] == "manual"
    experiment_id = relearn.get_json()["experiment_id"]
    same = client.post(f"{API}/experiments/{experiment_id}/learn")
    assert same.status_code == 202 and same.get_json()["job_id"] == relearn.get_json()["job_id"]
    assert client.post(f"{API}/experiments/exp_nope/learn").status_code == 404


def test_learning_needs_feedback_and_a_real_run(client, app_conn):
    from tests.store_helpers import completed_runs
    run_id = completed_runs(app_conn, 1, dry_run=False)[0]
    assert client.post(f"{API}/runs/{run_id}/learn").get_json()["error"]["code"] == "conflict"
    assert client.post(f"{API}/runs/run_nope/learn").status_code == 404
    assert client.get(f"{API}/runs/run_nope/memory").status_code == 404


@pytest.mark.parametrize("path", ["/memories/mem_nope", "/memory/deltas/delta_nope"])
def test_unknown_ids_are_404(client, path):
    assert client.get(f"{API}{path}").get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("body, field", [
    ({"title": "x"}, "content"),
    ({"title": " ", "content": "x"}, "title"),
    ({"title": "x", "content": "as [C3] showed"}, "content"),
    ({"title": "x", "content": "as [C3, C7] showed"}, "content"),
    ({"title": "see [M1]", "content": "y"}, "title"),
    ({"title": "x", "content": "y", "role": "chemist"}, "role"),
    ({"title": "x", "content": "y", "kind": "lesson"}, "kind"),
    ({"title": "x" * 201, "content": "y"}, "title"),
])
def test_bad_notes_are_422_naming_the_field(client, body, field):
    reply = client.post(f"{API}/memories", json=body)
    assert reply.status_code == 422 and field in reply.get_json()["error"]["details"]["fields"]


def test_a_formula_in_brackets_is_not_an_alias(client):
    """Issue 30 item 4: [C2H4] is ethylene, not a citation; a note may say it."""
    reply = client.post(f"{API}/memories", json={"title": "[C2H4] rose", "content": "[C2H4] rose on [Cu2Mo2]"})
    assert reply.status_code == 201, reply.get_json()


def test_searches_are_bounded_and_need_an_embedding_endpoint(client, make_app):
    assert client.get(f"{API}/memories?q=x&limit=51").status_code == 422
    no_key = make_app().test_client()
    reply = no_key.get(f"{API}/memories?q=copper")
    assert reply.status_code == 503 and "embedding_endpoint" in reply.get_json()["error"]["details"]["missing"]
    assert no_key.post(f"{API}/memories", json={"title": "a", "content": "b"}).status_code == 503
    assert no_key.get(f"{API}/memories").get_json()["items"] == []


bodies = st.dictionaries(st.sampled_from(["title", "content", "role", "polarity", "status", "extra", "x"]),
                         st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30),
                                   st.lists(st.integers(), max_size=2)), max_size=5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_no_memory_body_is_a_500(client, body):
    created = client.post(f"{API}/memories", json=body)
    patched = client.patch(f"{API}/memories/mem_x", json=body)
    listed = client.get(f"{API}/memories", query_string={k: str(v) for k, v in body.items()})
    for reply in (created, patched, listed):
        assert reply.status_code < 500 or reply.status_code == 503, reply.get_json()
        if reply.status_code >= 400:
            assert set(reply.get_json()["error"]) == {"code", "message", "details"}


def test_an_edit_whose_text_changed_while_it_was_embedded_is_refused(client, app_conn, monkeypatch):
    """Issue 30 item 10: the PATCH embeds outside the lock; if another edit lands meanwhile, the
    vector would describe words the memory no longer has — 409, and the other edit stands."""
    import time

    import api.memories
    from store import memory_changes
    from store.memory_items import encode_vector, get_item, get_vector
    from tests.fake_openai import hash_embedding
    memory_id = note(client)["memory"]["memory_id"]
    theirs = encode_vector(hash_embedding("Platinum: avoid\nToo costly for scale-up.", 64))
    real_embed = api.memories._embed

    def embed_while_someone_else_edits(text):
        vector = real_embed(text)
        memory_changes.patch_item(app_conn, memory_id, {"title": "Platinum: avoid"}, time.time(),
                                  vector=theirs, embedder="fake-hash-64@64")
        return vector

    monkeypatch.setattr(api.memories, "_embed", embed_while_someone_else_edits)
    reply = client.patch(f"{API}/memories/{memory_id}", json={"content": "Pt is fine in trace amounts."})
    assert reply.status_code == 409 and "reload it" in reply.get_json()["error"]["message"]
    assert get_item(app_conn, memory_id).content == "Too costly for scale-up."  # theirs stands, whole
    assert get_vector(app_conn, memory_id) == theirs


def test_memories_filter_by_metal_and_modifier_and_a_search_covers_active_ones(client, app_conn, fake_llm):
    """Issue 30 item 11: the filters a chemist uses; the meaning search says what it covers."""
    from tests.memory_helpers import AG_ZN
    normal_run_with_feedback(app_conn, CU_MO, 9, {"C2H4": 1})
    normal_run_with_feedback(app_conn, AG_ZN, 2, {"H2": 1})
    work_learn_jobs(app_conn, learner(fake_llm))

    def titles(**query):
        reply = client.get(f"{API}/memories", query_string=query)
        assert reply.status_code == 200, reply.get_json()
        return [i["title"] for i in reply.get_json()["items"]]
    assert [t.split(" — ")[0] for t in titles(metal="Mo")] == ["Lab result: Cu–Mo 1:1 with 4-mercaptobenzoic acid"]
    assert len(titles(modifier="C(F)(F)(F)C(O)=O")) == 1 and titles(metal="Ag", modifier="OC(=O)c1ccc(S)cc1") == []
    assert len(titles(q="silver zinc", metal="Zn")) == 1 and titles(q="silver zinc", metal="Fe") == []
    bad = client.get(f"{API}/memories", query_string={"modifier": "C1CC"}).get_json()
    assert bad["error"]["details"]["fields"]["modifier"]
    archived = client.get(f"{API}/memories", query_string={"q": "silver", "status": "archived"}).get_json()
    assert "active memories only" in archived["error"]["details"]["fields"]["q"][0]
