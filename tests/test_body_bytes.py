"""Any bytes a client can send get an answer, never a 500: bodies, the Last-Event-ID header, query strings.

Schema-driven fuzzing (test_contract_fuzzing.py) generates values that fit
the schema, so it cannot produce a body nested 10,000 deep, a lone
surrogate, ``1e400``, a BOM or broken UTF-8. Here hypothesis generates raw
text: JSON documents built from arbitrary values and then damaged in the
ways clients, proxies and other languages' libraries damage them, or plain
random bytes. Every operation of the OpenAPI spec that takes a body is
called with them, with real ids in its path (a completed run, a product, a
preset) so the body is really read. The answer must be below 500 and, when
it is an error, the envelope. The number of cases is printed at the end.
"""
from __future__ import annotations

import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

API = "/api/v1"
EXAMPLES = 60
CASES: list[str] = []

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children,
                                                                      max_size=4),
    max_leaves=20)

# Damage a JSON text the way real clients do.
INJECTIONS = ["\\ud800", "\\udfff", "\\ud83d", "NaN", "Infinity", "-Infinity", "1e400", "-1e999",
              "9" * 5000, '"\x00"', "\ufeff", "\\", '"', "{", "[", "}", "]", ",", ":"]


@st.composite
def hostile_bodies(draw) -> bytes:
    kind = draw(st.sampled_from(["damaged", "deep", "duplicate", "bom", "binary", "surrogate_field",
                                 "plain"]))
    value = draw(json_values)
    text = json.dumps(value, ensure_ascii=draw(st.booleans()))
    if kind == "damaged":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(INJECTIONS)) + text[at:]
    elif kind == "deep":
        depth = draw(st.sampled_from([33, 200, 999, 1001, 10_000]))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        inner = opener * depth + "1" + closer * depth
        text = draw(st.sampled_from([inner, f'{{"user_request": "x", "extra": {inner}}}']))
    elif kind == "duplicate":
        text = '{"name": "a", "name": "b", "user_request": "x", "user_request": "y"}'
    elif kind == "bom":
        return b"\xef\xbb\xbf" + text.encode()
    elif kind == "binary":
        return draw(st.binary(max_size=200))
    elif kind == "surrogate_field":
        field = draw(st.sampled_from(["user_request", "name", "pros", "reason"]))
        text = json.dumps({field: "ok"}).replace('"ok"', '"a\\ud800b"')
    raw = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()) and raw:
        at = draw(st.integers(0, len(raw) - 1))
        raw = raw[:at] + bytes([draw(st.integers(0x80, 0xFF))]) + raw[at + 1:]  # broken UTF-8
    return raw


@pytest.fixture(scope="module")
def app_and_ids(tmp_path_factory):
    import os

    from tests.store_helpers import execute_queue

    folder = tmp_path_factory.mktemp("bytes")
    previous = os.environ.get("C2XC_SQLITE_PATH")
    os.environ["C2XC_SQLITE_PATH"] = str(folder / "app.db")
    try:
        from api.app import create_app

        app = create_app()
    finally:
        if previous is None:
            os.environ.pop("C2XC_SQLITE_PATH")
        else:
            os.environ["C2XC_SQLITE_PATH"] = previous
    client = app.test_client()
    batch = client.post(f"{API}/batches", json={"user_request": "bytes", "dry_run": True}).get_json()
    execute_queue(str(folder / "app.db"))
    preset = client.post(f"{API}/product_presets/standard").get_json()["preset"]
    ids = {"batch_id": batch["batch"]["batch_id"], "run_id": batch["runs"][0]["run_id"],
           "product_id": preset["products"][0]["product_id"], "preset_id": preset["preset_id"],
           "memory_id": "mem_unknown", "delta_id": "delta_unknown", "plan_id": "plan_unknown",
           "experiment_id": "exp_unknown"}
    return app, client, ids


def _operations_with_bodies(spec: dict) -> list[tuple[str, str]]:
    return [(method, path) for path, operations in spec["paths"].items()
            for method, operation in operations.items() if "requestBody" in operation]


def _answer_is_sound(response, what: str) -> None:
    assert response.status_code < 500, (what, response.status_code, response.get_data()[:300])
    if response.status_code >= 400 and response.status_code != 304:
        error = response.get_json()["error"]
        assert error["code"] and error["message"], what


@pytest.fixture(scope="module", autouse=True)
def report_case_count():
    yield
    print(f"\nbyte-level cases: {len(CASES)} "
          f"({', '.join(f'{kind} {CASES.count(kind)}' for kind in sorted(set(CASES)))})")


def test_every_body_taking_operation_is_listed(app_and_ids):
    _, client, _ = app_and_ids
    operations = _operations_with_bodies(client.get(f"{API}/openapi.json").get_json())
    assert {("put", f"{API}/runs/{{run_id}}/feedback"), ("post", f"{API}/products"),
            ("post", f"{API}/batches")} <= set(operations)
    assert len(operations) >= 8


@settings(max_examples=EXAMPLES * 10, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(body=hostile_bodies(), pick=st.integers(0, 1000), content_type=st.sampled_from(
    ["application/json", "application/json; charset=utf-8", "application/problem+json", "text/plain"]))
def test_any_body_to_any_operation_is_answered_without_a_server_error(app_and_ids, body, pick, content_type):
    _, client, ids = app_and_ids
    operations = _operations_with_bodies(client.get(f"{API}/openapi.json").get_json())
    method, path = operations[pick % len(operations)]
    url = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
    response = client.open(url, method=method.upper(), data=body, headers={"Content-Type": content_type})
    CASES.append("body")
    _answer_is_sound(response, f"{method} {path} {body[:80]!r}")


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(value=st.text(st.characters(min_codepoint=1, max_codepoint=255), max_size=600))
def test_any_last_event_id_is_answered_without_a_server_error(app_and_ids, value):
    _, client, ids = app_and_ids
    try:
        response = client.get(f"{API}/runs/{ids['run_id']}/events/stream",
                              headers={"Last-Event-ID": value.replace("\n", " ").replace("\r", " ")},
                              buffered=True)
    except ValueError:  # werkzeug's own client refuses some header values before sending
        return
    CASES.append("last_event_id")
    _answer_is_sound(response, f"Last-Event-ID {value[:60]!r}")


@settings(max_examples=EXAMPLES * 5, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(query=st.binary(max_size=120) | st.text(max_size=60).map(str.encode), pick=st.integers(0, 1000))
def test_any_query_string_is_answered_without_a_server_error(app_and_ids, query, pick):
    """The export's query string, and every other GET's (raw bytes, as a server receives them)."""
    _, client, ids = app_and_ids
    spec = client.get(f"{API}/openapi.json").get_json()
    gets = sorted(path for path, operations in spec["paths"].items()
                  if "get" in operations and not path.endswith("/stream"))
    path = f"{API}/export/recipes.csv" if pick % 3 == 0 else gets[pick % len(gets)]
    url = re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "unknown"), path)
    response = client.get(url, environ_overrides={"QUERY_STRING": query.decode("latin-1")})
    CASES.append("query_string")
    _answer_is_sound(response, f"GET {path}?{query[:60]!r}")
