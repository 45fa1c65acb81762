"""A dry-run batch through the real stack: gunicorn + worker processes, over HTTP."""
import pytest


@pytest.fixture(scope="module")
def finished_batch(service):
    created = service.create_batch(n_runs=2, recipes_per_run=3,
                                   user_request="Dual-metal TiO2 for C2H4 selectivity")
    batch = service.wait_batch_finished(created["batch"]["batch_id"])
    return created, batch


def test_batch_completes_and_reports_its_runs(service, finished_batch):
    created, batch = finished_batch
    assert created["batch"]["status"] == "queued"
    assert [r["run_index"] for r in created["runs"]] == [0, 1]
    assert batch["status"] == "completed" and batch["run_counts"] == {"completed": 2}
    assert "OPENAI_API_KEY" not in str(batch["config_snapshot"].get("secrets", ""))
    runs = service.get("/runs", params={"batch_id": batch["batch_id"]}).json()
    assert [r["status"] for r in runs["items"]] == ["completed", "completed"]
    assert all(r["started_at"] <= r["finished_at"] for r in runs["items"])


def test_output_has_the_requested_recipes_and_every_citation_resolves(service, finished_batch):
    created, _ = finished_batch
    for run in created["runs"]:
        output = service.get(f"/runs/{run['run_id']}/output").json()
        assert len(output["recipes_json"]["recipes"]) == 3
        assert output["memory_ids"] == []
        for alias, ref in output["citations"].items():
            item = service.get(f"/runs/{run['run_id']}/evidence/{alias}").json()
            assert item["ref"] == ref and item["content"]
            assert ref == f"kb:{item['kb_namespace']}__{item['lightrag_chunk_id']}"
        for recipe in output["recipes_json"]["recipes"]:
            assert any(f"[{a}]" in recipe["rationale"] for a in output["citations"])


def test_evidence_list_has_content_only_on_request(service, finished_batch):
    run_id = finished_batch[0]["runs"][0]["run_id"]
    plain = service.get(f"/runs/{run_id}/evidence", params={"limit": 1}).json()
    assert plain["has_more"] and "content" not in plain["items"][0]
    rest = service.get(f"/runs/{run_id}/evidence",
                       params={"cursor": plain["next_cursor"], "include_content": "true"}).json()
    assert all(item["content"] for item in rest["items"])
    aliases = [plain["items"][0]["alias"]] + [i["alias"] for i in rest["items"]]
    assert aliases == ["C1", "C2", "C3", "C4"]


def test_events_paginate_oldest_first_without_gaps_or_duplicates(service, finished_batch):
    run_id = finished_batch[0]["runs"][0]["run_id"]
    whole = service.all_events(run_id)
    for size in (1, 2, 3, 50):
        assert service.all_events(run_id, page_size=size) == whole
    assert whole[0]["event_type"] == "run_started" and whole[-1]["event_type"] == "final_output"
    times = [e["created_at"] for e in whole]
    assert times == sorted(times)
    assert len({e["event_id"] for e in whole}) == len(whole)


def test_event_filters_apply_across_pages(service, finished_batch):
    run_id = finished_batch[0]["runs"][0]["run_id"]
    whole = service.all_events(run_id)
    wanted = {"kb_query", "final_output"}
    filtered = service.all_events(run_id, page_size=1, event_type=sorted(wanted))
    assert filtered == [e for e in whole if e["event_type"] in wanted]
    middle = whole[len(whole) // 2]["created_at"]
    since = service.all_events(run_id, page_size=2, since=middle)
    until = service.all_events(run_id, page_size=2, until=middle)
    assert until + since == whole


def test_payload_only_with_include_payload_or_on_the_detail_endpoint(service, finished_batch):
    run_id = finished_batch[0]["runs"][0]["run_id"]
    bare = service.all_events(run_id)
    assert all("payload" not in e and e["payload_bytes"] > 0 for e in bare)
    full = service.all_events(run_id, include_payload="true")
    assert all("payload" in e for e in full)
    final = full[-1]
    detail = service.get(f"/runs/{run_id}/events/{final['event_id']}").json()
    assert detail["payload"] == final["payload"]
    assert len(detail["payload"]["recipes_json"]["recipes"]) == 3


def test_lists_filter_and_page(service, finished_batch):
    batch_id = finished_batch[1]["batch_id"]
    service.create_batch(user_request="Something unrelated about zinc")
    found = service.get("/batches", params={"q": "dual-METAL"}).json()
    assert [b["batch_id"] for b in found["items"]] == [batch_id]
    newest = service.get("/batches", params={"limit": 1}).json()
    assert newest["has_more"] and newest["items"][0]["user_request"].startswith("Something")
    older = service.get("/batches", params={"limit": 1, "cursor": newest["next_cursor"]}).json()
    assert older["items"][0]["batch_id"] == batch_id
    completed = service.get("/runs", params={"status": "completed", "batch_id": batch_id}).json()
    assert len(completed["items"]) == 2


def test_system_worker_reports_a_live_worker_and_the_queue(service, finished_batch):
    status = service.get("/system/worker").json()
    assert status["worker"]["running"] is True and status["worker"]["pid"] > 0
    assert status["worker"]["heartbeat_age_s"] < 5
    assert status["queue"]["runs_by_status"].get("completed", 0) >= 2
    assert status["startup"]["reconciled_running_runs"] == 0


def test_health_and_version(service):
    assert service.get("/healthz").json() == {"status": "ok"}
    version = service.get("/version").json()
    assert version["api_version"] == "v1"
    assert version["schema_version"] == version["code_schema_version"]


@pytest.mark.parametrize("path", ["/memories?q=", "/batches?q=", "/experiments?recipe_key="])
def test_a_url_longer_than_the_service_reads_gets_the_json_envelope_not_gunicorns_page(service, path):
    """gunicorn answered a 5,000-character query with its HTML "414 URI Too Long" (issue 31)."""
    for size in (5_000, 7_500):
        reply = service.get(path + "x" * size)
        assert reply.status_code == 414 and reply.headers["Content-Type"].startswith("application/json")
        error = reply.json()["error"]
        assert error["code"] == "invalid_argument" and error["details"]["max_bytes"] == 4096
