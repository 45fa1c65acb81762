"""Which database a test runs on: SQLite (a file in the test's directory) or PostgreSQL.

Every test that asks for a database, an app or the service runs twice, once
per backend (SPEC 13: the store, API and worker suites run on both). A test
of something only SQLite has (the file, WAL, PRAGMAs, ``backup``) is marked
``sqlite_only`` and runs once; what is about several hosts sharing one
server (tests/test_multi_host.py) is ``postgres_only``. The PostgreSQL cluster is one throwaway server
per test session (tests/postgres_server.py); each test gets a fresh database
copied from a template migrated once. Locally, a machine without the server
skips the PostgreSQL variants with one line; CI sets
``C2XC_REQUIRE_POSTGRES=1`` and a missing server fails.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from store.db import open_database
from store.migrations import migrate
from tests.postgres_server import PostgresCluster, server_binaries

SQLITE, POSTGRES = "sqlite", "postgres"
TEMPLATE = "c2xc_template"


def backends_for(item_markers) -> list[str]:
    names = {m.name for m in item_markers}
    if "sqlite_only" in names:
        return [SQLITE]
    return [POSTGRES] if "postgres_only" in names else [SQLITE, POSTGRES]


def cluster_or_skip() -> PostgresCluster:
    """Start the session's cluster with a migrated template database, or skip (fail in CI)."""
    if server_binaries() is None:
        why = "postgres tests need a PostgreSQL server (make postgres installs Debian's postgresql)"
        if os.environ.get("C2XC_REQUIRE_POSTGRES") == "1":
            pytest.fail(why + "; C2XC_REQUIRE_POSTGRES=1 makes it required")
        pytest.skip(why)
    cluster = PostgresCluster().start()
    with cluster.admin() as admin:
        admin.execute(f'CREATE DATABASE "{TEMPLATE}"')
    db = open_database(cluster.url(TEMPLATE))
    try:
        migrate(db.connection())
    finally:
        db.dispose()
    return cluster


class BackendChoice:
    """One backend for one test module: hands out fresh databases and drops them afterwards."""

    def __init__(self, name: str, cluster: PostgresCluster | None):
        self.name, self.cluster = name, cluster

    @property
    def is_postgres(self) -> bool:
        return self.name == POSTGRES

    @contextmanager
    def fresh(self, sqlite_path: Path) -> Iterator[str]:
        """A migrated, empty database's target (a PostgreSQL URL or ``sqlite_path``), dropped after."""
        if not self.is_postgres:
            yield str(sqlite_path)
            return
        name = self.cluster.create_database(template=TEMPLATE)
        try:
            yield self.cluster.url(name)
        finally:
            self.cluster.drop_database(name)

    def service_env(self, target: str) -> dict[str, str]:
        """The environment that points the API and the workers at ``target``."""
        return {"C2XC_DATABASE_URL": target} if self.is_postgres else {"C2XC_SQLITE_PATH": target}


@contextmanager
def target_connection(target: str) -> Iterator:
    """A connection of the test's own to ``target`` (either backend), closed afterwards."""
    db = open_database(target)
    try:
        yield db.connection()
    finally:
        db.dispose()


def app_connection(app):
    """A connection of the test's own to the database an in-process app uses."""
    return target_connection(app.extensions["c2xc"].database.target)


def everything_stored(target: str) -> bytes:
    """Every byte the database holds, to prove a secret is not among them.

    SQLite: the file and its WAL as they are on disk. PostgreSQL: every row of
    every table of ours, as text (a secret stored anywhere shows up in it).
    """
    if not target.startswith(("postgres://", "postgresql://")):
        wal = Path(target + "-wal")
        return Path(target).read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    import psycopg
    with psycopg.connect(target) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return b"\n".join(str(row[0]).encode() for table in tables
                          for row in conn.execute(f'SELECT t::text FROM "{table}" t'))
