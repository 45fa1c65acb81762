"""Helpers for the normal-run tests: the environment of an agent service, submitting, waiting.

The fixtures themselves (``llm``, ``kbs``) are in ``tests/conftest.py``; a
test module starts its own service with :func:`agent_env` and the bounds it
needs.
"""
from __future__ import annotations

from tests.processes import wait_until

SECRET = "sk-test-E2E-SECRET-31337"


def agent_env(llm, kbs, **overrides: str) -> dict[str, str]:
    env = {"OPENAI_API_KEY": SECRET, "OPENAI_BASE_URL": llm.base_url, "C2XC_LLM_MODEL": "fake-qwen",
           "C2XC_EMBEDDING_MODEL": "fake-hash-64", "C2XC_EMBEDDING_DIM": "64",
           "LIGHTRAG_KB_PRINCIPLES_DIR": kbs[0], "LIGHTRAG_KB_MODULATION_DIR": kbs[1],
           "C2XC_LLM_MAX_RETRIES": "2", "C2XC_LLM_TIMEOUT_S": "10", "C2XC_AGENT_MAX_REPAIRS": "1",
           "C2XC_AGENT_MAX_STEPS": "12"}
    env.update(overrides)
    return env


def submit(svc, llm, script, recipes_per_run=3, request="Dual-metal TiO2 for C2H4") -> str:
    llm.script = list(script)
    llm.requests.clear()
    created = svc.post("/batches", json={"user_request": request, "recipes_per_run": recipes_per_run})
    assert created.status_code == 201, created.text
    return created.json()["runs"][0]["run_id"]


def finished(svc, run_id, timeout=60):
    return wait_until(lambda: (r := svc.run(run_id))["status"] in ("completed", "failed", "canceled") and r,
                      timeout, message=f"run {run_id} to finish")
