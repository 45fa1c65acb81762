"""A bad setting stops a process with one clear line naming it, never a traceback."""
import subprocess
import sys

import pytest

from tests.processes import REPO


@pytest.mark.parametrize("variable, value", [("C2XC_WORKER_POLL_S", "soon"),
                                             ("C2XC_LOG_LEVEL", "chatty")])
def test_bad_configuration_is_reported_not_raised(tmp_path, variable, value):
    done = subprocess.run([sys.executable, "-m", "worker", "--once", "--db", str(tmp_path / "x.db")],
                          cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", variable: value})
    assert done.returncode == 2
    assert variable in done.stderr and "Traceback" not in done.stderr


def test_gunicorn_refuses_a_bad_port_with_one_line(tmp_path):
    done = subprocess.run([sys.executable, "-m", "gunicorn", "-c", str(REPO / "api" / "gunicorn_conf.py"),
                           "api.wsgi:app"], cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "PORT": "eighty",
                               "C2XC_SQLITE_PATH": str(tmp_path / "x.db")})
    assert done.returncode != 0
    assert "PORT/C2XC_PORT='eighty' is not a TCP port" in done.stderr
    assert "Traceback" not in done.stderr



def test_the_default_endpoint_serves_the_default_models(monkeypatch):
    from core.llm_providers import provider_for
    from core.settings import load_run_settings
    for name in ("OPENAI_BASE_URL", "C2XC_LLM_MODEL", "C2XC_EMBEDDING_MODEL", "C2XC_EMBEDDING_DIM",
                 "C2XC_EMBEDDING_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = load_run_settings()
    provider = provider_for(settings.llm_base_url)
    assert provider is not None and settings.llm_model in provider.chat_models
    assert (settings.embedding_model, settings.embedding_dim) == provider.embedding
    assert settings.embedding_base_url == settings.llm_base_url


def test_a_worker_names_its_host_as_configured(monkeypatch, tmp_path):
    """Only the pid check of workers on the same host: a name per host keeps leases the judge."""
    from core.settings import load_run_settings, load_worker_settings
    from store.db import Database
    from store.workers import latest_worker
    from worker.loop import Worker
    monkeypatch.setenv("C2XC_WORKER_HOST", "lab-node-2")
    worker = Worker(Database(str(tmp_path / "w.db")), load_worker_settings(), load_run_settings())
    worker.start()
    try:
        assert latest_worker(worker.conn).host == "lab-node-2"
    finally:
        worker.shutdown()
    monkeypatch.delenv("C2XC_WORKER_HOST")
    import socket
    assert load_worker_settings().host == socket.gethostname()
