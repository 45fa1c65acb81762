"""`/experiments`, its CSV import and export (SPEC 14), through the HTTP API on both backends."""
from __future__ import annotations

import csv
import io

import pytest
import requests

from tests.http_helpers import ok
from tests.memory_helpers import CU_MO
from tests.store_helpers import completed_runs

API = "/api/v1"
BENZOIC = {"M1": "Mo", "M2": "Cu", "atomic_ratio": "3:1", "modifier": "benzoic acid",
           "modifier_smiles": "c1ccccc1C(O)=O"}


def error_of(reply, status):
    assert reply.status_code == status, reply.get_data(as_text=True)[:500]
    return reply.get_json()["error"]


def product(client, name):
    return ok(client.post(f"{API}/products", json={"name": name}), 201)["product_id"]


def test_a_recipe_entered_by_hand_is_checked_like_the_agents(client):
    made = ok(client.post(f"{API}/experiments", json={"recipe": BENZOIC}), 201)
    assert made["recipe"]["recipe_key"] == "Cu1Mo3|O=C(O)c1ccccc1" and made["status"] == "planned"
    assert made["source"] is None and made["version"] == 1
    for bad, says in [({**BENZOIC, "M2": "Mo"}, "two different metals"),
                      ({**BENZOIC, "M1": "Ti"}, "host"),
                      ({**BENZOIC, "modifier_smiles": "c1ccccc1O"}, "carboxylic acid"),
                      ({**BENZOIC, "modifier": "acetic acid"}, "does not match"),
                      ({**BENZOIC, "atomic_ratio": "one to three"}, "ratio")]:
        error = error_of(client.post(f"{API}/experiments", json={"recipe": bad}), 422)
        assert error["code"] == "invalid_argument" and says in " ".join(error["details"]["problems"])


@pytest.mark.parametrize("body, field", [
    ({}, "recipe"),
    ({"run_id": "run_x"}, "rank"),
    ({"recipe": BENZOIC, "run_id": "run_x", "rank": 1}, "recipe"),
    ({"recipe": BENZOIC, "status": "done"}, "status"),
    ({"recipe": BENZOIC, "score": "7"}, "score"),
    ({"recipe": BENZOIC, "score": 11}, "score"),
    ({"recipe": {**BENZOIC, "colour": "red"}, "status": "planned"}, "recipe"),
    ({"recipe": BENZOIC, "surprise": 1}, "surprise"),
])
def test_a_bad_body_gets_the_envelope_naming_the_field(client, body, field):
    error = error_of(client.post(f"{API}/experiments", json=body), 422)
    assert error["code"] == "invalid_argument" and field in error["details"]["fields"]


def test_a_runs_recipe_planned_then_measured_with_if_match(client, app_db):
    run_id = completed_runs(app_db, 1, dry_run=False, recipes=[CU_MO])[0]
    c2h4, h2 = product(client, "C2H4"), product(client, "H2")
    made = client.post(f"{API}/experiments", json={"run_id": run_id, "rank": 1})
    assert made.status_code == 201 and made.headers["ETag"] == '"1"'
    exp = made.get_json()
    url = f"{API}/experiments/{exp['experiment_id']}"
    in_lab = ok(client.patch(url, json={"status": "in_lab"}, headers={"If-Match": '"1"'}))
    stale = error_of(client.patch(url, json={"notes": "late"}, headers={"If-Match": '"1"'}), 412)
    assert stale["code"] == "precondition_failed" and stale["details"]["version"] == 2
    measured = ok(client.patch(url, headers={"If-Match": f'"{in_lab["version"]}"'}, json={
        "status": "measured", "products": [{"product_id": c2h4, "value": 3}, {"product_id": h2, "value": 1}]}))
    assert [p["fraction"] for p in measured["products"]] == [0.75, 0.25] and measured["measured_at"]
    assert error_of(client.patch(url, json={"status": "in_lab"}), 409)["details"]["allowed"] == ["measured"]
    assert error_of(client.patch(url, json={"notes": "x"}, headers={"If-Match": "three"}), 400)
    assert ok(client.get(f"{API}/experiments?run_id={run_id}"))["items"][0]["experiment_id"] == exp["experiment_id"]
    assert ok(client.get(f"{API}/experiments?metal=Mo&status=measured"))["items"][0]["status"] == "measured"
    assert ok(client.get(f"{API}/experiments?metal=Zn"))["items"] == []
    assert error_of(client.get(f"{API}/experiments?cursor=nonsense"), 400)["code"] == "invalid_argument"
    assert error_of(client.get(f"{API}/experiments/exp_nope"), 404)["code"] == "not_found"


def test_feedback_answers_as_before_and_writes_the_experiment_of_its_recipe(client, app_db):
    run_id = completed_runs(app_db, 1, dry_run=False, recipes=[CU_MO, {**CU_MO, "rank": 2, "M2": "Zn"}])[0]
    c2h4 = product(client, "C2H4")
    saved = ok(client.put(f"{API}/runs/{run_id}/feedback", json={
        "score": 7, "recipe_index": 2, "products": [{"product_id": c2h4, "value": 2}]}))
    assert saved["recipe_index"] == 2 and saved["products"][0]["fraction"] == 1.0
    [exp] = ok(client.get(f"{API}/experiments?run_id={run_id}"))["items"]
    assert exp["feedback_run_id"] == run_id and exp["source"] == {"run_id": run_id, "rank": 2}
    assert exp["recipe"]["M2"] == "Zn" and exp["score"] == 7 and exp["status"] == "measured"
    refused = error_of(client.patch(f"{API}/experiments/{exp['experiment_id']}", json={"score": 3}), 409)
    assert refused["details"]["run_id"] == run_id


def _csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


HEADER = ["M1", "M2", "atomic_ratio", "modifier", "modifier_smiles", "status", "score", "notes",
          "product:C2H4", "product:H2"]
GOOD = ["Cu", "Mo", "1:3", "benzoic acid", "OC(=O)c1ccccc1", "", "", "first", "3.0", "1"]


def test_an_import_with_one_bad_row_stores_nothing_and_names_every_bad_line(client):
    product(client, "C2H4"), product(client, "H2")
    body = _csv([HEADER, GOOD, ["Cu", "Cu", "1:1", "", "OC(=O)C", "", "", "", "", ""],
                 GOOD, ["Cu", "Mo", "1:1", "", "c1ccccc1", "measured", "", "", "", ""],
                 ["Ni", "Fe", "2:1", "", "OC(=O)C", "planned", "", "", "1", ""]])
    reply = client.post(f"{API}/experiments/import", data=body, content_type="text/csv")
    error = error_of(reply, 422)
    lines = {row["line"]: " ".join(row["problems"]) for row in error["details"]["rows"]}
    assert set(lines) == {3, 5, 6}
    assert "two different" in lines[3] and "carboxylic" in lines[5] and "needs a score" in lines[5]
    assert "belong to a measured" in lines[6]
    assert ok(client.get(f"{API}/experiments"))["items"] == []  # nothing stored


def test_an_import_dry_run_then_for_real_and_the_export_imports_again(client):
    product(client, "C2H4"), product(client, "H2")
    body = _csv([HEADER, GOOD, ["Mo", "Cu", "3:1", "", "c1ccccc1C(O)=O", "failed", "", "=cracked", "", ""],
                 ["Ni", "Fe", "2:1", "", "OC(=O)C", "", "", "", "", ""]])
    checked = ok(client.post(f"{API}/experiments/import?dry_run=true", data=body, content_type="text/csv"))
    assert checked == {"dry_run": True, "rows": 3, "stored": 0, "products": ["C2H4", "H2"], "ignored_columns": [],
                       "by_status": {"measured": 1, "failed": 1, "planned": 1}}
    assert ok(client.get(f"{API}/experiments"))["items"] == []
    stored = ok(client.post(f"{API}/experiments/import", data={"file": (io.BytesIO(body), "lab.csv")},
                            content_type="multipart/form-data"), 201)
    assert stored["stored"] == 3
    items = ok(client.get(f"{API}/experiments"))["items"]
    assert len({i["recipe"]["recipe_key"] for i in items}) == 2  # the failed one replicates the first
    exported = client.get(f"{API}/export/experiments.csv")
    assert exported.status_code == 200 and exported.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(exported.get_data(as_text=True))))
    assert [r["status"] for r in rows] == ["measured", "failed", "planned"]
    assert rows[0]["product:C2H4"] == "3.0" and rows[0]["fraction:C2H4"] == "0.75"
    assert rows[1]["notes"] == "'=cracked"  # a spreadsheet would run it as a formula
    again = ok(client.post(f"{API}/experiments/import", data=exported.get_data(), content_type="text/csv"), 201)
    assert again["stored"] == 3 and "experiment_id" in again["ignored_columns"]
    items = ok(client.get(f"{API}/experiments?limit=3"))["items"]
    assert {i["notes"] for i in items} == {"first", "=cracked", ""}


@pytest.mark.parametrize("body, says", [
    (b"", "empty"),
    (b"M1,M2,atomic_ratio,modifier_smiles,colour\nCu,Mo,1:1,OC(=O)C,red\n", "colour"),
    (b"M1,M2,atomic_ratio,modifier_smiles,product:Unobtainium\n", "Unobtainium"),
    (b"M1,M2\nCu,Mo\n", "recipe columns"),
    (b"M1,M2,atomic_ratio,modifier_smiles\n", "no rows"),
    ("M1,M2,atomic_ratio,modifier_smiles\nCu,Mo,1:1,OC(=O)C\n".encode("utf-16"), "UTF-8"),
])
def test_an_unreadable_file_is_refused_with_the_envelope(client, body, says):
    error = error_of(client.post(f"{API}/experiments/import", data=body, content_type="text/csv"), 422)
    assert says in error["message"] + " ".join(" ".join(r["problems"]) for r in error["details"]["rows"])


def test_an_import_over_its_limit_is_413_and_the_json_limit_does_not_apply(make_app):
    client = make_app(C2XC_MAX_IMPORT_BYTES="4096", C2XC_MAX_BODY_BYTES="1024").test_client()
    row = "Cu,Mo,1:1,,OC(=O)C,planned\n"
    fits = ("M1,M2,atomic_ratio,modifier,modifier_smiles,status\n" + row * 100).encode()
    assert 1024 < len(fits) < 4096
    assert ok(client.post(f"{API}/experiments/import", data=fits, content_type="text/csv"), 201)["stored"] == 100
    too_big = fits + row.encode() * 200
    assert error_of(client.post(f"{API}/experiments/import", data=too_big, content_type="text/csv"),
                    413)["code"] == "payload_too_large"


def test_two_clients_patching_one_version_over_http_one_wins(service):
    """Real gunicorn processes: the If-Match check holds across processes and threads."""
    import concurrent.futures

    base = service.base_url
    made = requests.post(f"{base}/experiments", json={"recipe": BENZOIC}, timeout=30).json()
    url = f"{base}/experiments/{made['experiment_id']}"

    def patch(note):
        return requests.patch(url, json={"notes": note}, headers={"If-Match": '"1"'}, timeout=30).status_code

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        codes = sorted(pool.map(patch, ["a", "b"]))
    assert codes == [200, 412]
    assert requests.get(url, timeout=30).headers["ETag"] == '"2"'


# --- hypothesis: whatever a client sends, an envelope or a success, never a 500 -------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_CELLS = st.one_of(st.sampled_from(["Cu", "Mo", "Ti", "Xx", "1:3", "0:1", "1 : 2.5", "OC(=O)C", "C(=O",
                                    "measured", "planned", "failed", "bogus", "7", "11", "-1", "nan",
                                    "inf", "=1+1", "'=x", "", "run_x", "0"]),
                   st.text(max_size=12))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_CELLS, min_size=0, max_size=12), max_size=6),
       header=st.lists(st.sampled_from(HEADER + ["run_id", "rank", "conditions", "fraction:C2H4", "x"]),
                       min_size=1, max_size=12),
       dry_run=st.booleans())
def test_any_csv_file_gets_a_result_or_the_envelope(client, rows, header, dry_run):
    body = _csv([header, *rows])
    reply = client.post(f"{API}/experiments/import?dry_run={str(dry_run).lower()}", data=body,
                        content_type="text/csv")
    assert reply.status_code in (200, 201, 422), reply.get_data(as_text=True)[:300]
    if reply.status_code == 422:
        assert reply.get_json()["error"]["code"] == "invalid_argument"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300))
def test_any_bytes_as_a_csv_file_get_the_envelope(client, raw):
    reply = client.post(f"{API}/experiments/import", data=raw, content_type="text/csv")
    assert reply.status_code in (201, 422) and (reply.status_code == 201 or reply.get_json()["error"])


_JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                               st.text(max_size=8)),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                  max_size=3), max_leaves=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.fixed_dictionaries({}, optional={
    "recipe": st.one_of(_JSON, st.fixed_dictionaries({k: _CELLS for k in ("M1", "M2", "atomic_ratio",
                                                                            "modifier_smiles")})),
    "run_id": _JSON, "rank": _JSON, "status": _CELLS, "score": _JSON, "products": _JSON, "notes": _JSON}),
    patch=st.dictionaries(st.sampled_from(["status", "score", "products", "notes", "archived", "x"]), _JSON,
                          max_size=3),
    if_match=st.one_of(st.none(), st.sampled_from(['"1"', "1", 'W/"1"', "*", "x", '"99"'])))
def test_any_experiment_body_or_patch_gets_a_result_or_the_envelope(client, body, patch, if_match):
    reply = client.post(f"{API}/experiments", json=body)
    assert reply.status_code in (201, 400, 404, 409, 422), reply.get_data(as_text=True)[:300]
    assert reply.status_code == 201 or reply.get_json()["error"]["code"]
    made = ok(client.post(f"{API}/experiments", json={"recipe": BENZOIC}), 201)
    headers = {"If-Match": if_match} if if_match else {}
    reply = client.patch(f"{API}/experiments/{made['experiment_id']}", json=patch, headers=headers)
    assert reply.status_code in (200, 400, 409, 412, 422), reply.get_data(as_text=True)[:300]
