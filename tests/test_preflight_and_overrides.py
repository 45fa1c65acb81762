"""Normal-run preflight (503, nothing written), the overrides policy, and secret hygiene."""
import json
from pathlib import Path

import pytest

from core.kb_folder import LIGHTRAG_MARKERS
from tests.backends import everything_stored

SECRET = "sk-test-DO-NOT-LEAK-4242"
NORMAL = {"user_request": "Cu/Mo", "dry_run": False}


def _kb(root: Path, name: str) -> str:
    directory = root / name
    directory.mkdir(parents=True)
    for marker in LIGHTRAG_MARKERS:
        (directory / marker).write_text("{}")
    return str(directory)


def _batches(client):
    return client.get("/api/v1/batches").get_json()["items"]


def test_missing_dependencies_are_all_listed_and_nothing_is_written(make_app, tmp_path):
    client = make_app(LIGHTRAG_KB_PRINCIPLES_DIR=str(tmp_path / "absent")).test_client()
    reply = client.post("/api/v1/batches", json=NORMAL)
    assert reply.status_code == 503
    error = reply.get_json()["error"]
    assert error["code"] == "dependency_unavailable"
    assert set(error["details"]["missing"]) == {"OPENAI_API_KEY", "LIGHTRAG_KB_PRINCIPLES_DIR",
                                                "LIGHTRAG_KB_MODULATION_DIR"}
    assert "does not exist" in error["details"]["reasons"]["LIGHTRAG_KB_PRINCIPLES_DIR"]
    assert _batches(client) == []


def test_a_directory_that_is_not_a_lightrag_kb_is_reported(make_app, tmp_path):
    (tmp_path / "empty").mkdir()
    client = make_app(OPENAI_API_KEY=SECRET, LIGHTRAG_KB_PRINCIPLES_DIR=str(tmp_path / "empty"),
                      LIGHTRAG_KB_MODULATION_DIR=_kb(tmp_path, "mod")).test_client()
    error = client.post("/api/v1/batches", json=NORMAL).get_json()["error"]
    assert error["details"]["missing"] == ["LIGHTRAG_KB_PRINCIPLES_DIR"]
    assert "not a LightRAG working directory" in error["details"]["reasons"]["LIGHTRAG_KB_PRINCIPLES_DIR"]


def test_dry_runs_need_no_dependencies(make_app):
    assert make_app().test_client().post(
        "/api/v1/batches", json={**NORMAL, "dry_run": True}).status_code == 201


def test_with_everything_present_a_normal_run_is_queued_without_its_secret(make_app, tmp_path):
    app = make_app(OPENAI_API_KEY=SECRET, OPENAI_BASE_URL="https://user:pw@llm.example/v1",
                   LIGHTRAG_KB_PRINCIPLES_DIR=_kb(tmp_path, "pri"), LIGHTRAG_KB_MODULATION_DIR=_kb(tmp_path, "mod"))
    client = app.test_client()
    reply = client.post("/api/v1/batches", json=NORMAL)
    assert reply.status_code == 201
    snapshot = reply.get_json()["batch"]["config_snapshot"]
    assert snapshot["mode"] == "normal" and snapshot["run"]["llm_api_key_env"] == "OPENAI_API_KEY"
    assert snapshot["run"]["llm_base_url"] == "https://llm.example/v1"
    dumped = everything_stored(app.extensions["c2xc"].database.target)
    assert SECRET.encode() not in dumped and b"user:pw" not in dumped


@pytest.mark.parametrize("overrides, env, field", [
    ({"llm_model": "qwen-max"}, {}, "overrides.llm_model"),
    ({"openai_api_base": "http://evil.example/v1"}, {"C2XC_ALLOWED_OVERRIDES": "openai_api_base"},
     "overrides.openai_api_base"),
    ({"kb_principles_dir": "/etc"}, {"C2XC_ALLOWED_OVERRIDES": "kb_principles_dir",
                                     "C2XC_ALLOWED_KB_ROOTS": "/srv/kbs"}, "overrides.kb_principles_dir"),
])
def test_overrides_are_refused_unless_the_operator_allows_them(make_app, overrides, env, field):
    client = make_app(**env).test_client()
    reply = client.post("/api/v1/batches", json={**NORMAL, "dry_run": True, "overrides": overrides})
    assert reply.status_code == 422
    assert field in reply.get_json()["error"]["details"]["fields"]


def test_allowed_overrides_are_applied_and_recorded(make_app, tmp_path):
    kb = _kb(tmp_path / "kbs", "alt")
    client = make_app(C2XC_ALLOWED_OVERRIDES="llm_model,openai_api_base,kb_principles_dir",
                      C2XC_ALLOWED_LLM_BASE_URLS="http://127.0.0.1:9999/v1",
                      C2XC_ALLOWED_KB_ROOTS=str(tmp_path / "kbs")).test_client()
    overrides = {"llm_model": "qwen-max", "openai_api_base": "http://127.0.0.1:9999/v1/",
                 "kb_principles_dir": kb}
    reply = client.post("/api/v1/batches", json={**NORMAL, "dry_run": True, "overrides": overrides})
    assert reply.status_code == 201, reply.get_json()
    run = reply.get_json()["batch"]["config_snapshot"]["run"]
    assert (run["llm_model"], run["kb_principles_dir"]) == ("qwen-max", kb)
    assert run["llm_base_url"] == "http://127.0.0.1:9999/v1/"


def test_debug_endpoints_exist_only_when_enabled_and_hide_secrets(make_app, backend):
    assert make_app().test_client().get("/api/v1/_debug/config").status_code == 404
    client = make_app(C2XC_ENABLE_DEBUG_ENDPOINTS="1", OPENAI_API_KEY=SECRET).test_client()
    config = client.get("/api/v1/_debug/config")
    assert config.status_code == 200 and config.get_json()["llm_api_key_set"] is True
    assert SECRET not in json.dumps(config.get_json())
    facts = client.get("/api/v1/_debug/db").get_json()
    assert facts["backend"] == backend.name
    assert facts["journal_mode"] == (None if backend.is_postgres else "wal")
    assert facts["row_counts"]["batches"] == 0 and "secret" not in facts["path"]


def test_a_kb_built_with_another_embedding_is_refused_at_submit_time(make_app, tmp_path):
    principles = _kb(tmp_path, "pri")
    (Path(principles) / "c2xc_kb.json").write_text(json.dumps(
        {"embedding": {"model": "bge-m3", "dim": 1024}}))
    client = make_app(OPENAI_API_KEY=SECRET, C2XC_EMBEDDING_MODEL="text-embedding-v3",
                      C2XC_EMBEDDING_DIM="1536", LIGHTRAG_KB_PRINCIPLES_DIR=principles,
                      LIGHTRAG_KB_MODULATION_DIR=_kb(tmp_path, "mod")).test_client()
    reply = client.post("/api/v1/batches", json=NORMAL)
    assert reply.status_code == 503
    reason = reply.get_json()["error"]["details"]["reasons"]["LIGHTRAG_KB_PRINCIPLES_DIR"]
    assert "built with embedding model 'bge-m3' (dimension 1024)" in reason
