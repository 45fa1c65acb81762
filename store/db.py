"""Connections, pragmas and transactions: how the database is configured, in one place.

Rules this module enforces for everybody:

* WAL journal, ``synchronous=NORMAL`` (durable across process crashes, at most
  the last commits lost on power loss), ``foreign_keys=ON`` and a busy timeout.
* Connections run in autocommit mode; a write opens ``BEGIN IMMEDIATE`` so it
  takes the write lock up front and can never fail half-way with "database is
  locked" after it has read.
* One connection per thread and per process. :class:`Database` hands each
  thread its own and opens a fresh one after a fork, so a connection is never
  shared across processes.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Iterator

from core.errors import DependencyUnavailable

BUSY_TIMEOUT_MS = 10_000

PRAGMAS = (
    ("busy_timeout", str(BUSY_TIMEOUT_MS)),
    ("synchronous", "NORMAL"),
    ("foreign_keys", "ON"),
    ("cache_size", "-16000"),  # 16 MB page cache per connection
    ("temp_store", "MEMORY"),
)


def _enable_wal(conn: sqlite3.Connection, path: str) -> None:
    """Switch to WAL once per database file.

    The switch needs an exclusive lock for which SQLite may not wait on its
    busy handler, so two processes opening a fresh file at the same moment
    retry briefly instead of failing with "database is locked".
    """
    for attempt in range(100):
        try:
            mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower()
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            time.sleep(min(0.005 * (attempt + 1), 0.1))
    else:
        raise DependencyUnavailable(f"could not switch {path} to WAL: it stays locked",
                                    {"missing": ["database"]})
    if mode not in ("wal", "memory"):
        raise DependencyUnavailable(f"{path} cannot use WAL (journal_mode={mode})",
                                    {"missing": ["database"]})


def connect(path: str) -> sqlite3.Connection:
    """Open one configured connection; create the directory on demand."""
    if path != ":memory:":
        parent = Path(path).expanduser().resolve().parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DependencyUnavailable(
                f"cannot create the database directory {parent}: {exc.strerror}",
                {"missing": ["database_directory"]},
            ) from exc
    try:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=True,
                               timeout=BUSY_TIMEOUT_MS / 1000)
        conn.row_factory = sqlite3.Row
        for name, value in PRAGMAS:
            conn.execute(f"PRAGMA {name}={value}")
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            _enable_wal(conn, path)
    except sqlite3.DatabaseError as exc:
        raise DependencyUnavailable(
            f"cannot open the database at {path}: {exc}", {"missing": ["database"]}
        ) from exc
    return conn


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Take the write lock first, then run the block atomically."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        # SQLite may already have rolled back (e.g. on SQLITE_FULL); a second
        # ROLLBACK would raise and hide the real error.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error:
        if conn.in_transaction:  # a failed COMMIT (e.g. disk full) leaves it open
            conn.execute("ROLLBACK")
        raise


@contextlib.contextmanager
def read_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One consistent snapshot for several reads (WAL readers never block writers)."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


def data_version(conn: sqlite3.Connection) -> int:
    """Changes whenever *another* connection commits: a cheap "anything new?" check.

    Read from the WAL index in shared memory, no disk I/O, so an idle worker
    can ask it many times a second instead of sleeping through new work.
    """
    return conn.execute("PRAGMA data_version").fetchone()[0]


class Database:
    """A path plus one lazily opened connection per (process, thread)."""

    def __init__(self, path: str):
        self.path = path
        self._local = threading.local()

    def connection(self) -> sqlite3.Connection:
        pid = os.getpid()
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != pid:
            conn = connect(self.path)
            self._local.conn, self._local.pid = conn, pid
        return conn

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            conn.close()
        self._local.conn = None
