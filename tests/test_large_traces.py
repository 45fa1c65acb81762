"""A run with 100,000 small events and 200 events of 1 MB (built through store, ~250 MB).

Pages stay small (no payload is read or sent), the 1 MB payload is served
whole by the detail endpoint, evidence stays a small page, and the API
worker's memory stays bounded. Latency figures for the same shape are in
docs/PERFORMANCE.md (bench/event_pages.py); this test asserts sizes, not time.
"""
import os
import subprocess
import time

import pytest

from bench.common import process_peak_rss_mb
from store import events, evidence
from store.db import connect, write_transaction
from store.migrations import migrate
from store.records import EvidenceItem
from tests.processes import ServiceProcesses
from tests.store_helpers import queue_batch

SMALL = {"note": "s" * 100}
ONE_MB = {"blob": "z" * (1024 * 1024)}


def _build(path: str) -> tuple[str, list[str]]:
    conn = connect(path)
    migrate(conn)
    _, (run_id,) = queue_batch(conn, 1)
    big_ids = []
    for _ in range(100):  # 100 blocks of 1,000 small events, 2 big events per block
        events.append_events(conn, run_id, [("recap_info", SMALL)] * 1000, time.time())
        big = events.append_events(conn, run_id, [("llm_request", ONE_MB)] * 2, time.time())
        big_ids += [e.event_id for e in big]
    with write_transaction(conn):
        evidence.insert_evidence(conn, run_id, [EvidenceItem(
            alias=f"C{i}", ref=f"kb:kb_principles__chunk-{i}", source="paper.md",
            kb_namespace="kb_principles", lightrag_chunk_id=f"chunk-{i}", created_at=time.time(),
            content="c" * 4000) for i in range(1, 301)])
    conn.close()
    return run_id, big_ids


@pytest.mark.slow
def test_a_huge_trace_stays_cheap_to_browse(tmp_path):
    db_path = str(tmp_path / "huge.db")
    run_id, big_ids = _build(db_path)
    assert os.path.getsize(db_path) > 200 * 1024 * 1024
    svc = ServiceProcesses(tmp_path, {"C2XC_WEB_WORKERS": "1"})
    svc.env["C2XC_SQLITE_PATH"] = db_path
    try:
        svc.start_api()
        first = svc.get(f"/runs/{run_id}/events", params={"limit": 200})
        assert first.status_code == 200 and len(first.content) < 60_000  # 200 rows, no payloads
        cursor, pages = first.json()["next_cursor"], 1
        while cursor and pages < 50:  # walk deep into the trace
            page = svc.get(f"/runs/{run_id}/events", params={"limit": 200, "cursor": cursor})
            assert len(page.content) < 60_000
            cursor, pages = page.json()["next_cursor"], pages + 1
        bigs = svc.get(f"/runs/{run_id}/events", params={"event_type": "llm_request", "limit": 200})
        assert [e["event_id"] for e in bigs.json()["items"]] == big_ids
        assert all(e["payload_bytes"] > 1024 * 1024 for e in bigs.json()["items"])
        for event_id in big_ids[:20]:
            detail = svc.get(f"/runs/{run_id}/events/{event_id}").json()
            assert len(detail["payload"]["blob"]) == 1024 * 1024
        listing = svc.get(f"/runs/{run_id}/evidence", params={"limit": 50})
        assert len(listing.json()["items"]) == 50 and len(listing.content) < 20_000
        assert len(svc.get(f"/runs/{run_id}/evidence/C300").json()["content"]) == 4000
        worker_pids = subprocess.run(["pgrep", "-P", str(svc.processes[0].pid)],
                                     capture_output=True, text=True).stdout.split()
        peak = max(process_peak_rss_mb(int(pid)) for pid in worker_pids)
        assert peak < 250, f"API worker peaked at {peak:.0f} MB"
        print(f"\nlarge trace: {os.path.getsize(db_path) / 1e6:.0f} MB database, API worker peak {peak:.0f} MB")
    finally:
        svc.stop_all()
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db_path + suffix):
                os.remove(db_path + suffix)
