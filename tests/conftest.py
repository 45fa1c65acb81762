"""Shared fixtures: a migrated store connection, an in-process app, and the real service.

Each of them runs on both backends (tests/backends.py): the ``backend``
fixture is parametrized per module, SQLite first, so a module's service is
started once per backend.
"""
from __future__ import annotations

from contextlib import ExitStack

import pytest

from store.db import open_database
from store.migrations import migrate
from tests.agent_fixtures import SECRET
from tests.agent_script import KB_DOIS, MODULATION_DOCS, PRINCIPLES_DOCS
from tests.backends import POSTGRES, BackendChoice, backends_for, cluster_or_skip
from tests.fake_openai import FakeOpenAI
from tests.kb_fixtures import build_kb, fake_endpoint_settings
from tests.processes import ServiceProcesses, running_service


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", backends_for(metafunc.definition.iter_markers()),
                             indirect=True, scope="module")


@pytest.fixture(scope="session")
def pg_cluster():
    """One throwaway PostgreSQL server for the whole session (skips locally when none is installed)."""
    cluster = cluster_or_skip()
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def backend(request) -> BackendChoice:
    cluster = request.getfixturevalue("pg_cluster") if request.param == POSTGRES else None
    return BackendChoice(request.param, cluster)


@pytest.fixture
def database_target(backend, tmp_path):
    """A fresh, migrated (PostgreSQL) or not yet created (SQLite) database for one test."""
    with backend.fresh(tmp_path / "unit.db") as target:
        yield target


@pytest.fixture
def database(database_target):
    db = open_database(database_target)
    migrate(db.connection())
    yield db
    db.dispose()


@pytest.fixture
def conn(database):
    return database.connection()


@pytest.fixture
def make_app(tmp_path, monkeypatch, backend):
    """Build an in-process app (for unit-level API checks) with the given environment."""
    from api.app import create_app

    databases = ExitStack()

    def build(**env):
        for name in ("OPENAI_API_KEY", "LIGHTRAG_KB_PRINCIPLES_DIR", "LIGHTRAG_KB_MODULATION_DIR",
                     "C2XC_DATABASE_URL"):
            monkeypatch.delenv(name, raising=False)
        target = databases.enter_context(backend.fresh(tmp_path / "app.db"))
        for name, value in {**backend.service_env(target), **env}.items():
            monkeypatch.setenv(name, value)
        app = create_app()
        databases.callback(app.extensions["c2xc"].database.dispose)
        return app
    with databases:
        yield build


@pytest.fixture
def client(make_app):
    """A test client of an in-process app on this module's backend."""
    return make_app().test_client()


@pytest.fixture
def app_db(client):
    """The test's own connection to that app's database."""
    from tests.backends import app_connection

    with app_connection(client.application) as conn:
        yield conn


@pytest.fixture(scope="module")
def service(tmp_path_factory, backend):
    """gunicorn + one worker, real processes on 127.0.0.1, shared by a test module."""
    workdir = tmp_path_factory.mktemp("service")
    with backend.fresh(workdir / "service.db") as target:
        with running_service(workdir, backend.service_env(target)) as procs:
            yield procs


@pytest.fixture
def service_factory(tmp_path, backend):
    """Processes a test starts and controls itself (crashes, signals, slow runs)."""
    started: list[ServiceProcesses] = []
    with ExitStack() as databases:
        def start(**env) -> ServiceProcesses:
            workdir = tmp_path / f"svc{len(started)}"
            workdir.mkdir()
            target = databases.enter_context(backend.fresh(workdir / "service.db"))
            procs = ServiceProcesses(workdir, {**backend.service_env(target), **env})
            started.append(procs)
            procs.start_api()
            return procs
        try:
            yield start
        finally:
            for procs in started:
                procs.stop_all()


@pytest.fixture(scope="module")
def fake_llm():
    """The fake OpenAI-compatible server on 127.0.0.1 (64-dim embeddings), one per test module."""
    with FakeOpenAI(embedding_dim=64) as server:
        yield server


@pytest.fixture(scope="module")
def llm(fake_llm):
    return fake_llm


@pytest.fixture(scope="module")
def kbs(llm, tmp_path_factory):
    """Two real knowledge bases (tests/agent_script.py's documents) built by the real builder."""
    settings = fake_endpoint_settings(llm)
    root = tmp_path_factory.mktemp("kbs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OPENAI_API_KEY", SECRET)
        return (build_kb(root / "principles", PRINCIPLES_DOCS, settings, KB_DOIS, fake=llm),
                build_kb(root / "modulation", MODULATION_DOCS, settings, KB_DOIS, fake=llm))
