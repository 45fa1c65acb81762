"""GET /runs/{run_id}/events/stream: live traces over SSE through the real gunicorn + worker."""
import json
import os
import threading
import time

import pytest
import requests

from tests.processes import wait_until

SLOW = {"C2XC_DRY_RUN_STEP_DELAY_S": "0.3", "C2XC_STREAMS_PER_WORKER": "3",
        "C2XC_STREAM_KEEPALIVE_S": "0.5", "C2XC_WEB_WORKERS": "1"}


def read_stream(url, headers=None, params=None, timeout=30, stop_after=None):
    """(messages, comments, status): parse an SSE response until the server ends it."""
    messages, comments = [], []
    with requests.get(url, headers=headers, params=params, stream=True, timeout=timeout) as reply:
        if reply.status_code != 200:
            return reply, [], []
        current = {}
        for line in reply.iter_lines(decode_unicode=True):
            if line.startswith(":"):
                comments.append(line)
            elif line.startswith("id: "):
                current["id"] = line[4:]
            elif line.startswith("data: "):
                current["data"] = json.loads(line[6:])
            elif line == "" and current:
                messages.append(current)
                current = {}
                if stop_after and len(messages) >= stop_after:
                    break
    return reply, messages, comments


@pytest.fixture(scope="module")
def slow(tmp_path_factory):
    from tests.processes import running_service
    with running_service(tmp_path_factory.mktemp("sse"), SLOW) as procs:
        yield procs


def _stream_url(svc, run_id):
    return f"{svc.base_url}/runs/{run_id}/events/stream"


def test_a_stream_follows_a_run_live_and_ends_after_its_terminal_event(slow):
    run_id = slow.create_batch()["runs"][0]["run_id"]
    reply, messages, comments = read_stream(_stream_url(slow, run_id))
    assert reply.headers["Content-Type"].startswith("text/event-stream")
    types = [m["data"]["event_type"] for m in messages]
    assert types[0] == "run_started" and types[-1] == "final_output"
    listed = slow.all_events(run_id)
    assert [m["data"]["event_id"] for m in messages] == [e["event_id"] for e in listed]


def test_resuming_with_last_event_id_loses_and_repeats_nothing(slow):
    run_id = slow.create_batch()["runs"][0]["run_id"]
    _, first, _ = read_stream(_stream_url(slow, run_id), stop_after=3)
    _, rest, _ = read_stream(_stream_url(slow, run_id), headers={"Last-Event-ID": first[-1]["id"]})
    listed = [e["event_id"] for e in slow.all_events(run_id)]
    assert [m["data"]["event_id"] for m in first + rest] == listed
    assert rest[-1]["data"]["event_type"] == "final_output"


def test_a_stream_of_a_finished_run_replays_it_and_ends(slow):
    batch = slow.create_batch()
    slow.wait_batch_finished(batch["batch"]["batch_id"])
    run_id = batch["runs"][0]["run_id"]
    _, messages, _ = read_stream(_stream_url(slow, run_id))
    assert len(messages) == len(slow.all_events(run_id))
    _, after_end, _ = read_stream(_stream_url(slow, run_id), headers={"Last-Event-ID": messages[-1]["id"]})
    assert after_end == []  # resumed after the end: nothing, and the stream closes


def test_bad_input_gets_the_error_envelope(slow):
    run_id = slow.create_batch()["runs"][0]["run_id"]
    unknown = requests.get(_stream_url(slow, "run_nope"), timeout=10)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    garbage = requests.get(_stream_url(slow, run_id), headers={"Last-Event-ID": "not-a-cursor"},
                           timeout=10)
    assert garbage.status_code == 400 and garbage.json()["error"]["code"] == "invalid_argument"


def test_an_idle_stream_sends_keep_alive_comments_and_holds_no_connection(service_factory):
    """A waiting stream holds neither a transaction nor a pooled connection (SPEC 13): with a
    pool of one connection and three streams waiting, other requests are still served."""
    procs = service_factory(C2XC_STREAM_KEEPALIVE_S="0.2", C2XC_WEB_WORKERS="1",
                            C2XC_DB_POOL_SIZE="1")  # no worker: the runs stay queued
    run_ids = [procs.create_batch()["runs"][0]["run_id"] for _ in range(3)]
    comments: dict[str, list[str]] = {run_id: [] for run_id in run_ids}

    def follow(run_id):
        with requests.get(_stream_url(procs, run_id), stream=True, timeout=20) as reply:
            for line in reply.iter_lines(decode_unicode=True):
                if line.startswith(": keep-alive"):
                    comments[run_id].append(line)
                    if len(comments[run_id]) == 6:
                        break
    followers = [threading.Thread(target=follow, args=(run_id,)) for run_id in run_ids]
    for thread in followers:
        thread.start()
    wait_until(lambda: all(comments.values()), message="three streams waiting")
    for _ in range(5):  # the one pooled connection is free for them
        assert procs.get("/batches", params={"limit": 5}).status_code == 200
    for thread in followers:
        thread.join(20)
    assert all(len(lines) == 6 for lines in comments.values())


def test_streams_over_the_limit_get_a_503_and_ordinary_requests_are_still_served(slow):
    waiting = [slow.create_batch()["runs"][0]["run_id"] for _ in range(4)]
    opened = []

    def hold(run_id):
        with requests.get(_stream_url(slow, run_id), stream=True, timeout=60) as reply:
            opened.append(reply.status_code)
            for _ in reply.iter_lines():  # until the run ends
                pass
    threads = [threading.Thread(target=hold, args=(r,), daemon=True) for r in waiting[:3]]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(opened) == 3, message="three open streams")
    over = requests.get(_stream_url(slow, waiting[3]), timeout=10)
    assert over.status_code == 503 and over.json()["error"]["code"] == "dependency_unavailable"
    assert over.json()["error"]["details"]["max_streams"] == 3
    started = time.monotonic()
    for _ in range(20):  # the worker process still has threads for everything else
        assert slow.get("/healthz").status_code == 200
        assert slow.get("/batches", params={"limit": 5}).status_code == 200
    assert time.monotonic() - started < 10
    for thread in threads:
        thread.join(30)
    assert opened == [200, 200, 200]
    _, messages, _ = read_stream(_stream_url(slow, waiting[3]))  # a slot is free again
    assert messages[-1]["data"]["event_type"] == "final_output"


@pytest.mark.sqlite_only  # SQLite's WAL file; PostgreSQL recycles its WAL itself
def test_the_wal_stays_bounded_while_streams_are_open_and_the_worker_writes(service_factory):
    """A stream that held a read transaction between polls would pin the WAL: it would grow
    to hold every write. Here 40 MB are written while three streams follow the run."""
    from core import trace
    from store import events, runs
    from store.db import Database

    procs = service_factory(C2XC_STREAM_POLL_S="0.01")
    run_id = procs.create_batch()["runs"][0]["run_id"]
    writer = Database(procs.db_path)
    conn = writer.connection()
    runs.claim_next_run(conn, "w-test", time.time())
    received: list[int] = []

    def follow():
        _, messages, _ = read_stream(_stream_url(procs, run_id), timeout=120)
        received.append(len(messages))
    followers = [threading.Thread(target=follow, daemon=True) for _ in range(3)]
    for thread in followers:
        thread.start()
    wait_until(lambda: procs.get(f"/runs/{run_id}").status_code == 200)
    payload = {"blob": "x" * 100_000}
    largest_wal = 0
    for _ in range(400):
        events.append_event(conn, run_id, "kb_get", payload, time.time())
        largest_wal = max(largest_wal, os.path.getsize(procs.db_path + "-wal"))
    runs.finish_run(conn, run_id=run_id, worker_id="w-test", now=time.time(),
                    event=trace.RunFailed(error_code="test", message="done"))
    for thread in followers:
        thread.join(60)
    writer.close()
    assert received == [401, 401, 401]  # every event reached every stream
    assert largest_wal < 16 * 1024 * 1024, largest_wal  # checkpoints kept up: not 40 MB


def test_gunicorn_stops_promptly_with_streams_open(service_factory):
    procs = service_factory()  # no worker: the stream would wait forever
    run_id = procs.create_batch()["runs"][0]["run_id"]
    opened, ended = threading.Event(), threading.Event()

    def follow():
        with requests.get(_stream_url(procs, run_id), stream=True, timeout=60) as reply:
            for line in reply.iter_lines(decode_unicode=True):
                opened.set()  # the first line ("retry: …") is out: the stream is waiting
        ended.set()
    threading.Thread(target=follow, daemon=True).start()
    wait_until(opened.is_set, message="the stream to open")
    gunicorn = procs.processes[0]

    started = time.monotonic()
    procs.stop(gunicorn)
    assert time.monotonic() - started < 5  # graceful_timeout is 10 s: the streams did not hold it
    assert ended.wait(5)


def test_a_filtered_stream_sends_only_its_types_and_still_ends_with_the_run(slow):
    run_id = slow.create_batch()["runs"][0]["run_id"]
    _, messages, _ = read_stream(_stream_url(slow, run_id), params={"event_type": "kb_query"})
    assert [m["data"]["event_type"] for m in messages] == ["kb_query", "kb_query"]
    assert slow.run(run_id)["status"] == "completed"  # it ended when the run did
