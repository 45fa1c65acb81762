"""Connections, pragmas and transactions: how the database is configured, in one place.

Rules this module enforces for everybody:

* WAL journal, ``synchronous=NORMAL`` (durable across process crashes, at most
  the last commits lost on power loss), ``foreign_keys=ON`` and a busy timeout.
* Connections run in autocommit mode; a write opens ``BEGIN IMMEDIATE`` so it
  takes the write lock up front and can never fail half-way with "database is
  locked" after it has read.
* A writer waits for the lock in short, jittered steps (:func:`begin_immediate`),
  not with SQLite's busy handler, whose sleeps grow to 25-100 ms: against a
  worker that commits hundreds of short transactions a second, those long
  sleeps miss every gap between them and the API's writes starve.
* One connection per thread and per process. :class:`Database` hands each
  thread its own and opens a fresh one after a fork, so a connection is never
  shared across processes.

This module is also the seam between the two backends: :func:`open_database`
picks SQLite (a path, the default) or PostgreSQL (``postgresql://…``, see
:mod:`store.postgres`), and :func:`write_transaction`,
:func:`read_transaction`, :func:`change_marker` and :func:`database_now`
work on a connection of either kind.
"""
from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg

from core.errors import DependencyUnavailable
from store import dialect, lock_stats, postgres

# What a database failure looks like, from either backend: callers that retry or map to 503
# catch this tuple, never one engine's exceptions.
DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error)
# A constraint violation on either backend: a concurrent writer won a race.
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (sqlite3.IntegrityError, psycopg.IntegrityError)

BUSY_TIMEOUT_MS = 10_000
# How a writer waits for the write lock: first try at once, then retry after
# sleeps growing from WAIT_FIRST_S to WAIT_LONGEST_S (jittered so that
# waiting writers do not retry in step), until BUSY_TIMEOUT_MS has passed.
WAIT_FIRST_S, WAIT_LONGEST_S = 0.0001, 0.002
_STATS = lock_stats.from_environment()

PRAGMAS = (
    ("busy_timeout", str(BUSY_TIMEOUT_MS)),
    ("synchronous", "NORMAL"),
    ("foreign_keys", "ON"),
    ("temp_store", "MEMORY"),
)
# SQLite's page cache belongs to each connection and keeps every page read, up
# to its size: a process's memory grows toward (threads with a connection) x
# this. The worker has a few threads and reads a run's trace back; the API has
# up to C2XC_WEB_THREADS (40) threads per process answering page-sized index
# lookups, which the OS's file cache serves nearly as fast.
WORKER_CACHE_MB, API_CACHE_MB = 16, 4


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


class GatedConnection(sqlite3.Connection):
    """A connection that knows its file's writer gate (see :func:`writer_gate`)."""

    writer_gate: threading.Lock | None = None
    dialect = dialect.SQLITE


_GATES: dict[str, threading.Lock] = {}
_GATES_LOCK = threading.Lock()


def writer_gate(path: str) -> threading.Lock:
    """One lock per database file per process, taken before ``BEGIN IMMEDIATE``.

    Threads of one process (the API's request threads, the worker's run and
    heartbeat threads) queue on it and are handed the turn the moment the
    previous writer commits, instead of each polling SQLite's lock; only
    writers in other processes are left to poll. A child process after a
    fork starts with fresh gates, never one a parent thread held.
    """
    key = path if path == ":memory:" else str(Path(path).expanduser().resolve())
    with _GATES_LOCK:
        return _GATES.setdefault(key, threading.Lock()) if key != ":memory:" else threading.Lock()


def _forget_gates() -> None:
    global _GATES_LOCK
    _GATES.clear()
    _GATES_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_forget_gates)


def _refuse_url(path: str) -> None:
    """A URL is never a file name (a test once made a directory named "postgresql:" this way)."""
    if is_postgres_url(path):
        raise ValueError("a postgresql:// URL needs open_database(), not a SQLite file")


def connect(path: str, cache_mb: int = WORKER_CACHE_MB) -> sqlite3.Connection:
    """Open one configured connection; create the directory on demand."""
    _refuse_url(path)
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
                               timeout=BUSY_TIMEOUT_MS / 1000, factory=GatedConnection)
        conn.writer_gate = writer_gate(path)
        conn.row_factory = sqlite3.Row
        if conn.execute("PRAGMA page_count").fetchone()[0] == 0:
            # a new file: let retention give freed pages back to the disk in small steps
            # (PRAGMA incremental_vacuum); this can only be chosen before the first table
            conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        for name, value in PRAGMAS:
            conn.execute(f"PRAGMA {name}={value}")
        conn.execute(f"PRAGMA cache_size=-{cache_mb * 1000}")  # negative: in KiB
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            _enable_wal(conn, path)
    except sqlite3.DatabaseError as exc:
        raise DependencyUnavailable(
            f"cannot open the database at {path}: {exc}", {"missing": ["database"]}
        ) from exc
    return conn


def _is_busy(error: sqlite3.OperationalError) -> bool:
    return getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY or \
        "database is locked" in str(error)


def begin_immediate(conn: sqlite3.Connection, timeout_s: float = BUSY_TIMEOUT_MS / 1000) -> None:
    """``BEGIN IMMEDIATE``, waiting for the write lock in short steps.

    SQLite's own busy handler is switched off for this one statement (the
    connection keeps it for reads, which in WAL mode almost never wait) and
    the lock is retried after 0.1 ms, then sleeps doubling to 2 ms with
    jitter. A retry costs a few microseconds, so waiting writers take the lock
    within about a millisecond of it being free instead of tens.
    """
    conn.execute("PRAGMA busy_timeout=0")
    try:
        deadline = time.monotonic() + timeout_s
        delay = WAIT_FIRST_S
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or time.monotonic() >= deadline:
                    raise
            time.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, WAIT_LONGEST_S)
    finally:
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


@contextlib.contextmanager
def _gate(conn: sqlite3.Connection, timeout_s: float) -> Iterator[None]:
    gate = getattr(conn, "writer_gate", None)
    if gate is None:
        yield
        return
    if not gate.acquire(timeout=timeout_s):
        raise sqlite3.OperationalError("database is locked (another thread of this process "
                                       "held the write turn too long)")
    try:
        yield
    finally:
        gate.release()


@contextlib.contextmanager
def write_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Take this process's write turn, then the write lock, then run the block atomically.

    On PostgreSQL: a READ COMMITTED transaction with a lock timeout; other
    writers run beside it, and the store's row locks (:mod:`store.dialect`)
    order the ones that touch the same rows.
    """
    if dialect.is_postgres(conn):
        with postgres.write_transaction(conn):
            yield conn
        return
    asked = time.perf_counter()
    timeout_s = BUSY_TIMEOUT_MS / 1000
    with _gate(conn, timeout_s):
        begin_immediate(conn, timeout_s - (time.perf_counter() - asked))
        locked = time.perf_counter()
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
    if _STATS is not None:
        _STATS.record(lock_stats.caller_name(2), locked - asked, time.perf_counter() - locked)


@contextlib.contextmanager
def read_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One consistent snapshot for several reads (WAL readers never block writers)."""
    if dialect.is_postgres(conn):
        with postgres.read_transaction(conn):
            yield conn
        return
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


def change_marker(conn: sqlite3.Connection) -> int:
    """Changes when another connection committed something a waiting reader may want.

    On SQLite, ``PRAGMA data_version``: read from the WAL index in shared
    memory, no disk I/O, so an idle worker or the API's stream watcher can
    ask it many times a second. On PostgreSQL, the newest event's ``seq``
    (one step down the primary key); the worker waits on LISTEN/NOTIFY
    instead (:mod:`store.wakeups`).
    """
    return conn.execute(dialect.sql(conn, "change_marker")).fetchone()[0]


def database_now(conn: sqlite3.Connection) -> float:
    """The database's clock (epoch seconds), which every host's leases are compared on.

    SQLite lives on the one host that uses it, so its clock is this host's.
    """
    statement = dialect.sql(conn, "database_now")
    return time.time() if statement is None else float(conn.execute(statement).fetchone()[0])


def is_postgres_url(target: str) -> bool:
    return target.startswith(("postgresql://", "postgres://"))


def open_database(target: str, cache_mb: int = WORKER_CACHE_MB, pool_size: int | None = None,
                  pool_timeout_s: float | None = None) -> Database | postgres.PgDatabase:
    """A SQLite file path, or a ``postgresql://`` URL (SPEC 13)."""
    if is_postgres_url(target):
        return postgres.PgDatabase(target, pool_size or postgres.DEFAULT_POOL_SIZE,
                                   pool_timeout_s or postgres.DEFAULT_POOL_TIMEOUT_S)
    return Database(target, cache_mb)


class Database:
    """A path plus one lazily opened connection per (process, thread)."""

    dialect = dialect.SQLITE

    def __init__(self, path: str, cache_mb: int = WORKER_CACHE_MB):
        _refuse_url(path)
        self.path, self.cache_mb = path, cache_mb
        self.target = path  # what open_database() takes to open this database again
        self._local = threading.local()

    def connection(self, timeout_s: float | None = None) -> sqlite3.Connection:
        """This thread's connection (``timeout_s`` is PostgreSQL's pool wait; opening a file does not wait)."""
        pid = os.getpid()
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != pid:
            conn = connect(self.path, self.cache_mb)
            self._local.conn, self._local.pid = conn, pid
        return conn

    def release(self) -> None:
        """Nothing to give back: a SQLite connection costs nothing while idle (see PgDatabase)."""

    def dispose(self) -> None:
        """The process is done with the database (PostgreSQL closes its pool here)."""
        self.close()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            conn.close()
        self._local.conn = None
