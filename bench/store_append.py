"""Benchmark 1: event append throughput of ``store`` vs. plain sqlite3 (the physical limit).

Both sides write the same rows (an ``events`` row and its ``event_payloads``
row, ~2 KB JSON payload) into the same schema with the same pragmas, on the
same disk. Single: one event per transaction (the worker's default).
Batched: ``--batch`` events per transaction (``append_events``).

Usage: python -m bench.store_append [--events 5000] [--batch 10] [--repeats 5]
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import tempfile
import time

from bench.common import machine, summary
from store import events
from store.db import connect
from store.migrations import migrate
from tests.store_helpers import queue_batch

PAYLOAD = {"agent": "orchestrator", "state": "act", "depth": 1,
           "messages": [{"role": "user", "content": "x" * 1900}]}


def _fresh(tmp: str, name: str):
    conn = connect(os.path.join(tmp, name))
    migrate(conn)
    _, (run_id,) = queue_batch(conn, 1)
    return conn, run_id


def plain(conn, run_id: str, n: int, batch: int) -> float:
    """The limit: pre-encoded rows, bare INSERTs, same transactions."""
    encoded = json.dumps(PAYLOAD, separators=(",", ":"))
    size = len(encoded.encode())
    started = time.perf_counter()
    for start in range(0, n, batch):
        conn.execute("BEGIN IMMEDIATE")
        for _ in range(min(batch, n - start)):
            seq = conn.execute("INSERT INTO events (event_id, run_id, created_at, event_type,"
                               " payload_bytes) VALUES (?, ?, ?, ?, ?) RETURNING seq",
                               ("evt_" + secrets.token_hex(16), run_id, time.time(), "recap_info",
                                size)).fetchone()[0]
            conn.execute("INSERT INTO event_payloads (event_seq, payload_json) VALUES (?, ?)",
                         (seq, encoded))
        conn.execute("COMMIT")
    return n / (time.perf_counter() - started)


def ours(conn, run_id: str, n: int, batch: int) -> float:
    started = time.perf_counter()
    if batch == 1:
        for _ in range(n):
            events.append_event(conn, run_id, "recap_info", PAYLOAD, time.time())
    else:
        for start in range(0, n, batch):
            events.append_events(conn, run_id, [("recap_info", PAYLOAD)] * min(batch, n - start),
                                 time.time())
    return n / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    report = {"machine": machine(), "events": args.events, "batch": args.batch}
    for label, batch in (("single", 1), ("batched", args.batch)):
        ratios, plain_rates, our_rates = [], [], []
        for repeat in range(args.repeats):
            with tempfile.TemporaryDirectory(dir=os.getcwd()) as tmp:
                conn_a, run_a = _fresh(tmp, "plain.db")
                conn_b, run_b = _fresh(tmp, "store.db")
                # alternate the order so neither side always gets the warmer disk cache
                if repeat % 2:
                    b = ours(conn_b, run_b, args.events, batch)
                    a = plain(conn_a, run_a, args.events, batch)
                else:
                    a = plain(conn_a, run_a, args.events, batch)
                    b = ours(conn_b, run_b, args.events, batch)
                conn_a.close()
                conn_b.close()
            plain_rates.append(a)
            our_rates.append(b)
            ratios.append(b / a)
        report[label] = {"plain_sqlite_events_per_s": summary(plain_rates, 0),
                         "store_events_per_s": summary(our_rates, 0),
                         "store_share_of_plain": summary(ratios, 3)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
