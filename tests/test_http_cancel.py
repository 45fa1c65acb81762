"""Cancel through the real stack, with dry runs slowed so cancels land mid-run."""
import pytest

from tests.processes import running_service, wait_until

TERMINAL = {"completed", "failed", "canceled"}


@pytest.fixture(scope="module")
def slow_service(tmp_path_factory):
    with running_service(tmp_path_factory.mktemp("slow"), {"C2XC_DRY_RUN_STEP_DELAY_S": "0.15"}) as procs:
        yield procs


def test_canceled_batch_never_starts_a_run_after_the_cancel(slow_service):
    created = slow_service.create_batch(n_runs=5)
    batch_id = created["batch"]["batch_id"]
    reply = slow_service.post(f"/batches/{batch_id}/cancel", json={"reason": "wrong request"})
    assert reply.status_code == 202 and reply.json()["status"] == "requested"
    batch = slow_service.wait_batch_finished(batch_id)
    assert batch["status"] == "canceled"
    runs = slow_service.get("/runs", params={"batch_id": batch_id}).json()["items"]
    assert all(r["status"] in TERMINAL for r in runs)
    started = []
    for run in runs:
        types = [e["event_type"] for e in slow_service.all_events(run["run_id"])]
        assert run["cancel_requested"] and run["cancel_reason"] == "wrong request"
        assert types[-1] == "run_canceled"
        if "run_started" in types:  # it was already running when the cancel arrived
            started.append(run)
            assert run["started_at"] <= run["cancel_requested_at"]
    assert len(started) <= 1


def test_canceling_a_running_run_stops_it_at_the_next_step(slow_service):
    run_id = slow_service.create_batch()["runs"][0]["run_id"]
    wait_until(lambda: slow_service.run(run_id)["status"] == "running", message="run to start")
    reply = slow_service.post(f"/runs/{run_id}/cancel", json={"reason": "enough"})
    assert reply.status_code == 202
    run = slow_service.run(run_id)
    assert run["cancel_requested"] and run["cancel_requested_at"] is not None
    run = wait_until(lambda: (r := slow_service.run(run_id))["status"] in TERMINAL and r,
                     message="run to stop")
    assert run["status"] == "canceled"
    trace = slow_service.all_events(run_id, include_payload="true")
    assert trace[-1]["event_type"] == "run_canceled"
    assert trace[-1]["payload"]["reason"] == "enough"
    assert "final_output" not in [e["event_type"] for e in trace]
    conflict = slow_service.get(f"/runs/{run_id}/output")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["details"]["status"] == "canceled"


def test_canceling_a_finished_run_changes_nothing_and_says_so(slow_service):
    run_id = slow_service.create_batch()["runs"][0]["run_id"]
    wait_until(lambda: slow_service.run(run_id)["status"] == "completed", message="completion")
    reply = slow_service.post(f"/runs/{run_id}/cancel")
    assert reply.status_code == 202
    assert reply.json()["status"] == "already_finished" and reply.json()["cancel_id"] is None
    run = slow_service.run(run_id)
    assert run["status"] == "completed" and run["cancel_requested"] is False


def test_a_second_cancel_is_answered_without_a_new_request(slow_service):
    batch_id = slow_service.create_batch(n_runs=2)["batch"]["batch_id"]
    first = slow_service.post(f"/batches/{batch_id}/cancel").json()
    second = slow_service.post(f"/batches/{batch_id}/cancel").json()
    # the worker may already have canceled both queued runs in between
    assert (second["status"], second["cancel_id"]) in (("already_requested", first["cancel_id"]),
                                                       ("already_finished", None))
    assert slow_service.wait_batch_finished(batch_id)["status"] == "canceled"
