"""Property-based tests generated from our own OpenAPI spec (schemathesis), against the real app.

For every documented operation schemathesis generates requests; each
response must not be a 5xx and must match what the spec documents (status
code, content type, body schema, headers). The app runs with every
normal-run dependency present, so a 5xx can only be a bug. "Schema-valid
request accepted" is not required: a cursor is any string to the schema but
only ours decode (400 by design). ``C2XC_FUZZ_EXAMPLES`` raises the number
of cases per operation (default 40).
"""
import atexit
import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from core.kb_folder import LIGHTRAG_MARKERS

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
EXAMPLES = int(os.environ.get("C2XC_FUZZ_EXAMPLES", "40"))
CASES: list[str] = []


def _app_with_every_dependency():
    """The real app on a temporary database, normal-run preflight satisfied."""
    root = Path(tempfile.mkdtemp(prefix="c2xc-fuzz-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    for name in ("pri", "mod"):
        (root / name).mkdir()
        for marker in LIGHTRAG_MARKERS:
            (root / name / marker).write_text("{}")
        (root / name / "c2xc_kb.json").write_text(json.dumps(
            {"embedding": {"model": "text-embedding-v3", "dim": 1024}}))
    from api.app import create_app
    from tests.fake_openai import FakeOpenAI

    embeddings = FakeOpenAI(embedding_dim=1024).__enter__()  # memory notes and searches embed
    atexit.register(embeddings.__exit__, None, None, None)
    with pytest.MonkeyPatch.context() as mp:
        for key, value in {"C2XC_SQLITE_PATH": str(root / "fuzz.db"), "OPENAI_API_KEY": "sk-fuzz",
                           "OPENAI_BASE_URL": embeddings.base_url,
                           "C2XC_EMBEDDING_MODEL": "text-embedding-v3", "C2XC_EMBEDDING_DIM": "1024",
                           "LIGHTRAG_KB_PRINCIPLES_DIR": str(root / "pri"),
                           "LIGHTRAG_KB_MODULATION_DIR": str(root / "mod")}.items():
            mp.setenv(key, value)
        return create_app()


APP = _app_with_every_dependency()
schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)


@pytest.fixture(autouse=True)
def key_present(monkeypatch):
    """The API checks the key at request time; set it only while these tests run."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-fuzz")


@pytest.fixture(scope="module", autouse=True)
def report_case_count():
    yield
    documented = {f"{m.upper()} {p}" for p, ops in APP.test_client().get("/api/v1/openapi.json")
                  .get_json()["paths"].items() for m in ops}
    print(f"\nschemathesis: {len(CASES)} cases; {len(documented & set(CASES))} documented "
          f"operations, {len(set(CASES) - documented)} undocumented method/path pairs probed")


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_operation_honours_its_documented_contract(case):
    CASES.append(f"{case.method} {case.operation.path}")
    case.call_and_validate(checks=CHECKS)


def test_the_spec_lists_every_operation():
    spec = APP.test_client().get("/api/v1/openapi.json").get_json()
    assert sum(len(ops) for ops in spec["paths"].values()) >= 15
