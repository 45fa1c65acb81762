"""Experiments at lab scale: a 10,000-row CSV import, then list pages and the export over 10,000.

In one process, through the real Flask app and its test client (the HTTP layer and the store
are the service's own; gunicorn adds the same constant per request for every endpoint).
Reports the import's wall time (dry run and storing) and the Python heap's peak while it ran
(tracemalloc: what the import itself holds, the spooled file and one row at a time), then the
storing import again untraced into a second database with how long it held the write lock
(store.lock_stats: the one insert_many transaction), the median time of a first page and of a
deep page (keyset: flat), a filtered page, and the full export's time and size.

Usage: python -m bench.experiments [--rows 10000] [--backend sqlite|postgres]
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import statistics
import tempfile
import time
import tracemalloc

from bench.common import machine

METALS = ["Cu", "Mo", "Ni", "Fe", "Co", "Zn", "Ag", "Bi", "Ce", "La", "Mn", "W"]
MODIFIERS = ["OC(=O)c1ccccc1", "OC(=O)C", "OC(=O)CC(O)=O", "OC(=O)c1ccc(O)cc1", "OC(=O)C(F)(F)F"]


def notebook(rows: int) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["M1", "M2", "atomic_ratio", "modifier_smiles", "status", "score", "notes",
                     "product:C2H4", "product:CO", "product:H2"])
    for i in range(rows):
        a, b = METALS[i % 12], METALS[(i // 12 + 1 + i % 12) % 12]
        if a == b:
            b = METALS[(METALS.index(a) + 1) % 12]
        writer.writerow([a, b, f"{1 + i % 4}:{1 + i % 3}", MODIFIERS[i % 5], "measured", round(i % 100 / 10, 1),
                         f"row {i}", round(0.5 + i % 7, 2), round(1 + i % 5, 2), round(2 + i % 3, 2)])
    return out.getvalue().encode()


def _timed(call) -> tuple[float, object]:
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["C2XC_LOG_LEVEL"] = "WARNING"
        os.environ["C2XC_LOCK_STATS_DIR"] = os.path.join(tmp, "locks")  # read when store.db loads
        from api.app import create_app
        from store import db as store_db

        def client_on(name: str):
            os.environ["C2XC_SQLITE_PATH"] = os.path.join(tmp, name)
            fresh = create_app().test_client()
            for product in ("C2H4", "CO", "H2"):
                fresh.post("/api/v1/products", json={"name": product})
            return fresh

        body = notebook(args.rows)
        untraced = client_on("untraced.db")
        ms_untraced, reply = _timed(lambda: untraced.post("/api/v1/experiments/import", data=body, content_type="text/csv"))
        assert reply.status_code == 201, reply.get_json()
        held = store_db._STATS.report()["experiments.insert_many"]["hold_ms"]["max"]
        client = client_on("bench.db")
        report = {"machine": machine(), "rows": args.rows, "csv_bytes": len(body)}
        for dry in (True, False):
            tracemalloc.start()
            ms, reply = _timed(lambda: client.post(f"/api/v1/experiments/import?dry_run={str(dry).lower()}",
                                                   data=body, content_type="text/csv"))
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            assert reply.status_code in (200, 201), reply.get_json()
            report["dry_run" if dry else "import"] = {"ms": round(ms), "python_heap_peak_mb": round(peak / 2**20, 1)}
        report["import_untraced"] = {"ms": round(ms_untraced), "write_lock_held_ms": round(held)}
        first = client.get("/api/v1/experiments?limit=50").get_json()
        cursor = first["next_cursor"]
        for _ in range(150):  # 150 pages in: 7,550 rows deep
            cursor = client.get(f"/api/v1/experiments?limit=50&cursor={cursor}").get_json()["next_cursor"]
        pages = {"first_page": "/api/v1/experiments?limit=50",
                 "page_7550_deep": f"/api/v1/experiments?limit=50&cursor={cursor}",
                 "metal_filter": "/api/v1/experiments?limit=50&metal=Cu",
                 "status_filter": "/api/v1/experiments?limit=50&status=measured"}
        for name, url in pages.items():
            times = [_timed(lambda: client.get(url))[0] for _ in range(21)]
            report[name] = {"median_ms": round(statistics.median(times), 2)}
        ms, reply = _timed(lambda: client.get("/api/v1/export/experiments.csv").get_data())
        report["export"] = {"ms": round(ms), "bytes": len(reply)}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
