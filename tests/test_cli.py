"""The ``c2xc`` command against the real service (gunicorn + worker on a free port), as a person types it."""
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import REPO, running_service

C2XC = Path(sys.executable).parent / "c2xc"  # the console script the set-up installs


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    with running_service(tmp_path_factory.mktemp("cli"), {"C2XC_DRY_RUN_STEP_DELAY_S": "0.05"}) as procs:
        yield procs


def c2xc(svc, *args, url=None, env=None, timeout=120) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("C2XC_")}
    environment.update({"C2XC_URL": url or svc.base_url.rsplit("/api/v1", 1)[0], **(env or {})})
    return subprocess.run([str(C2XC), *args], cwd=REPO, env=environment, capture_output=True, text=True,
                          timeout=timeout)


def _json(done: subprocess.CompletedProcess):
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_submit_and_wait_follows_a_dry_batch_to_the_end(svc):
    done = c2xc(svc, "submit", "Cu-Mo dual sites for C2H4 乙烯", "--runs", "2", "--recipes", "2",
                "--dry-run", "--wait")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert sum(line.endswith(" completed") for line in lines) == 2  # each run's end, as it happened
    report = _json(c2xc(svc, "submit", "again, for scripts", "--dry-run", "--wait", "--json"))
    assert report["batch"]["status"] == "completed" and [r["status"] for r in report["runs"]] == ["completed"]


def test_submit_without_wait_creates_exactly_one_batch(svc):
    created = _json(c2xc(svc, "submit", "one batch only", "--dry-run", "--json"))
    batches = svc.get("/batches", params={"q": "one batch only"}).json()["items"]
    assert [b["batch_id"] for b in batches] == [created["batch"]["batch_id"]]


def test_reading_a_run_every_way(svc):
    run_id = _json(c2xc(svc, "submit", "read me", "--dry-run", "--recipes", "2", "--wait", "--json"))[
        "runs"][0]["run_id"]
    listed = _json(c2xc(svc, "runs", "--limit", "5", "--json"))
    assert run_id in [r["run_id"] for r in listed] and listed[0]["run_id"] == run_id  # newest first
    assert run_id in c2xc(svc, "runs", "--status", "completed").stdout
    shown = c2xc(svc, "show", run_id)
    both = _json(c2xc(svc, "show", run_id, "--json"))
    assert both["run"]["run_id"] == run_id and len(both["output"]["recipes_json"]["recipes"]) == 2
    assert shown.returncode == 0 and "completed" in shown.stdout
    for recipe in both["output"]["recipes_json"]["recipes"]:  # the dry run picks them by run id
        assert recipe["small_molecule_modifier"] in shown.stdout and recipe["M1"] in shown.stdout
    cited = both["output"]["citations"]
    assert cited and all(f"{alias}\t{ref}" in shown.stdout for alias, ref in cited.items())  # with the recipes
    output = _json(c2xc(svc, "output", run_id, "--json"))
    assert output == both["output"]
    evidence = c2xc(svc, "evidence", run_id, "C1")
    assert evidence.returncode == 0 and "DRY RUN placeholder" in evidence.stdout
    watched = c2xc(svc, "watch", run_id)
    assert watched.returncode == 0
    assert watched.stdout.splitlines()[0].split()[2] == "run_started"
    assert watched.stdout.rstrip().endswith(f"run {run_id} completed")
    only = c2xc(svc, "watch", run_id, "--types", "kb_query", "--json")
    assert {json.loads(line)["event_type"] for line in only.stdout.splitlines()} == {"kb_query"}
    assert _json(c2xc(svc, "worker", "--json"))["worker"]["running"] is True


def test_watch_follows_a_run_live_until_it_ends(svc):
    created = _json(c2xc(svc, "submit", "watch me live", "--dry-run", "--recipes", "3", "--json"))
    run_id = created["runs"][0]["run_id"]
    watched = c2xc(svc, "watch", run_id, "--details")
    assert watched.returncode == 0, watched.stderr
    kinds = [line.split()[2] for line in watched.stdout.splitlines()[:-1]]
    assert kinds[0] == "run_started" and kinds[-1] == "final_output" and "kb_query" in kinds


def test_cancel_a_batch_and_wait_reports_the_runs_did_not_complete(svc, tmp_path):
    with running_service(tmp_path, {"C2XC_DRY_RUN_STEP_DELAY_S": "1"}) as slow:
        url = slow.base_url.rsplit("/api/v1", 1)[0]
        created = _json(c2xc(slow, "submit", "cancel me", "--dry-run", "--runs", "3", "--json", url=url))
        batch_id = created["batch"]["batch_id"]
        canceled = c2xc(slow, "cancel", batch_id, "--reason", "wrong metals", url=url)
        assert canceled.returncode == 0 and "requested" in canceled.stdout
        waited = c2xc(slow, "submit", "x", "--dry-run", "--json", url=url)  # another batch still works
        assert waited.returncode == 0
        slow.wait_batch_finished(batch_id)
        first = created["runs"][0]["run_id"]
        watched = c2xc(slow, "watch", first, url=url)
        assert watched.returncode == 1 and watched.stdout.rstrip().endswith(f"run {first} canceled")


def test_errors_are_one_line_with_distinct_exit_codes(svc):
    missing = c2xc(svc, "show", "run_doesnotexist")
    assert missing.returncode == 3 and missing.stderr.strip() == \
        "c2xc show: not_found: run 'run_doesnotexist' does not exist"
    unwatchable = c2xc(svc, "watch", "run_doesnotexist")  # the stream's own envelope
    assert unwatchable.returncode == 3 and unwatchable.stderr.startswith("c2xc watch: not_found: ")
    refused = c2xc(svc, "submit", "", "--dry-run")
    assert refused.returncode == 5 and refused.stderr.startswith("c2xc submit: invalid_argument: ")
    assert "user_request" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    usage = c2xc(svc, "submit")
    assert usage.returncode == 2 and "request" in usage.stderr
    with socket.socket() as probe:  # a port nobody listens on: the service is down
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = c2xc(svc, "runs", url=f"http://127.0.0.1:{port}")
    assert down.returncode == 4 and down.stderr.startswith("c2xc runs: unreachable: ")
    assert len(down.stderr.strip().splitlines()) == 1


def test_the_token_comes_from_the_environment(tmp_path):
    token = "cli-token-8c1f4e2a7b9d"
    with running_service(tmp_path, {"C2XC_API_TOKEN": token}) as guarded:
        url = guarded.base_url.rsplit("/api/v1", 1)[0]
        refused = c2xc(guarded, "worker", url=url)
        assert refused.returncode == 5 and "unauthenticated" in refused.stderr and token not in refused.stderr
        assert c2xc(guarded, "worker", url=url, env={"C2XC_API_TOKEN": token}).returncode == 0


@pytest.mark.parametrize("url", ["127.0.0.1:8000", "localhost", "ftp://127.0.0.1:8000", "http://"])
def test_an_address_without_its_scheme_is_a_one_line_usage_error(svc, url):
    done = c2xc(svc, "runs", url=url)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert "http://" in done.stderr


@pytest.mark.parametrize("args", [["--runs", "6"], ["--runs", "0"], ["--recipes", "4"], ["--runs", "two"]])
def test_values_the_service_would_refuse_are_refused_by_the_client(svc, args):
    before = svc.get("/batches", params={"limit": 200}).json()["items"]
    done = c2xc(svc, "submit", "out of range", "--dry-run", *args)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert svc.get("/batches", params={"limit": 200}).json()["items"] == before


def test_run_ids_are_never_cut_in_an_80_column_terminal(svc, monkeypatch, capsys):
    from rich.console import Console

    from client import cli, render
    monkeypatch.setenv("C2XC_URL", svc.base_url.rsplit("/api/v1", 1)[0])
    batch = svc.create_batch(n_runs=2, user_request="a request long enough to fold " * 3)
    svc.wait_batch_finished(batch["batch"]["batch_id"])
    narrow = Console(width=80, force_terminal=True, color_system=None)
    monkeypatch.setattr(render, "out", narrow)
    with narrow.capture() as captured:
        assert cli.main(["runs", "--limit", "5"]) == 0
    text = captured.get()
    for run in batch["runs"]:
        assert run["run_id"] in text, text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_export_writes_the_csv_for_a_batch_or_everything(svc, tmp_path):
    batch = svc.create_batch(n_runs=1, recipes_per_run=2, user_request="export me")
    svc.wait_batch_finished(batch["batch"]["batch_id"])
    target = tmp_path / "one.csv"
    done = c2xc(svc, "export", "--batch", batch["batch"]["batch_id"], "-o", str(target), "--excel")
    assert done.returncode == 0, done.stderr
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and len(data.decode("utf-8-sig").splitlines()) == 3
    everything = c2xc(svc, "export", "--format", "jsonl")
    assert everything.returncode == 0 and len(everything.stdout.splitlines()) >= 2
    assert c2xc(svc, "export", "--batch", "batch_nope").returncode == 3
    assert c2xc(svc, "export", "--format", "jsonl", "--excel").returncode == 2


def test_experiments_from_a_terminal_add_set_import_export(svc, tmp_path):
    import requests

    product = requests.post(f"{svc.base_url}/products", json={"name": "C2H4"}, timeout=30).json()
    added = _json(c2xc(svc, "experiments", "add", "--m1", "Mo", "--m2", "Cu", "--ratio", "3:1",
                       "--smiles", "OC(=O)c1ccccc1", "--json"))
    assert added["recipe"]["recipe_key"] == "Cu1Mo3|O=C(O)c1ccccc1" and added["status"] == "planned"
    done = _json(c2xc(svc, "experiments", "set", added["experiment_id"], "--status", "measured",
                      "--product", "c2h4=2.5", "--json"))
    assert done["products"][0]["product_id"] == product["product_id"] and done["version"] == 2
    refused = c2xc(svc, "experiments", "set", added["experiment_id"], "--status", "in_lab")
    assert refused.returncode == 5 and "forward only" in refused.stderr
    notebook = tmp_path / "lab.csv"
    notebook.write_text("M1,M2,atomic_ratio,modifier_smiles,product:C2H4\nCu,Zn,1:1,OC(=O)C,1.5\n"
                        "Cu,Cu,1:1,OC(=O)C,2\n")
    bad = c2xc(svc, "experiments", "import", str(notebook))
    assert bad.returncode == 5 and "line 3:" in bad.stderr and "two different metals" in bad.stderr
    notebook.write_text("M1,M2,atomic_ratio,modifier_smiles,product:C2H4\nCu,Zn,1:1,OC(=O)C,1.5\n")
    checked = c2xc(svc, "experiments", "import", str(notebook), "--dry-run")
    assert checked.returncode == 0 and "nothing stored" in checked.stdout
    assert c2xc(svc, "experiments", "import", str(notebook)).returncode == 0
    listed = _json(c2xc(svc, "experiments", "list", "--metal", "Cu", "--json"))
    assert len(listed) == 2
    table = c2xc(svc, "experiments", "list", "--status", "measured")
    assert table.returncode == 0 and "C2H4 100%" in table.stdout
    exported = tmp_path / "experiments.csv"
    assert c2xc(svc, "experiments", "export", "-o", str(exported)).returncode == 0
    assert exported.read_text().splitlines()[0].startswith("experiment_id,status")


def test_a_newcomer_imports_the_synthetic_example_and_gets_a_plan_with_predictions(svc):
    """docs/examples/README.md's one line, against the real service: predictions with no key and no KB."""
    seeded = subprocess.run([sys.executable, "-m", "store.admin", "--db", svc.db_path, "seed-products"], cwd=REPO,
                            capture_output=True, text=True, timeout=120)
    assert seeded.returncode == 0, seeded.stderr
    imported = c2xc(svc, "experiments", "import", "docs/examples/synthetic-lab-results.csv")
    assert imported.returncode == 0 and "24 rows" in imported.stdout, imported.stderr
    plan = _json(c2xc(svc, "plan", "make", "--explore", "--size", "4", "--json"))
    assert plan["n_results"] >= 24 and plan["model_id"] and len(plan["items"]) == 4
    assert all(i["prediction"]["sd"] > 0 and i["origin"] == "planner" for i in plan["items"])
    table = c2xc(svc, "plan", "show", plan["plan_id"])
    assert table.returncode == 0 and "C2H4 share" in table.stdout and "±" in table.stdout
    accepted = c2xc(svc, "plan", "accept", plan["plan_id"], "--items", "1,2")
    assert accepted.returncode == 0 and accepted.stdout.count("planned") == 2
    again = c2xc(svc, "plan", "accept", plan["plan_id"])
    assert again.returncode == 5 and "accepted already" in again.stderr
