"""How writers wait for SQLite's write lock: short steps across processes, turns within one."""
import sqlite3
import threading
import time

import pytest

from store.db import BUSY_TIMEOUT_MS, begin_immediate, connect, write_transaction

pytestmark = pytest.mark.sqlite_only  # SQLite's one write lock; PostgreSQL's row locks: test_concurrency.py


def _busy_timeout(conn) -> int:
    return conn.execute("PRAGMA busy_timeout").fetchone()[0]


def test_a_waiting_writer_takes_the_lock_soon_after_it_is_freed(database):
    holder = connect(database.path)
    holder.execute("BEGIN IMMEDIATE")
    took = threading.Event()
    timeouts = []

    def write():
        waiter = connect(database.path)  # a connection belongs to its thread
        with write_transaction(waiter):
            took.set()
        timeouts.append(_busy_timeout(waiter))

    thread = threading.Thread(target=write)
    thread.start()
    assert not took.wait(0.3)  # still held: it waits
    released = time.monotonic()
    holder.execute("ROLLBACK")
    assert took.wait(5)
    thread.join(5)
    assert time.monotonic() - released < 5  # promptly, long before its 10 s timeout (speed: bench/busy_writes.py)
    assert timeouts == [BUSY_TIMEOUT_MS]  # reads keep SQLite's own patience


def test_a_writer_gives_up_with_database_is_locked_after_its_timeout(database):
    holder, waiter = connect(database.path), connect(database.path)
    holder.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            begin_immediate(waiter, timeout_s=0.2)
        assert 0.2 <= time.monotonic() - started < 2
        assert not waiter.in_transaction and _busy_timeout(waiter) == BUSY_TIMEOUT_MS
    finally:
        holder.execute("ROLLBACK")


def test_threads_of_one_process_take_turns_and_every_write_lands(database):
    """Eight threads writing at once through their own connections: no error, nothing lost."""
    def writer(n: int):
        conn = connect(database.path)
        for i in range(25):
            with write_transaction(conn):
                conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (f"t{n}-{i}", "x"))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    conn = connect(database.path)
    assert conn.execute("SELECT COUNT(*) FROM meta WHERE key LIKE 't%'").fetchone()[0] == 200
