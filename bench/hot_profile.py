"""Where a hot read's time goes, inside the app (the profile behind issue 24's fixes).

The database of ``bench.bare_stack`` (a 20,000-event run, 250 completed
runs); the service app in-process with an access token set, so the
authentication hook runs as it does for a lab that sets one. Each hot read
is requested ``--requests`` times under cProfile and its time split into
the parts the issue asks about: argument parsing (webargs), authentication,
the store query, the marshmallow dump, cursor encoding, JSON encoding, the
ETag, and the rest (Flask/werkzeug dispatch and the test client). The
access log is gunicorn's, outside the app: ``bench.bare_stack`` runs the
bare handler under the same gunicorn configuration, so it is in both sides
of that comparison.

Usage: PYTHONPATH=. python -m bench.hot_profile [--requests 500]
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import tempfile

from bench.bare_stack import build_database
from bench.common import machine

TOKEN = "profile-token-0123456789abcdef"

# (file suffix, function) whose cumulative time is one part; a part's functions do not call each
# other. A hot read's own ETag (api.exact_json: a hash of the body it just encoded) is in "rest".
PARTS = {
    "arguments": [("webargs/core.py", "parse")],
    "authentication": [("api/auth.py", "_check")],
    "store query": [("store/batches.py", "list_batches"), ("store/runs.py", "list_runs"),
                    ("store/runs.py", "get_run"), ("store/runs.py", "get_output"),
                    ("store/runs.py", "require_run"), ("store/events.py", "list_events"),
                    ("store/evidence.py", "list_evidence")],
    "schema dump": [("marshmallow/schema.py", "dump")],
    "cursor encoding": [("store/cursor.py", "encode_cursor")],
    "JSON encoding": [("flask/json/provider.py", "response")],
    "ETag": [("flask_smorest/etag.py", "_set_etag_in_response"), ("flask_smorest/etag.py", "set_etag")],
}


def _split(stats: pstats.Stats, requests: int) -> dict[str, float]:
    """Milliseconds per request for each part (cProfile's cumulative time counts a recursion once)."""
    per_part = {}
    for part, functions in PARTS.items():
        total = sum(cumulative for (filename, _, name), (_, _, _, cumulative, _) in stats.stats.items()
                    if any(filename.endswith(suffix) and name == function for suffix, function in functions))
        per_part[part] = round(total / requests * 1000, 3)
    return per_part


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "hot.db")
        paths = build_database(path)
        os.environ.update({"C2XC_SQLITE_PATH": path, "C2XC_API_TOKEN": TOKEN})
        from api.app import create_app

        client = create_app().test_client()
        headers = {"Authorization": f"Bearer {TOKEN}"}
        report = {"machine": machine(), "requests": args.requests, "ms_per_request": {}}
        for name, path_ in paths.items():
            url = "/api/v1" + path_
            for _ in range(50):  # warm: connections, caches, first-use imports
                assert client.get(url, headers=headers).status_code == 200
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(args.requests):
                client.get(url, headers=headers)
            profile.disable()
            stats = pstats.Stats(profile)
            total = round(stats.total_tt / args.requests * 1000, 3)
            parts = _split(stats, args.requests)
            parts["rest (dispatch, test client)"] = round(total - sum(parts.values()), 3)
            report["ms_per_request"][name] = {"total": total, **parts}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
