"""SIGTERM/SIGINT: finish the step, record the run honestly, exit 0; a second signal exits now."""
import signal
import time

import pytest

from tests.processes import wait_until

SLOW = {"C2XC_DRY_RUN_STEP_DELAY_S": "0.3"}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_during_a_run_records_worker_shutdown_and_exits_zero(service_factory, signum):
    svc = service_factory(**SLOW)
    worker = svc.start_worker()
    run_id, queued_id = [r["run_id"] for r in svc.create_batch(n_runs=2)["runs"]]
    wait_until(lambda: svc.run(run_id)["status"] == "running", message="run start")
    worker.send_signal(signum)
    assert worker.wait(15) == 0
    run = svc.run(run_id)
    assert run["status"] == "failed" and run["error"]["code"] == "worker_shutdown"
    assert svc.all_events(run_id)[-1]["event_type"] == "run_failed"
    assert svc.run(queued_id)["status"] == "queued"  # not claimed after the signal
    assert svc.get("/system/worker").json()["worker"]["running"] is False


def test_signal_while_idle_exits_promptly(service_factory):
    svc = service_factory()
    worker = svc.start_worker()
    wait_until(lambda: svc.get("/system/worker").json()["worker"]["running"], message="worker up")
    started = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(15) == 0
    assert time.monotonic() - started < 5


def test_second_signal_exits_at_once(monkeypatch):
    """Two signals sent back to back may coalesce, so the handler is driven directly."""
    import os

    from core.settings import load_run_settings, load_worker_settings
    from store.db import Database
    from worker.cli import install_signal_handlers
    from worker.loop import Worker

    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    worker = Worker(Database(":memory:"), load_worker_settings(), load_run_settings())
    exits = []
    monkeypatch.setattr(os, "_exit", exits.append)
    try:
        install_signal_handlers(worker)
        handler = signal.getsignal(signal.SIGTERM)
        handler(signal.SIGTERM, None)
        assert worker.stop_event.is_set() and exits == []
        handler(signal.SIGTERM, None)
        assert exits == [128 + signal.SIGTERM]
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
