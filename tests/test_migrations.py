import multiprocessing
import subprocess
import sys

import pytest

from core.errors import SchemaTooNew
from store.db import connect
from store.migrations import LATEST_VERSION, current_version, migrate
from tests.processes import REPO

EXPECTED_TABLES = {"meta", "batches", "runs", "events", "event_payloads", "cancel_requests",
                   "idempotency_keys", "workers", "run_outputs", "evidence"}


def _tables(conn):
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_fresh_database_gets_every_table_and_the_latest_version(tmp_path):
    conn = connect(str(tmp_path / "a.db"))
    assert migrate(conn) == list(range(1, LATEST_VERSION + 1))
    assert current_version(conn) == LATEST_VERSION
    assert EXPECTED_TABLES <= _tables(conn)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_migrating_twice_is_a_no_op(tmp_path):
    conn = connect(str(tmp_path / "a.db"))
    migrate(conn)
    schema = conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    assert migrate(conn) == []
    assert conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema


def test_database_newer_than_the_code_is_refused(tmp_path):
    conn = connect(str(tmp_path / "a.db"))
    migrate(conn)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    with pytest.raises(SchemaTooNew, match="newer than this code"):
        migrate(conn)


def _migrate_in_child(path, barrier, results):
    barrier.wait()
    try:
        results.put(migrate(connect(path)))
    except Exception as exc:  # reported to the parent, which fails the test
        results.put(repr(exc))


def test_processes_starting_at_once_apply_each_migration_exactly_once(tmp_path):
    path = str(tmp_path / "race.db")
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    children = [ctx.Process(target=_migrate_in_child, args=(path, barrier, results)) for _ in range(4)]
    for child in children:
        child.start()
    outcomes = [results.get(timeout=60) for _ in children]
    for child in children:
        child.join(30)
    assert sorted(map(str, outcomes)) == sorted(
        [str(list(range(1, LATEST_VERSION + 1)))] + ["[]"] * 3)


def test_worker_refuses_a_newer_database_with_a_clear_message(tmp_path):
    path = str(tmp_path / "new.db")
    conn = connect(path)
    migrate(conn)
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 7}")
    conn.close()
    done = subprocess.run([sys.executable, "-m", "worker", "--once", "--db", path], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "newer than this code" in done.stderr and "Traceback" not in done.stderr


def test_a_database_written_by_release_0_1_0_upgrades_keeping_every_batch_run_and_event(tmp_path):
    """tests/data holds a file made by the release before lab feedback (schema 4)."""
    import shutil
    from pathlib import Path

    source = Path(__file__).parent / "data" / "release-0.1.0-schema4.db"
    copy = tmp_path / "upgrade.db"
    shutil.copy(source, copy)
    conn = connect(str(copy))
    assert current_version(conn) == 4
    counts = {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
              for t in ("batches", "runs", "events", "event_payloads", "evidence", "run_outputs",
                        "idempotency_keys", "cancel_requests", "workers")}
    before = conn.execute("SELECT run_id, status, error_code FROM runs ORDER BY seq").fetchall()
    assert migrate(conn) == list(range(5, LATEST_VERSION + 1))
    assert {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in counts} == counts
    assert conn.execute("SELECT run_id, status, error_code FROM runs ORDER BY seq").fetchall() == before
    assert counts["events"] == 30 and conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT COUNT(*) FROM products").fetchone()[0] == 0
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.close()


def test_every_feedback_of_the_previous_release_becomes_its_measured_experiment(tmp_path):
    """tests/data/release-schema10-feedback.db: made by the release before experiments (schema 10)."""
    import shutil
    from pathlib import Path

    from store import experiments, feedback
    from store.experiments import ExperimentFilters

    copy = tmp_path / "upgrade.db"
    shutil.copy(Path(__file__).parent / "data" / "release-schema10-feedback.db", copy)
    conn = connect(str(copy))
    assert current_version(conn) == 10
    feedback_before = {r[0]: feedback.get_feedback(conn, r[0]) for r in conn.execute(
        "SELECT run_id FROM run_feedback")}
    assert migrate(conn) == list(range(11, LATEST_VERSION + 1))
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    found, _, _ = experiments.list_experiments(conn, ExperimentFilters(), limit=50, cursor=None)
    by_run = {e.feedback_run_id: e for e in found}
    assert set(by_run) == set(feedback_before) and len(found) == 4
    for run_id, old in feedback_before.items():
        assert feedback.get_feedback(conn, run_id) == old  # feedback reads answer as before
        made = by_run[run_id]
        assert made.status == "measured" and made.score == old.score and made.version == old.version
        assert [(p.product_id, p.value, p.fraction) for p in made.products] == \
            [(p.product_id, p.value, p.fraction) for p in old.products]
        assert made.value_sum == old.value_sum and made.fractions_all_zero == old.fractions_all_zero
        if old.recipe_index is None:  # unknown: shown as such, not guessed
            assert made.recipe is None and made.source is None
        else:
            assert made.source == {"run_id": run_id, "rank": old.recipe_index}
            assert made.recipe["recipe_key"]
    edited = next(e for e in found if e.source and e.source["rank"] == 2)
    assert edited.recipe["recipe_key"] == "Cu1Mo3|O=C(O)c1ccccc1"  # Mo:Cu 3:1 as written, same key
    assert edited.recipe["M1"] == "Mo" and edited.recipe["atomic_ratio"] == "3:1"
    assert any(p.status == "archived" for e in found for p in e.products)  # kept as measured
    conn.close()


def test_memory_learned_per_run_by_the_previous_release_is_keyed_by_its_experiments(tmp_path, monkeypatch):
    """tests/data/release-schema12-memory.db: learned per run (schema 12); v13 learns per experiment."""
    import shutil
    from pathlib import Path

    from store import learn_jobs, learn_requests, memory_changes, memory_deltas
    from store.memory_items import list_items
    from tests.agent_fixtures import SECRET
    from tests.fake_openai import FakeOpenAI
    from tests.memory_helpers import learner, put, work_learn_jobs

    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    copy = tmp_path / "upgrade.db"
    shutil.copy(Path(__file__).parent / "data" / "release-schema12-memory.db", copy)
    conn = connect(str(copy))
    assert current_version(conn) == 12 and 13 in migrate(conn)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    experiment_of = {r[0]: r[1] for r in conn.execute(
        "SELECT feedback_run_id, experiment_id FROM experiments")}
    assert all(experiment_of[j.run_id] == j.experiment_id for j in map(
        learn_jobs.LearnJob.from_row, conn.execute("SELECT * FROM learn_jobs")))
    items = list_items(conn, status=None, kind=None, role=None, polarity=None, limit=50, cursor=None)[0]
    assert all(i.source_experiment_id == experiment_of[i.source_run_id] for i in items)
    supported = [i for i in items if i.support_run_ids]
    assert len(supported) == 2 and all(
        i.support_experiment_ids == [experiment_of[r] for r in i.support_run_ids] for i in supported)
    [run_a] = {i.source_run_id for i in supported}
    with FakeOpenAI() as fake:
        the_learner = learner(fake)
        [queued] = work_learn_jobs(conn, the_learner)  # run D's job, queued before the upgrade
        assert queued.status == "completed"
        put(conn, run_a, 1, {"H2": 1})  # run A re-learned: its result replaced, B's evidence kept
        [relearn] = work_learn_jobs(conn, the_learner)
        assert relearn.undone_exactly is False
        memory_changes.rollback(conn, relearn.delta_id, 1e10)  # a state recorded by v12, restored whole
        assert memory_deltas.get_delta(conn, relearn.undone_delta_id).status == "applied"
        assert learn_requests.request_run_learning(conn, run_a, 1e10).status == "queued"
    conn.close()
