"""Shared fixtures: a migrated store connection, an in-process app, and the real service."""
from __future__ import annotations

import pytest

from store.db import Database
from store.migrations import migrate
from tests.agent_fixtures import SECRET
from tests.agent_script import KB_DOIS, MODULATION_DOCS, PRINCIPLES_DOCS
from tests.fake_openai import FakeOpenAI
from tests.kb_fixtures import build_kb, fake_endpoint_settings
from tests.processes import ServiceProcesses, running_service


@pytest.fixture
def database(tmp_path):
    db = Database(str(tmp_path / "unit.db"))
    migrate(db.connection())
    yield db
    db.close()


@pytest.fixture
def conn(database):
    return database.connection()


@pytest.fixture
def make_app(tmp_path, monkeypatch):
    """Build an in-process app (for unit-level API checks) with the given environment."""
    from api.app import create_app

    def build(**env):
        for name in ("OPENAI_API_KEY", "LIGHTRAG_KB_PRINCIPLES_DIR", "LIGHTRAG_KB_MODULATION_DIR"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("C2XC_SQLITE_PATH", str(tmp_path / "app.db"))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return create_app()
    return build


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    """gunicorn + one worker, real processes on 127.0.0.1, shared by a test module."""
    with running_service(tmp_path_factory.mktemp("service")) as procs:
        yield procs


@pytest.fixture
def service_factory(tmp_path):
    """Processes a test starts and controls itself (crashes, signals, slow runs)."""
    started: list[ServiceProcesses] = []

    def start(**env) -> ServiceProcesses:
        procs = ServiceProcesses(tmp_path / f"svc{len(started)}", env)
        procs.workdir.mkdir()
        started.append(procs)
        procs.start_api()
        return procs
    yield start
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
