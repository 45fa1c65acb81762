"""Lab feedback: the product catalogue, presets, one feedback per run, the export — API and store."""
import threading

import psycopg
import pytest

from store.db import INTEGRITY_ERRORS
from tests.store_helpers import completed_runs, queue_batch

# what the database says to a writer that breaks a rule (PostgreSQL: 1e999 is not even a number)
REFUSED = (*INTEGRITY_ERRORS, psycopg.DataError)

API = "/api/v1"


def product(client, name, **body):
    reply = client.post(f"{API}/products", json={"name": name, **body})
    assert reply.status_code == 201, reply.get_json()
    return reply.get_json()["product_id"]


def finished_run(conn, status="completed"):
    run_id = completed_runs(conn, 1, recipes_per_run=2)[0] if status == "completed" else \
        queue_batch(conn, 1)[1][0]
    return run_id


def error_of(reply, status):
    assert reply.status_code == status, reply.get_json()
    return reply.get_json()["error"]


# --- products and presets -------------------------------------------------------------

def test_product_names_are_unique_without_case_or_surrounding_spaces(client):
    first = product(client, "C2H4")
    error = error_of(client.post(f"{API}/products", json={"name": "  c2h4 "}), 409)
    assert error["code"] == "conflict" and error["details"]["product_id"] == first
    other = product(client, "CH4")
    assert error_of(client.put(f"{API}/products/{other}", json={"name": "C2h4"}), 409)["code"] == "conflict"
    assert client.put(f"{API}/products/{first}", json={"name": "C2H4 "}).status_code == 200  # itself


def test_archiving_and_restoring_a_product_and_filtering_by_status(client):
    co = product(client, "CO")
    product(client, "H2")
    archived = client.put(f"{API}/products/{co}", json={"status": "archived"}).get_json()
    assert (archived["status"], archived["name"]) == ("archived", "CO")
    names = lambda status: [p["name"] for p in client.get(f"{API}/products?status={status}").get_json()["items"]]
    assert names("active") == ["H2"] and names("archived") == ["CO"]
    assert client.put(f"{API}/products/{co}", json={"status": "active"}).get_json()["status"] == "active"
    assert error_of(client.get(f"{API}/products/product_nope"), 404)["code"] == "not_found"


@pytest.mark.parametrize("body, field", [({"name": ""}, "name"), ({"name": "   "}, "name"),
                                         ({"name": "x" * 101}, "name"), ({"name": "ok", "status": "gone"}, "status"),
                                         ({"name": "ok", "colour": "red"}, "colour"),
                                         ({"name": "\x00CO"}, "name"), ({"name": "C2H4\nH2"}, "name")])
def test_bad_product_and_preset_bodies_name_the_field(client, body, field):
    assert field in error_of(client.post(f"{API}/products", json=body), 422)["details"]["fields"]
    if "status" not in body:
        preset = client.post(f"{API}/product_presets", json={**body, "product_ids": []})
        assert field in error_of(preset, 422)["details"]["fields"]


def test_presets_are_ordered_and_refuse_unknown_archived_or_repeated_products(client):
    co, ch4, h2 = product(client, "CO"), product(client, "CH4"), product(client, "H2")
    preset = client.post(f"{API}/product_presets", json={"name": "gas", "product_ids": [h2, co]}).get_json()
    assert [p["name"] for p in preset["products"]] == ["H2", "CO"]
    reordered = client.put(f"{API}/product_presets/{preset['preset_id']}",
                           json={"product_ids": [co, ch4, h2]}).get_json()
    assert reordered["product_ids"] == [co, ch4, h2]
    unknown = error_of(client.post(f"{API}/product_presets", json={"name": "x", "product_ids": [co, "product_nope"]}), 422)
    assert "product_ids[1]" in unknown["details"]["fields"]
    twice = error_of(client.post(f"{API}/product_presets", json={"name": "y", "product_ids": [co, co]}), 422)
    assert "given twice" in twice["details"]["fields"]["product_ids[1]"][0]
    client.put(f"{API}/products/{ch4}", json={"status": "archived"})
    archived = error_of(client.post(f"{API}/product_presets", json={"name": "z", "product_ids": [ch4]}), 422)
    assert "archived" in archived["details"]["fields"]["product_ids[0]"][0]
    assert error_of(client.post(f"{API}/product_presets", json={"name": "GAS", "product_ids": []}), 409)


def test_the_standard_preset_is_added_only_when_asked_and_only_once(client):
    assert client.get(f"{API}/products").get_json()["items"] == []  # nothing silently at start-up
    product(client, "co")
    first = client.post(f"{API}/product_presets/standard").get_json()
    assert [p["name"] for p in first["preset"]["products"]] == ["co", "CH4", "C2H4", "C2H6", "H2",
                                                                 "HCOOH", "CH3OH", "C2H5OH"]
    assert first["products_added"] == ["CH4", "C2H4", "C2H6", "H2", "HCOOH", "CH3OH", "C2H5OH"]
    again = client.post(f"{API}/product_presets/standard").get_json()
    assert again["preset"]["preset_id"] == first["preset"]["preset_id"] and again["products_added"] == []


def test_the_standard_preset_from_the_command_line(client, tmp_path):
    """``c2xc-admin seed-products``, a separate process on the service's own file, is the same step."""
    import json
    import subprocess
    import sys

    def seed():
        done = subprocess.run([sys.executable, "-m", "store.admin", "--db", client.application.extensions["c2xc"].database.target,
                               "seed-products"], capture_output=True, text=True, timeout=60, check=True)
        return json.loads(done.stdout)

    first = seed()
    assert first["products_added"] == ["CO", "CH4", "C2H4", "C2H6", "H2", "HCOOH", "CH3OH", "C2H5OH"]
    assert seed()["products_added"] == []  # safe to repeat
    presets = client.get(f"{API}/product_presets").get_json()["items"]
    assert [(p["preset_id"], len(p["products"])) for p in presets] == [(first["preset_id"], 8)]
    bad = subprocess.run([sys.executable, "-m", "store.admin", "--db", str(tmp_path), "seed-products"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and bad.stderr.startswith("c2xc-admin seed-products: ")  # a folder, not a file


# --- feedback ---------------------------------------------------------------------------

def test_feedback_stores_server_computed_fractions_and_replaces_atomically(client, app_db):
    run_id = finished_run(app_db)
    co, c2h4 = product(client, "CO"), product(client, "C2H4")
    assert error_of(client.get(f"{API}/runs/{run_id}/feedback"), 404)["code"] == "not_found"
    body = {"score": 8, "pros": "stable", "cons": "slow", "other": "", "recipe_index": 2,
            "products": [{"product_id": co, "value": 1.0}, {"product_id": c2h4, "value": 3.0}]}
    saved = client.put(f"{API}/runs/{run_id}/feedback", json=body).get_json()
    assert [(p["name"], p["value"], p["fraction"]) for p in saved["products"]] == [
        ("CO", 1.0, 0.25), ("C2H4", 3.0, 0.75)]
    assert (saved["value_sum"], saved["fractions_all_zero"], saved["recipe_index"]) == (4.0, False, 2)
    replaced = client.put(f"{API}/runs/{run_id}/feedback", json={
        "score": 5, "products": [{"product_id": c2h4, "value": 0}]}).get_json()
    assert replaced["feedback_id"] == saved["feedback_id"] and replaced["created_at"] == saved["created_at"]
    assert [(p["name"], p["fraction"]) for p in replaced["products"]] == [("C2H4", 0.0)]
    assert replaced["fractions_all_zero"] is True and replaced["pros"] == ""
    assert client.get(f"{API}/runs/{run_id}/feedback").get_json() == replaced


def test_an_archived_product_stays_readable_in_old_feedback_but_is_refused_in_new(client, app_db):
    run_id = finished_run(app_db)
    co = product(client, "CO")
    client.put(f"{API}/runs/{run_id}/feedback", json={"score": 3, "products": [{"product_id": co, "value": 2}]})
    client.put(f"{API}/products/{co}", json={"status": "archived"})
    kept = client.get(f"{API}/runs/{run_id}/feedback").get_json()["products"][0]
    assert (kept["name"], kept["status"], kept["fraction"]) == ("CO", "archived", 1.0)
    refused = error_of(client.put(f"{API}/runs/{run_id}/feedback", json={
        "score": 3, "products": [{"product_id": co, "value": 2}]}), 422)
    assert "archived" in refused["details"]["fields"]["products[0].product_id"][0]


@pytest.mark.parametrize("change, field", [
    ({"score": -1}, "score"), ({"score": 10.5}, "score"), ({"score": "7"}, "score"),
    ({"products": [{"product_id": "P", "value": -0.1}]}, "products"),

    ({"pros": "x" * 4001}, "pros"), ({"other": "x" * 4001}, "other"),
    ({"recipe_index": 0}, "recipe_index"), ({"recipe_index": 3}, "recipe_index"),
    ({"products": [{"product_id": "product_nope", "value": 1}]}, "products[0].product_id"),
    ({"products": [{"product_id": "P", "value": 1}, {"product_id": "P", "value": 2}]},
     "products[1].product_id"),
])
def test_bad_feedback_is_refused_naming_the_field(client, app_db, change, field):
    run_id = finished_run(app_db)
    pid = product(client, "CO")
    body = {"score": 5, **change}
    for item in body.get("products", []):
        item["product_id"] = pid if item["product_id"] == "P" else item["product_id"]
    error = error_of(client.put(f"{API}/runs/{run_id}/feedback", json=body), 422)
    assert any(key.startswith(field) for key in error["details"]["fields"]), error


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_nan_and_infinite_literals_are_refused(client, app_db, literal):
    run_id = finished_run(app_db)
    pid = product(client, "CO")
    for body in (f'{{"score": {literal}}}',
                 f'{{"score": 5, "products": [{{"product_id": "{pid}", "value": {literal}}}]}}'):
        reply = client.put(f"{API}/runs/{run_id}/feedback", data=body, content_type="application/json")
        error = error_of(reply, 400)  # the body decoder refuses it before any field is read
        assert error["code"] == "invalid_argument" and error["details"]["reason"] == "non_finite_number"


def test_feedback_only_for_a_completed_run(client, app_db):
    queued = finished_run(app_db, status="queued")
    error = error_of(client.put(f"{API}/runs/{queued}/feedback", json={"score": 5}), 409)
    assert error["details"]["status"] == "queued"
    assert error_of(client.put(f"{API}/runs/run_nope/feedback", json={"score": 5}), 404)["code"] == "not_found"


def test_the_database_itself_holds_the_rules(app_db, client):
    """A writer that bypassed the API still could not break them."""
    queued = finished_run(app_db, status="queued")
    done = finished_run(app_db)
    co = product(client, "CO")
    with pytest.raises(INTEGRITY_ERRORS, match="completed run"):
        app_db.execute("INSERT INTO run_feedback (run_id, feedback_id, score, pros, cons, other,"
                       " value_sum, fractions_all_zero, created_at, updated_at, schema_version,"
                       " extra_json) VALUES (?, 'f1', 5, '', '', '', 0, 1, 0, 0, 1, '{}')", (queued,))
    app_db.execute("INSERT INTO run_feedback (run_id, feedback_id, score, pros, cons, other, value_sum,"
                   " fractions_all_zero, created_at, updated_at, schema_version, extra_json)"
                   " VALUES (?, 'f2', 5, '', '', '', 0, 1, 0, 0, 1, '{}')", (done,))
    for bad in ("INSERT INTO feedback_products VALUES (?, 0, ?, -1, 0)",
                "INSERT INTO feedback_products VALUES (?, 0, ?, 1e999, 0)",
                "INSERT INTO feedback_products VALUES (?, 0, ?, 1, 1.5)"):
        with pytest.raises(REFUSED):
            app_db.execute(bad, (done, co))
    app_db.execute("INSERT INTO feedback_products VALUES (?, 0, ?, 1, 1)", (done, co))
    with pytest.raises(INTEGRITY_ERRORS):  # the same product twice
        app_db.execute("INSERT INTO feedback_products VALUES (?, 1, ?, 1, 1)", (done, co))
    with pytest.raises(INTEGRITY_ERRORS):  # a second feedback for the run
        app_db.execute("INSERT INTO run_feedback (run_id, feedback_id, score, pros, cons, other,"
                       " value_sum, fractions_all_zero, created_at, updated_at, schema_version,"
                       " extra_json) VALUES (?, 'f3', 5, '', '', '', 0, 1, 0, 0, 1, '{}')", (done,))
    with pytest.raises(INTEGRITY_ERRORS):  # names compared without case
        app_db.execute("INSERT INTO products (product_id, name, status, created_at, updated_at,"
                       " schema_version, extra_json) VALUES ('p2', ' co', 'active', 0, 0, 1, '{}')")


# --- export -----------------------------------------------------------------------------

def test_the_export_has_a_row_per_recipe_and_a_fraction_column_per_product(client, app_db):
    import csv
    import io
    run_ids = completed_runs(app_db, 3, recipes_per_run=2)
    co, h2 = product(client, "CO"), product(client, "=H2")  # a name a spreadsheet would run
    client.put(f"{API}/runs/{run_ids[1]}/feedback", json={
        "score": 9, "recipe_index": 2, "products": [{"product_id": co, "value": 1}, {"product_id": h2, "value": 1}]})
    reply = client.get(f"{API}/export/recipes.csv")
    assert reply.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(reply.get_data(as_text=True))))
    assert len(rows) == 6 and [r["rank"] for r in rows[:2]] == ["1", "2"]
    assert list(rows[0])[-2:] == ["fraction_CO", "fraction_=H2"]
    made = [r for r in rows if r["run_id"] == run_ids[1]]
    # the lab's numbers sit on the recipe it made, not on its neighbour
    assert [(r["made_in_lab"], r["feedback_score"], r["fraction_CO"]) for r in made] == [
        ("False", "", ""), ("True", "9.0", "0.5")]
    assert rows[0]["canonical_smiles"] == "NCC(=O)O" and rows[0]["feedback_score"] == ""
    assert rows[0]["user_request"] == "bulk export"
    assert rows[0]["batch_created_iso"].endswith("Z") and rows[0]["finished_iso"][:2] == "20"
    lines = client.get(f"{API}/export/recipes.csv?format=jsonl").get_data(as_text=True).splitlines()
    import json
    assert len(lines) == 6 and json.loads(lines[3])["fractions"] == {"CO": 0.5, "=H2": 0.5}
    assert json.loads(lines[2])["fractions"] == {}
    assert error_of(client.get(f"{API}/export/recipes.csv?format=xlsx"), 422)


def test_the_export_opens_cleanly_in_a_spreadsheet_and_per_batch(client, app_db):
    import csv
    import io
    first, second = completed_runs(app_db, 1, recipes_per_run=1)[0], completed_runs(app_db, 1)[0]
    co, unused = product(client, "C₂H₄ 乙烯"), product(client, "never measured")
    retired = product(client, "retired after use")
    client.put(f"{API}/runs/{first}/feedback", json={
        "score": 5, "products": [{"product_id": co, "value": 2}, {"product_id": retired, "value": 2}]})
    for product_id in (unused, retired):
        client.put(f"{API}/products/{product_id}", json={"status": "archived"})
    excel = client.get(f"{API}/export/recipes.csv?bom=true").get_data()
    assert excel.startswith(b"\xef\xbb\xbf") and "乙烯".encode() in excel
    assert not client.get(f"{API}/export/recipes.csv").get_data().startswith(b"\xef\xbb\xbf")
    header = next(csv.reader(io.StringIO(excel.decode("utf-8-sig"))))
    assert "fraction_retired after use" in header and "fraction_never measured" not in header
    batch_of = lambda run_id: client.get(f"{API}/runs/{run_id}").get_json()["batch_id"]
    one = client.get(f"{API}/export/recipes.csv?batch_id={batch_of(second)}")
    assert {r["run_id"] for r in csv.DictReader(io.StringIO(one.get_data(as_text=True)))} == {second}
    assert "recipes-batch_" in one.headers["Content-Disposition"]
    assert error_of(client.get(f"{API}/export/recipes.csv?batch_id=batch_nope"), 404)


def test_concurrent_puts_on_one_run_leave_one_feedback_the_last_one(service_factory):
    """Real gunicorn processes; twelve clients replace the same run's feedback at once."""
    import requests

    from store.db import open_database

    procs = service_factory()
    db = open_database(procs.database_target)
    run_id = completed_runs(db.connection(), 1)[0]
    co = procs.post("/products", json={"name": "CO"}).json()["product_id"]
    results, start = [], threading.Event()

    def put(score):
        start.wait()
        reply = requests.put(f"{procs.base_url}/runs/{run_id}/feedback", timeout=20, json={
            "score": score, "products": [{"product_id": co, "value": score}]})
        results.append((reply.status_code, score, reply.json().get("updated_at", reply.text)))

    threads = [threading.Thread(target=put, args=(i * 0.5,)) for i in range(12)]
    for thread in threads:
        thread.start()
    start.set()
    for thread in threads:
        thread.join(30)
    assert sorted(status for status, _, _ in results) == [200] * 12
    last = max(results, key=lambda r: r[2])[1]
    final = procs.get(f"/runs/{run_id}/feedback").json()
    assert final["score"] == last and final["products"][0]["value"] == last
    rows = db.connection().execute("SELECT COUNT(*) FROM run_feedback WHERE run_id = ?", (run_id,))
    assert rows.fetchone()[0] == 1
    db.dispose()


def test_exporting_10000_runs_keeps_the_api_process_memory_flat(service_factory):
    """Streamed a page at a time: the API worker grows by under 25 MB for 30,000 rows."""
    import psutil
    import requests

    from store.db import open_database

    procs = service_factory(C2XC_WEB_WORKERS="1")
    db = open_database(procs.database_target)
    completed_runs(db.connection(), 10_000)
    db.dispose()
    worker = psutil.Process(procs.processes[0].pid).children()[0]
    procs.get("/export/recipes.csv?format=csv")  # warm: imports, first page
    before = worker.memory_info().rss
    rows, peak = 0, before
    with requests.get(f"{procs.base_url}/export/recipes.csv", stream=True, timeout=120) as reply:
        for line in reply.iter_lines():
            rows += 1
            if rows % 2000 == 0:
                peak = max(peak, worker.memory_info().rss)
    peak = max(peak, worker.memory_info().rss)
    assert rows == 1 + 30_000
    print(f"\nexport of 10,000 runs: API worker grew {(peak - before) / 2**20:.1f} MB")
    assert (peak - before) / 2**20 < 25, f"grew {(peak - before) / 2**20:.1f} MB"
