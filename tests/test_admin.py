"""c2xc-admin: a consistent backup while the service writes, and retention in short transactions."""
import json
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from store import runs
from store.db import Database, connect
from store.migrations import migrate
from store.retention import MAX_ROWS, prune_traces
from store import retention
from tests.processes import REPO
from tests.store_helpers import bulk_events, completed_runs, queue_batch


def _admin(*args, db: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "store.admin", "--db", db, *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.sqlite_only  # the online backup API copies SQLite's file; PostgreSQL: pg_dump (below)
def test_a_backup_taken_under_continuous_writes_is_whole_and_restores(database, conn, tmp_path):
    finished = completed_runs(conn, 300, recipes_per_run=2)
    stop, written = threading.Event(), []

    def keep_writing():
        writer = connect(database.path)
        while not stop.is_set():
            written.append(queue_batch(writer, 2)[0])

    thread = threading.Thread(target=keep_writing)
    thread.start()
    try:
        while len(written) < 20:  # the writer is really going before the backup starts
            time.sleep(0.01)
        done = _admin("backup", str(tmp_path / "copy.db"), db=database.target)
        during = len(written)
    finally:
        stop.set()
        thread.join(30)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["integrity"] == "ok" and result["bytes"] > 0
    assert len(written) > during or during >= 20  # writes went on around the backup

    restored = tmp_path / "restored.db"  # restore = put the copy in place, start the service on it
    restored.write_bytes((tmp_path / "copy.db").read_bytes())
    copy = Database(str(restored)).connection()
    migrate(copy)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    for run_id in finished:
        assert runs.get_run(copy, run_id).status == "completed"
        assert runs.get_output(copy, run_id) is not None
    again = _admin("backup", str(tmp_path / "copy.db"), db=database.target)
    assert again.returncode == 1 and "exists" in again.stderr  # never overwrites by accident


def test_retention_deletes_old_traces_in_short_transactions_the_api_writes_between(tmp_path):
    """Old runs' traces go, in chunks the API can write between; recent runs, recipes and feedback stay.

    The same rules as the million-event figure of ``bench/retention.py`` (docs/RELIABILITY.md) at a
    size that takes seconds even on a slow disk: 50,000 events, so at least 24 chunk transactions
    at the largest chunk size, each followed by a pause in which the API's writer gets the lock.
    """
    db = Database(str(tmp_path / "big.db"))
    conn = db.connection()
    migrate(conn)
    old = completed_runs(conn, 40, recipes_per_run=1)
    recent = completed_runs(conn, 5, recipes_per_run=1)
    long_ago = time.time() - 40 * 86400
    conn.executemany("UPDATE runs SET finished_at = ? WHERE run_id = ?", [(long_ago, r) for r in old])
    assert bulk_events(conn, old, 1_200, long_ago) + bulk_events(conn, recent, 400, time.time()) == 50_000
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size_before = (tmp_path / "big.db").stat().st_size

    api_writes, stop = [], threading.Event()

    def api_writer():  # an API writing the whole time: it must get the lock between chunks
        writer = connect(db.path)
        while not stop.is_set():
            queue_batch(writer, 1)
            api_writes.append(time.monotonic())
            time.sleep(0.002)

    thread = threading.Thread(target=api_writer)
    thread.start()
    try:
        while not api_writes:  # the writer is really going before the prune starts
            time.sleep(0.005)
        prune_started = time.monotonic()
        report = prune_traces(conn, finished_before=time.time() - 30 * 86400)
        prune_ended = time.monotonic()
    finally:
        stop.set()
        thread.join(30)
    assert (report.runs, report.events_deleted) == (40, 48_000)
    assert conn.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 2_000  # the recent runs' own
    assert conn.execute("SELECT COUNT(*) FROM event_payloads").fetchone()[0] == 2_000
    assert all(runs.get_run(conn, r).trace_pruned_at for r in old)
    assert not any(runs.get_run(conn, r).trace_pruned_at for r in recent)
    assert all(runs.get_output(conn, r) is not None for r in old)  # recipes kept unless asked
    assert report.transactions >= 48_000 / MAX_ROWS + 40  # never one long transaction: chunks + a close per run
    during = [t for t in api_writes if prune_started < t < prune_ended]
    assert len(during) >= 10  # the API kept writing throughout, between the chunks
    assert report.pages_freed_to_disk > 0 and report.wal_copied_back
    assert (tmp_path / "big.db").stat().st_size < size_before / 2
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_file_shrinks_when_the_prune_returns_even_if_a_reader_held_the_last_checkpoint_back(tmp_path):
    """SQLite cuts the file only at a checkpoint that copies back the whole WAL.

    A reader still on a snapshot from before the prune keeps every later frame in the WAL, so
    the prune's own checkpoints cannot finish; CI once saw the same when an API commit landed
    during the last one, and the file stayed at its old size. The prune tries again until the
    WAL is copied back (bounded), so a reader that lets go soon after is enough.
    """
    db = Database(str(tmp_path / "big.db"))
    conn = db.connection()
    migrate(conn)
    old = completed_runs(conn, 4, recipes_per_run=1)
    conn.execute("UPDATE runs SET finished_at = ?", (time.time() - 40 * 86400,))
    bulk_events(conn, old, 2_000, time.time() - 40 * 86400)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size_before = (tmp_path / "big.db").stat().st_size

    reader = connect(db.path)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM events").fetchone()  # holds this snapshot until the rollback
    try:
        report = prune_traces(conn, finished_before=time.time() - 30 * 86400)
        assert report.pages_freed_to_disk > 0 and not report.wal_copied_back  # said, not hidden
        assert (tmp_path / "big.db").stat().st_size > size_before / 2  # pinned: nothing copied back
        assert retention._copy_wal_back(conn, 0.001, within_s=0.05) is False  # bounded, says so
    finally:
        reader.rollback()
    assert retention._copy_wal_back(conn, 0.001) is True
    assert (tmp_path / "big.db").stat().st_size < size_before / 2


def test_sqlite_only_commands_tell_a_postgresql_operator_what_to_use_instead(database, backend, tmp_path):
    if not backend.is_postgres:
        pytest.skip("the SQLite commands themselves are tested above")
    backup = _admin("backup", str(tmp_path / "copy.db"), db=database.target)
    assert backup.returncode == 1 and "pg_dump" in backup.stderr and not (tmp_path / "copy.db").exists()
    vacuum = _admin("vacuum", db=database.target)
    assert vacuum.returncode == 1 and "VACUUM (FULL)" in vacuum.stderr


def test_prune_from_the_command_line_can_take_outputs_and_feedback_too(database, conn):
    old = completed_runs(conn, 3, recipes_per_run=1)
    conn.execute("UPDATE runs SET finished_at = finished_at - 10 * 86400")
    bulk_events(conn, old, 50, time.time() - 10 * 86400)
    refused = _admin("prune", "--older-than-days", "0", db=database.target)
    assert refused.returncode == 1 and "--older-than-days" in refused.stderr
    done = _admin("prune", "--older-than-days", "5", "--outputs", db=database.target)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert (result["runs"], result["events_deleted"], result["outputs_deleted"]) == (3, 150, 3)
    assert all(runs.get_output(conn, r) is None for r in old)
    assert json.loads(_admin("prune", "--older-than-days", "5", db=database.target).stdout)["runs"] == 0


def test_vacuum_turns_an_older_file_into_one_prune_can_shrink(tmp_path):
    path = tmp_path / "old.db"
    plain = sqlite3.connect(path)  # a file made before incremental vacuum existed
    plain.execute("CREATE TABLE t (x)")
    plain.close()
    db = Database(str(path))
    migrate(db.connection())
    assert db.connection().execute("PRAGMA auto_vacuum").fetchone()[0] == 0
    db.close()
    done = _admin("vacuum", db=str(path))
    assert done.returncode == 0, done.stderr
    assert connect(str(path)).execute("PRAGMA auto_vacuum").fetchone()[0] == 2
