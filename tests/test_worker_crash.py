"""Kill the worker mid-run with SIGKILL, start another: nothing stays running, nothing is lost."""
import signal

from tests.processes import wait_until

SLOW = {"C2XC_DRY_RUN_STEP_DELAY_S": "0.3"}


def test_sigkill_mid_run_then_restart_fails_the_run_and_keeps_its_trace(service_factory):
    svc = service_factory(**SLOW)
    first = svc.start_worker()
    run_id = svc.create_batch()["runs"][0]["run_id"]
    wait_until(lambda: any(e["event_type"] == "kb_query" for e in svc.all_events(run_id)),
               message="the run to be mid-way")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    before = svc.all_events(run_id, include_payload="true")
    assert svc.run(run_id)["status"] == "running"  # nobody has noticed yet

    svc.start_worker()
    run = wait_until(lambda: (r := svc.run(run_id))["status"] != "running" and r,
                     message="reconcile")
    assert run["status"] == "failed" and run["error"]["code"] == "worker_lost"
    after = svc.all_events(run_id, include_payload="true")
    assert after[:len(before)] == before  # every event of a finished step survived
    assert [e["event_type"] for e in after[len(before):]] == ["run_failed"]
    assert svc.get("/runs", params={"status": "running"}).json()["items"] == []
    status = svc.get("/system/worker").json()
    assert status["startup"]["reconciled_running_runs"] == 1 and status["worker"]["running"]

    # the new worker keeps serving
    next_run = svc.create_batch()["runs"][0]["run_id"]
    wait_until(lambda: svc.run(next_run)["status"] == "completed", message="the next run")
