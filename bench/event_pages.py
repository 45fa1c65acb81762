"""Benchmark 2: event and evidence page latency vs. trace size (server-side).

Builds, through ``store`` (not the agent), runs of 100, 10,000 and 100,000
events with ~2 KB payloads; the largest also gets 200 events of 1 MB mixed
in (about 400 MB on disk in all; the file is deleted afterwards). As in a
real run, every ``kb_query`` event (one in seven) registers 5 evidence
chunks, so evidence grows with the trace (71,430 items at 100,000 events).
Then times, in the real Flask app (request handling only, no network), the
first page and a deep page of ``GET /runs/{id}/events?limit=50`` and of
``GET /runs/{id}/evidence?limit=50``, plus the 1 MB event's detail. A deep
page starts 60 items before the end, so every run returns a full page of 50.

Usage: python -m bench.event_pages [--requests 200]
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
import time

from bench.common import machine, summary
from store import events, evidence
from store.cursor import encode_cursor
from store.db import write_transaction
from store.records import EvidenceItem
from tests.store_helpers import queue_batch

SMALL = {"messages": [{"role": "user", "content": "y" * 1950}]}
BIG = {"blob": "z" * (1024 * 1024)}


def fill_run(conn, run_id: str, n: int, big_every: int | None) -> tuple[list[int], list[int]]:
    """The run's event seqs and evidence seqs."""
    seqs, chunk, alias = [], 1000, 0
    for start in range(0, n, chunk):
        items = []
        for i in range(start, min(n, start + chunk)):
            items.append(("kb_query" if i % 7 == 0 else "recap_info",
                          BIG if big_every and i % big_every == big_every // 2 else SMALL))
        seqs += [e.seq for e in events.append_events(conn, run_id, items, time.time())]
        found = []
        for _ in range(sum(1 for kind, _ in items if kind == "kb_query") * 5):
            alias += 1
            found.append(EvidenceItem(
                alias=f"C{alias}", ref=f"kb:kb_principles__chunk-{alias}", source="paper.md",
                kb_namespace="kb_principles", lightrag_chunk_id=f"chunk-{alias}",
                created_at=time.time(), content="c" * 2000))
        with write_transaction(conn):
            evidence.insert_evidence(conn, run_id, found)
    evidence_seqs, cursor = [], None
    while True:
        page, cursor, more = evidence.list_evidence(conn, run_id, limit=200, cursor=cursor,
                                                    include_content=False)
        evidence_seqs += [item.seq for item in page]
        if not more:
            return seqs, evidence_seqs


def _time(client, url: str, repeats: int) -> dict:
    durations = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(url)
        durations.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.get_json()
    return summary(durations, 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=os.getcwd()) as tmp:
        path = os.path.join(tmp, "pages.db")
        os.environ["C2XC_SQLITE_PATH"] = path
        from api.app import create_app

        app = create_app()
        client = app.test_client()
        conn = app.extensions["c2xc"].database.connection()
        report = {"machine": machine(), "requests_per_point": args.requests, "runs": {}}
        for size in (100, 10_000, 100_000):
            _, (run_id,) = queue_batch(conn, 1)
            built = time.perf_counter()
            seqs, evidence_seqs = fill_run(conn, run_id, size, big_every=500 if size == 100_000 else None)
            deep = encode_cursor("events", seqs[max(0, len(seqs) - 60)])  # a full page, as deep as possible
            deep_evidence = encode_cursor("evidence", evidence_seqs[max(0, len(evidence_seqs) - 60)])
            base = f"/api/v1/runs/{run_id}"
            point = {
                "build_s": round(time.perf_counter() - built, 1),
                "events_first_page_ms": _time(client, f"{base}/events?limit=50", args.requests),
                "events_deep_page_ms": _time(client, f"{base}/events?limit=50&cursor={deep}",
                                             args.requests),
                "events_filtered_page_ms": _time(client, f"{base}/events?limit=50&event_type=kb_query",
                                                 args.requests),
                "evidence_first_page_ms": _time(client, f"{base}/evidence?limit=50", args.requests),
                "evidence_deep_page_ms": _time(client, f"{base}/evidence?limit=50&cursor={deep_evidence}",
                                               args.requests),
                "evidence_items": len(evidence_seqs),
            }
            if size == 100_000:
                big = next(e for e in events.list_events(conn, run_id, limit=1000, cursor=None)[0]
                           if e.payload_bytes > 1_000_000)
                point["one_mb_event_detail_ms"] = _time(client, f"{base}/events/{big.event_id}", 20)
            report["runs"][size] = point
        report["db_bytes"] = sum(os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp))
        small, large = report["runs"][100], report["runs"][100_000]
        report["ratio_100k_to_100"] = {
            k: round(large[k]["median"] / small[k]["median"], 2)
            for k in ("events_first_page_ms", "events_deep_page_ms", "evidence_first_page_ms",
                      "evidence_deep_page_ms")}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
