"""c2xc-kb: build, rebuild, inspect and search real LightRAG working directories."""
import json
import os
import subprocess
import sys

import pytest

from tests.kb_fixtures import EXTRACTION_REPLY
from tests.processes import REPO

DOCS = {
    "cu_mo.md": "---\ntitle: Dual sites\ndoi: 10.1000/cumo.2025.7\n---\nCopper molybdenum dual "
                "sites in TiO2 favour ethylene through OCCO stabilisation.",
    "zr_btb.txt": "Carboxylic acid modifiers on Zr-BTB nanosheets enrich CO2 near Zr6 clusters.",
    "silver.md": "Silver suppresses hydrogen evolution on titania under visible light.",
}


@pytest.fixture(scope="module")
def fake(fake_llm):
    fake_llm.default_turn = {"content": EXTRACTION_REPLY}  # every chat call is an extraction
    return fake_llm


@pytest.fixture
def env(fake):
    return {**{k: v for k, v in os.environ.items() if not k.startswith(("C2XC_", "LIGHTRAG_"))},
            "OPENAI_API_KEY": "sk-test-builder", "OPENAI_BASE_URL": fake.base_url,
            "C2XC_LLM_MODEL": "fake-qwen", "C2XC_EMBEDDING_MODEL": "fake-hash-64",
            "C2XC_EMBEDDING_DIM": "64"}


def kb(env, *args, check=True):
    done = subprocess.run([sys.executable, "-m", "worker.kb", *map(str, args)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture
def papers(tmp_path):
    folder = tmp_path / "papers"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text)
    (folder / "silver.md.doi").write_text("10.1000/ag.42\n")
    return folder


def test_build_inspect_search_and_incremental_rebuild(env, papers, tmp_path):
    out = tmp_path / "kb"
    first = kb(env, "build", papers, "--kb", "principles", "--out", out)
    assert "added 3, updated 0, unchanged 0, failed 0" in first.stdout
    assert "[3/3 documents]" in first.stderr  # the progress line
    assert "--kb principles is deprecated; use --kb kb_principles" in first.stderr

    facts = json.loads(kb(env, "inspect", out).stdout)
    assert (facts["documents"], facts["chunks"], facts["documents_with_doi"]) == (3, 3, 2)
    assert facts["entities"] >= 2 and facts["relations"] >= 1
    assert facts["embedding"] == {"model": "fake-hash-64", "dim": 64} and facts["warning"] is None

    hits = json.loads(kb(env, "search", out, "copper molybdenum ethylene", "--top-k", "2",
                         "--mode", "naive").stdout)["chunks"]
    assert hits[0]["source"] == "10.1000/cumo.2025.7" and "OCCO" in hits[0]["content"]
    assert hits[0]["score"] is not None
    silver = json.loads(kb(env, "search", out, "silver hydrogen evolution", "--top-k", "1",
                           "--mode", "naive").stdout)["chunks"]
    assert silver[0]["source"] == "10.1000/ag.42"  # DOI from the sidecar file
    graph = json.loads(kb(env, "search", out, "copper on titania", "--keywords", "Copper,TiO2").stdout)
    assert graph["mode"] == "mix" and graph["chunks"] and graph["entities"]

    (papers / "new.md").write_text("Zinc oxide shells change CO binding on copper.")
    again = kb(env, "build", papers, "--kb", "kb_principles", "--out", out)
    assert "added 1, updated 0, unchanged 3, failed 0" in again.stdout
    assert json.loads(kb(env, "inspect", out).stdout)["chunks"] == 4

    (papers / "silver.md").write_text("Silver suppresses HER; a revised text.")
    changed = kb(env, "build", papers, "--kb", "kb_principles", "--out", out)
    assert "added 0, updated 1, unchanged 3" in changed.stdout
    assert json.loads(kb(env, "inspect", out).stdout)["chunks"] == 4  # replaced, not duplicated


def test_a_broken_document_is_reported_and_the_others_are_kept(env, papers, tmp_path):
    (papers / "broken.md").write_bytes(b"\xff\xfe not utf-8 \xff")
    done = kb(env, "build", papers, "--kb", "kb_modulation", "--out", tmp_path / "kb", check=False)
    assert done.returncode == 1
    assert "FAILED broken.md" in done.stdout and "added 3" in done.stdout
    assert json.loads(kb(env, "inspect", tmp_path / "kb").stdout)["documents"] == 3


def test_inspect_warns_and_rebuild_refuses_another_embedding(env, papers, tmp_path):
    out = tmp_path / "kb"
    kb(env, "build", papers, "--kb", "kb_principles", "--out", out)
    other = {**env, "C2XC_EMBEDDING_DIM": "32"}
    assert "built with embedding model" in json.loads(kb(other, "inspect", out).stdout)["warning"]
    refused = kb(other, "build", papers, "--kb", "kb_principles", "--out", out, check=False)
    assert refused.returncode == 2 and "was built with embedding" in refused.stderr


def test_the_worker_preflight_refuses_a_kb_built_with_another_dimension(env, papers, tmp_path, make_app):
    out = tmp_path / "kb"
    kb(env, "build", papers, "--kb", "kb_principles", "--out", out)
    client = make_app(OPENAI_API_KEY="sk-test", C2XC_EMBEDDING_MODEL="fake-hash-64",
                      C2XC_EMBEDDING_DIM="32", LIGHTRAG_KB_PRINCIPLES_DIR=str(out),
                      LIGHTRAG_KB_MODULATION_DIR=str(out)).test_client()
    reply = client.post("/api/v1/batches", json={"user_request": "x"})
    assert reply.status_code == 503
    assert "dimension 64" in reply.get_json()["error"]["details"]["reasons"]["LIGHTRAG_KB_PRINCIPLES_DIR"]


def test_without_a_key_build_and_search_say_what_is_missing_in_one_line_and_lock_nothing(env, papers, tmp_path):
    no_key = {k: v for k, v in env.items() if k != "OPENAI_API_KEY"}
    out = tmp_path / "kb"
    for args in (("build", papers, "--kb", "kb_principles", "--out", out),
                 ("search", out, "copper"), ("search", out, "copper", "--mode", "naive")):
        done = kb(no_key, *args, check=False)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr + done.stdout
        assert len(done.stderr.strip().splitlines()) == 1 and "OPENAI_API_KEY is not set" in done.stderr
    assert not (out / "c2xc_kb.json").exists() or "embedding" not in json.loads((out / "c2xc_kb.json").read_text())


def test_a_build_that_stored_nothing_does_not_bind_the_folder_to_its_embedding(env, papers, tmp_path):
    out = tmp_path / "kb"
    down = {**env, "OPENAI_BASE_URL": "http://127.0.0.1:9/v1", "C2XC_EMBEDDING_MODEL": "never-used",
            "C2XC_LLM_MAX_RETRIES": "0", "C2XC_LLM_TIMEOUT_S": "2"}
    failed = kb(down, "build", papers, "--kb", "kb_principles", "--out", out, check=False)
    assert failed.returncode == 1  # every document failed: reported, nothing stored
    assert "embedding" not in json.loads((out / "c2xc_kb.json").read_text())
    kb(env, "build", papers, "--kb", "kb_principles", "--out", out)  # the real embedding is accepted
    assert json.loads((out / "c2xc_kb.json").read_text())["embedding"]["model"] == "fake-hash-64"
