import threading
import time

import pytest

from core.settings import load_run_settings
from store import cancels, events, runs
from store.db import Database
from store.migrations import migrate
from tests.store_helpers import queue_batch
from worker.dry_run import execute_dry_run
from worker.recipe_validation import check_answer
from worker.run_context import RunCanceled, RunContext

EXPECTED_TYPES = ["run_started", "recap_info", "recap_info", "kb_query", "kb_query", "llm_request",
                  "llm_response", "recap_info", "citations_resolved"]


def _claim(conn, recipes_per_run=1):
    queue_batch(conn, 1, recipes_per_run=recipes_per_run)
    return runs.claim_next_run(conn, "w", time.time())


@pytest.mark.parametrize("n", [1, 2, 3])
def test_dry_run_output_passes_the_normal_validation(conn, n):
    run = _claim(conn, n)
    output = execute_dry_run(RunContext(conn, run, load_run_settings(), threading.Event()))
    known = dict(conn.execute("SELECT alias, ref FROM evidence").fetchall())
    again = check_answer(output.recipes_json, recipes_per_run=n, known_aliases=known)
    assert again.errors == [] and again.citations == output.citations
    assert len(output.recipes_json["recipes"]) == n
    assert all(r["modifier_structure"]["name_check"] == "verified"
               for r in output.recipes_json["recipes"])
    assert "DRY RUN" in output.recipes_json["overall_notes"]
    types = [e.event_type for e in events.list_events(conn, run.run_id, limit=50, cursor=None)[0]]
    assert types == EXPECTED_TYPES


def test_dry_run_is_deterministic_given_the_run_id(tmp_path, conn):
    run = _claim(conn, 3)
    first = execute_dry_run(RunContext(conn, run, load_run_settings(), threading.Event()))
    other = Database(str(tmp_path / "other.db"))
    migrate(other.connection())
    with other.connection() as c2:
        c2.execute("INSERT INTO batches (batch_id, created_at, status, user_request, n_runs,"
                   " recipes_per_run, temperature, dry_run, config_snapshot_json, schema_version,"
                   " extra_json) VALUES (?, 0, 'running', 'x', 1, 3, 0.7, 1, '{}', 1, '{}')",
                   (run.batch_id,))
        c2.execute("INSERT INTO runs (run_id, batch_id, run_index, status, created_at)"
                   " VALUES (?, ?, 0, 'running', 0)", (run.run_id, run.batch_id))
    second = execute_dry_run(RunContext(other.connection(), run, load_run_settings(),
                                        threading.Event()))
    assert first == second


def test_dry_run_stops_at_the_next_step_once_canceled(conn):
    run = _claim(conn)
    ctx = RunContext(conn, run, load_run_settings(), threading.Event())
    emitted = []
    original_emit = ctx.emit

    def emit_then_cancel(event):
        original_emit(event)
        emitted.append(event.event_type)
        if event.event_type == "recap_info":

            cancels.request_run_cancel(conn, run.run_id, "changed my mind", time.time())

    ctx.emit = emit_then_cancel
    with pytest.raises(RunCanceled) as stopped:
        execute_dry_run(ctx)
    assert stopped.value.reason == "changed my mind"
    assert emitted == ["run_started", "recap_info", "recap_info"]  # it stopped after planning
