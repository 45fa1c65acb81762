"""The PostgreSQL backend: a pool per process, and connections that look like SQLite's to the store.

Chosen by ``C2XC_DATABASE_URL=postgresql://…`` (SPEC section 13). The store's
modules are written once, against the small surface they already used on
SQLite — ``conn.execute(sql, params)`` returning rows readable by index and
by column name, ``executemany``, ``in_transaction`` — and
:class:`PgConnection` offers exactly that surface over psycopg 3:

* ``?`` placeholders become ``%s`` (and a literal ``%`` becomes ``%%``) once
  per statement text, outside quoted strings. Statements whose *text*
  differs by dialect are named in :mod:`store.dialect`, nowhere else.
* Parameters are bound on the client (``ClientCursor``), as SQLite binds
  them: a parameter never needs a declared type, and ``True`` is stored as 1
  in the integer flag columns the schema shares with SQLite.
* Connections run in autocommit; :func:`store.db.write_transaction` opens a
  READ COMMITTED transaction with a lock timeout and
  :func:`store.db.read_transaction` a REPEATABLE READ, READ ONLY snapshot.
  Correctness under concurrent writers is the store's job (row locks,
  guarded updates, ``ON CONFLICT``), not the isolation level's: see
  docs/ARCHITECTURE.md, "Concurrency".

A :class:`PgDatabase` owns one ``psycopg_pool.ConnectionPool`` per process
(a fork gets a new one). A thread borrows a connection on its first query
and keeps it until :meth:`PgDatabase.release`: the API releases at the end
of every request and between the polls of an event stream, so a waiting
stream never holds a pooled connection; the worker keeps its own.
"""
from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg import ClientCursor, pq
from psycopg.adapt import Dumper
from psycopg_pool import ConnectionPool, PoolTimeout

from core.errors import DependencyUnavailable

LOCK_TIMEOUT_MS = 10_000  # the same bound as SQLite's busy timeout
# A process stopped inside a transaction (SIGSTOP, a paused VM, a debugger) would keep its row
# locks until its TCP connection died, and every writer waiting on them would time out: a frozen
# worker holding its run's row would keep the live workers from failing that run, for good. The
# server ends a session idle in a transaction this long, shorter than a waiter's lock timeout, so
# the waiter gets the lock instead. Our transactions never wait on anything but the database.
IDLE_IN_TRANSACTION_MS = LOCK_TIMEOUT_MS // 2
SESSION_OPTIONS = (f"-c lock_timeout={LOCK_TIMEOUT_MS} -c idle_in_transaction_session_timeout="
                   f"{IDLE_IN_TRANSACTION_MS} -c TimeZone=UTC")
CONNECT_TIMEOUT_S = 5
DEFAULT_POOL_SIZE = 8
# How long a request waits for a pooled connection before its 503. While the server is down every
# borrow waits this long: a chemist's page or a load balancer gives up after a few seconds, so the
# API answers first (C2XC_DB_POOL_TIMEOUT_S); the worker, which has nobody waiting, keeps 10 s.
DEFAULT_POOL_TIMEOUT_S = 10.0


class Row:
    """A result row readable as ``row[0]``, ``row["column"]``, ``row.keys()`` — like ``sqlite3.Row``."""

    __slots__ = ("_index", "_values")

    def __init__(self, values: tuple, index: dict[str, int]):
        self._values, self._index = values, index

    def __getitem__(self, key: int | str | slice) -> Any:
        if isinstance(key, str):
            return self._values[self._index[key]]
        return self._values[key]

    def keys(self) -> list[str]:
        return list(self._index)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Row) and self._values == other._values and self._index == other._index

    def __hash__(self) -> int:
        return hash(self._values)

    def __repr__(self) -> str:
        return f"Row({dict(zip(self._index, self._values))!r})"


def _row_factory(cursor: psycopg.Cursor) -> Any:
    description = cursor.description or ()
    index = {column.name: position for position, column in enumerate(description)}
    return lambda values: Row(tuple(values), index)


@functools.lru_cache(maxsize=2048)
def translate(sql: str) -> str:
    """``?`` → ``%s`` outside quotes; ``%`` → ``%%`` everywhere (psycopg's own placeholder)."""
    out: list[str] = []
    quote: str | None = None
    for char in sql:
        if quote:
            if char == quote:
                quote = None
        elif char in ("'", '"'):
            quote = char
        elif char == "?":
            out.append("%s")
            continue
        out.append("%%" if char == "%" else char)
    return "".join(out)


class _IntFlagDumper(Dumper):
    """Python ``bool`` as 1/0: flag columns are integers on both backends."""

    oid = psycopg.postgres.types["int8"].oid

    def dump(self, obj: bool) -> bytes:
        return b"1" if obj else b"0"


class PgConnection:
    """One psycopg connection with the store's connection surface (see the module docstring)."""

    dialect = "postgres"

    def __init__(self, raw: psycopg.Connection):
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor:
        cursor = self.raw.cursor()
        if params:
            cursor.execute(translate(sql), tuple(params))
        else:  # no parameters: the text goes as written (a % stays a %)
            cursor.execute(sql)
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.raw.cursor() as cursor:
            cursor.executemany(translate(sql), [tuple(row) for row in rows])

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != pq.TransactionStatus.IDLE

    @property
    def broken(self) -> bool:
        return self.raw.closed or self.raw.info.transaction_status == pq.TransactionStatus.UNKNOWN

    def close(self) -> None:
        self.raw.close()


def _configure(raw: psycopg.Connection) -> None:
    raw.cursor_factory = ClientCursor
    raw.row_factory = _row_factory
    raw.adapters.register_dumper(bool, _IntFlagDumper)


def connect_raw(url: str, *, autocommit: bool = True) -> psycopg.Connection:
    """A configured connection outside any pool (LISTEN, migrations, tools, tests)."""
    try:
        raw = psycopg.connect(url, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT_S,
                              options=SESSION_OPTIONS)
    except psycopg.Error as exc:
        raise DependencyUnavailable(f"cannot connect to PostgreSQL at {redact(url)}: "
                                    f"{str(exc).strip().splitlines()[0] if str(exc) else exc!r}",
                                    {"missing": ["database"]}) from exc
    _configure(raw)
    return raw


def connect(url: str) -> PgConnection:
    return PgConnection(connect_raw(url))


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    info = psycopg.conninfo.conninfo_to_dict(url)
    host = info.get("host", "localhost")
    return f"postgresql://{info.get('user', '')}@{host}:{info.get('port', 5432)}/{info.get('dbname', '')}"


@contextlib.contextmanager
def write_transaction(conn: PgConnection) -> Iterator[PgConnection]:
    """READ COMMITTED, with the connection's lock timeout: one short write transaction."""
    conn.raw.execute("BEGIN")
    try:
        yield conn
    except BaseException:
        if not conn.raw.closed:
            conn.raw.execute("ROLLBACK")
        raise
    conn.raw.execute("COMMIT")


@contextlib.contextmanager
def read_transaction(conn: PgConnection) -> Iterator[PgConnection]:
    """One consistent snapshot for several reads, as SQLite's WAL reader gives."""
    conn.raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        yield conn
    finally:
        if not conn.raw.closed and conn.in_transaction:
            conn.raw.execute("COMMIT")


class PgDatabase:
    """A URL plus one pool per process; each thread borrows one connection until it releases it."""

    dialect = "postgres"

    def __init__(self, url: str, pool_size: int = DEFAULT_POOL_SIZE, pool_timeout_s: float = DEFAULT_POOL_TIMEOUT_S):
        self.url, self.path = url, redact(url)
        self.target = url  # what open_database() takes to open this database again
        self.pool_size, self.pool_timeout_s = pool_size, pool_timeout_s
        self._local = threading.local()
        self._pool: ConnectionPool | None = None
        self._pool_pid: int | None = None
        self._pool_lock = threading.Lock()

    def _get_pool(self) -> ConnectionPool:
        pid = os.getpid()
        with self._pool_lock:
            if self._pool is None or self._pool_pid != pid:
                self._pool = ConnectionPool(
                    self.url, min_size=1, max_size=self.pool_size, open=True, name="c2xc",
                    timeout=self.pool_timeout_s, configure=_configure,
                    # one empty round trip per borrow: after a server restart or a dropped link,
                    # the pool hands out a live connection instead of a dead one (a needless 503)
                    check=ConnectionPool.check_connection,
                    kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S,
                            "options": SESSION_OPTIONS})
                self._pool_pid = pid
            return self._pool

    def connection(self, timeout_s: float | None = None) -> PgConnection:
        """This thread's connection; a borrow waits at most ``timeout_s`` (default the pool's), then 503."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            if not conn.broken:
                return conn
            self.release()  # a restart or a network error broke it: the pool discards it
        wait = timeout_s or self.pool_timeout_s
        try:
            raw = self._get_pool().getconn(timeout=wait)
        except PoolTimeout as exc:
            raise DependencyUnavailable(
                f"no database connection free within {wait:g} s "
                f"(pool of {self.pool_size} at {self.path})", {"missing": ["database"]}) from exc
        conn = PgConnection(raw)
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def release(self) -> None:
        """Give this thread's connection back to the pool (rolled back if a transaction was left open)."""
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is None or getattr(self._local, "pid", None) != os.getpid() or self._pool is None:
            return
        self._pool.putconn(conn.raw)

    def close(self) -> None:
        """This thread is done with the database (as SQLite's ``Database.close``): give back its connection."""
        self.release()

    def dispose(self) -> None:
        """The process is done with the database: close every pooled connection."""
        self.release()
        if self._pool is not None and self._pool_pid == os.getpid():
            self._pool.close()
        self._pool = None
