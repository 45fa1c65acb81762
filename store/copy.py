"""Moving a lab's SQLite database to PostgreSQL whole: ``c2xc-admin copy-to postgresql://…`` (issue 31).

A lab that outgrows its workstation keeps its history: every batch, run,
trace event, evidence item, experiment, memory item with its vector, delta
and plan, with the same ids, ``seq`` keys (so cursors a client holds stay
valid), times and bytes.

* **Refusals first**: the source must not be in use by a worker (a live
  heartbeat: stop the worker, then copy); the target must be an empty
  PostgreSQL database (it is migrated to this code's schema, then every table
  but ``meta`` must be empty). The source is migrated to the same version.
* **One transaction on the target**: the whole copy commits at the end or not
  at all, so a failure (a dropped connection, a full disk) leaves the target
  empty and the command can simply be run again. Rows are read from SQLite
  and written a page at a time (``PAGE`` rows): memory does not grow with the
  database. The target's own triggers (which refuse archived products in new
  feedback) are disabled inside the transaction: history is copied as it is.
* **Verified**: afterwards each table's row count and a checksum of every row
  (SHA-256 over the rows in key order, values normalised) are computed on both
  sides and must agree (the sum of every row's SHA-256: independent of row order,
  which differs between the engines' text collations); the identity sequences
  are moved past the copied keys.
"""
from __future__ import annotations

import hashlib
import sqlite3
import time
from dataclasses import dataclass, field

from core.errors import Conflict, InvalidArgument
from store import workers
from store.db import Database, is_postgres_url, write_transaction
from store.migrations import LATEST_VERSION, current_version, migrate

PAGE = 1000
SKIPPED = {"meta"}                      # each database keeps its own (schema version, migration times)
SQLITE_ONLY_PREFIXES = ("sqlite_", "batches_fts")  # internal tables and the FTS5 index (pg_trgm there)


@dataclass
class CopyReport:
    source: str
    target: str
    schema_version: int
    tables: dict[str, dict] = field(default_factory=dict)
    rows: int = 0
    seconds: float = 0.0
    verified: bool = False


def _tables(conn: sqlite3.Connection) -> list[str]:
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return [n for n in names if n not in SKIPPED and not n.startswith(SQLITE_ONLY_PREFIXES)]


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """Stored columns only (a generated column is computed again by PostgreSQL)."""
    return [r[1] for r in conn.execute(f"PRAGMA table_xinfo({table})") if r[6] == 0]


def _key(conn: sqlite3.Connection, table: str) -> list[str]:
    primary = [r[1] for r in sorted(conn.execute(f"PRAGMA table_info({table})"), key=lambda r: r[5]) if r[5]]
    return primary or ["rowid"]


def _in_dependency_order(conn: sqlite3.Connection, tables: list[str]) -> list[str]:
    """Parents before children (foreign keys), so every row's references exist when it arrives."""
    parents = {t: {r[2] for r in conn.execute(f"PRAGMA foreign_key_list({t})") if r[2] != t} for t in tables}
    ordered: list[str] = []
    while len(ordered) < len(tables):
        ready = [t for t in tables if t not in ordered and parents[t] <= set(ordered)]
        if not ready:
            raise RuntimeError(f"foreign keys form a cycle among {sorted(set(tables) - set(ordered))}")
        ordered += sorted(ready)
    return ordered


def _normal(value) -> str:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "b" + bytes(value).hex()
    if isinstance(value, float):
        return "f" + repr(value)
    if isinstance(value, bool):
        return "i" + str(int(value))
    if isinstance(value, int):
        return "i" + str(value)
    return "n" if value is None else "s" + str(value)


def _checksum(conn, table: str, columns: list[str]) -> tuple[int, str]:
    """(rows, a checksum of every row): the sum of each row's SHA-256, so the order rows come in
    (text sorts differently on the two engines) does not matter, and every value does."""
    total, count = 0, 0
    cursor = conn.execute(f"SELECT {', '.join(columns)} FROM {table}")
    while rows := cursor.fetchmany(PAGE):
        for row in rows:
            text = "\x1f".join(_normal(v) for v in tuple(row)).encode()
            total = (total + int.from_bytes(hashlib.sha256(text).digest(), "big")) % (1 << 256)
            count += 1
    return count, f"{total:064x}"


def refuse_if_in_use(conn: sqlite3.Connection, stale_after_s: float = 10.0) -> None:
    live = workers.live_workers(conn, time.time(), stale_after_s)
    if live:
        raise Conflict(f"a worker is using the source database ({live[0].worker_id} on {live[0].host}, "
                       "heartbeat just now): stop it, then copy (the API may stay up but should not take "
                       "writes during the copy)", {"workers": [w.worker_id for w in live]})


def _refuse_non_empty(target, tables: list[str]) -> None:
    filled = [t for t in tables if target.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() is not None]
    if filled:
        raise Conflict(f"the target database is not empty ({', '.join(filled[:5])}…): copy into a new, empty "
                       "database", {"tables_with_rows": filled})


def copy_database(source_path: str, target_url: str) -> CopyReport:
    from store.db import open_database

    if not is_postgres_url(target_url):
        raise InvalidArgument("copy-to takes a postgresql:// URL (the database to move to)",
                              {"fields": {"target": ["postgresql://user:password@host:5432/database"]}})
    started = time.monotonic()
    source_db = Database(source_path)
    source = source_db.connection()
    migrate(source)
    refuse_if_in_use(source)
    target_db = open_database(target_url)
    try:
        target = target_db.connection()
        migrate(target)
        if current_version(source) != current_version(target) != LATEST_VERSION:
            raise Conflict("source and target are at different schema versions", {})
        tables = _in_dependency_order(source, _tables(source))
        _refuse_non_empty(target, tables)
        report = CopyReport(source=source_path, target=target_db.path, schema_version=LATEST_VERSION)
        with write_transaction(target):
            for table in tables:
                target.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            for table in tables:
                report.tables[table] = {"rows": _copy_table(source, target, table)}
                report.rows += report.tables[table]["rows"]
            for table in tables:
                if "seq" in _columns(source, table):
                    target.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'seq'),"
                                   f" GREATEST((SELECT COALESCE(MAX(seq), 0) FROM {table}), 1))").fetchall()
                target.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        report.verified = _verify(source, target, tables, report)
        report.seconds = round(time.monotonic() - started, 1)
        return report
    finally:
        target_db.dispose()
        source_db.close()


def _copy_table(source: sqlite3.Connection, target, table: str) -> int:
    columns = _columns(source, table)
    key = _key(source, table)
    placeholders = ", ".join("?" * len(columns))
    insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
    cursor = source.execute(f"SELECT {', '.join(columns)} FROM {table} ORDER BY {', '.join(key)}")
    copied = 0
    while rows := cursor.fetchmany(PAGE):
        target.executemany(insert, [tuple(row) for row in rows])
        copied += len(rows)
    return copied


def _verify(source, target, tables: list[str], report: CopyReport) -> bool:
    ok = True
    for table in tables:
        columns = _columns(source, table)
        mine, theirs = _checksum(source, table, columns), _checksum(target, table, columns)
        report.tables[table].update(checksum=mine[1], target_rows=theirs[0], matches=mine == theirs)
        ok = ok and mine == theirs
    return ok
