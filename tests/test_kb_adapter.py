"""The LightRAG adapter against real working directories built in the test."""
import shutil
from dataclasses import replace

import pytest

from core.errors import RunFailure
from tests.kb_fixtures import build_kb, fake_endpoint_settings
from worker.kb.adapter import KnowledgeBase
from worker.llm.embeddings import openai_embedder

DOCS = {
    "cu_mo_dual_sites.md": "Copper and molybdenum dual sites doped into TiO2 stabilise *OCCO "
                           "and promote C-C coupling toward ethylene under visible light.",
    "hydrogen_evolution.md": "Silver dopants suppress the hydrogen evolution reaction by weakening "
                             "proton adsorption on the titania surface.",
    "zr_btb_modifiers.md": "Carboxylic acid modifiers capping Zr6 clusters of Zr-BTB nanosheets "
                           "tune local pKa and CO2 enrichment near the interface.",
}


@pytest.fixture(scope="module")
def settings(fake_llm, monkeypatch_module):
    monkeypatch_module.setenv("OPENAI_API_KEY", "sk-test-kb")
    return fake_endpoint_settings(fake_llm)


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture(scope="module")
def kb_dir(tmp_path_factory, settings, fake_llm):
    return build_kb(tmp_path_factory.mktemp("kb") / "principles", DOCS, settings,
                    dois={"cu_mo_dual_sites.md": "10.1000/cumo.2024.001"}, fake=fake_llm)


def _kb(settings, path):
    return KnowledgeBase("kb_principles", path, openai_embedder(settings), settings.embedding_dim,
                         settings.embedding_model)


def _search(settings, path, query, top_k, **options):
    kb = _kb(settings, path)
    try:
        return kb.search(query, top_k=top_k, **options).chunks
    finally:
        kb.close()


def test_search_returns_lightrag_chunks_with_ids_and_sources(settings, kb_dir):
    chunks = _search(settings, kb_dir, "copper molybdenum ethylene coupling", 2, mode="naive")
    assert chunks and chunks[0].content == DOCS["cu_mo_dual_sites.md"]
    assert chunks[0].source == "10.1000/cumo.2024.001"  # DOI recorded at build time
    assert chunks[0].chunk_id.startswith(("chunk-", "doc-"))


def test_a_document_without_doi_is_cited_by_its_file_name(settings, kb_dir):
    chunks = _search(settings, kb_dir, "carboxylic acid Zr-BTB pKa", 1, mode="naive")
    assert [c.source for c in chunks] == ["zr_btb_modifiers.md"]


def test_a_knowledge_base_that_vanished_fails_clearly(settings, kb_dir, tmp_path):
    copy = shutil.copytree(kb_dir, tmp_path / "copy")
    kb = _kb(settings, str(copy))
    try:
        assert kb.search("silver hydrogen evolution", top_k=1, mode="naive").chunks
        shutil.rmtree(copy)
        with pytest.raises(RunFailure) as failure:
            kb.search("silver", top_k=1, mode="naive")
    finally:
        kb.close()
    assert failure.value.code == "kb_error" and "missing" in failure.value.message


@pytest.mark.parametrize("dim, model", [(32, "fake-hash-64"), (64, "another-model")])
def test_an_embedding_model_or_dimension_mismatch_is_refused(settings, kb_dir, dim, model):
    wrong = replace(settings, embedding_dim=dim, embedding_model=model)
    kb = KnowledgeBase("kb_principles", kb_dir, openai_embedder(wrong), dim, model)
    try:
        with pytest.raises(RunFailure) as failure:
            kb.search("copper", top_k=1)
    finally:
        kb.close()
    assert failure.value.code == "kb_error" and "was built with embedding model" in failure.value.message


def test_an_endpoint_returning_another_dimension_is_refused(settings, kb_dir, tmp_path):
    copy = shutil.copytree(kb_dir, tmp_path / "nometa")
    (copy / "c2xc_kb.json").unlink()
    wrong = replace(settings, embedding_dim=32)
    kb = KnowledgeBase("kb_principles", str(copy), openai_embedder(wrong), 32, "fake")
    try:
        with pytest.raises(RunFailure) as failure:
            kb.search("copper", top_k=1)
    finally:
        kb.close()
    assert failure.value.code == "kb_error"


def test_two_kbs_built_in_one_process_keep_only_their_own_documents(settings, fake_llm, tmp_path):
    """LightRAG shares storage per workspace inside a process; each KB must get its own."""
    import json
    other_docs = {"tfa.md": "Trifluoroacetic acid makes the MOF interface hydrophobic."}
    first = build_kb(tmp_path / "first", DOCS, settings, fake=fake_llm)
    second = build_kb(tmp_path / "second", other_docs, settings, fake=fake_llm)
    for folder, docs in ((first, DOCS), (second, other_docs)):
        stored = json.loads((tmp_path / folder / "kv_store_text_chunks.json").read_text())
        assert sorted(c["content"] for c in stored.values()) == sorted(docs.values())


OTHER_DOCS = {"tfa.md": "Trifluoroacetic acid modifiers make the Zr-BTB interface hydrophobic and "
                        "keep copper sites dry.",
              "mba.md": "Mercaptobenzoic acid caps Zr6 clusters and enriches CO2 near titania."}
KEYWORDS = {"high_level": ["copper doped into TiO2"], "low_level": ["Copper", "TiO2"]}


@pytest.mark.parametrize("mode", ["mix", "naive", "local", "global", "hybrid"])
def test_two_kbs_open_in_one_process_return_only_their_own_chunks_in_every_mode(
        settings, fake_llm, kb_dir, tmp_path_factory, mode):
    """Both KBs' graphs hold the same entities (Copper, TiO2): a shared store would mix them."""
    other = build_kb(tmp_path_factory.mktemp("other") / "modulation", OTHER_DOCS, settings,
                     fake=fake_llm)
    first = _kb(settings, kb_dir)
    second = KnowledgeBase("kb_modulation", other, openai_embedder(settings), settings.embedding_dim,
                           settings.embedding_model)
    try:
        for _ in range(2):  # interleaved, both open at once
            for kb, docs in ((first, DOCS), (second, OTHER_DOCS)):
                found = kb.search("copper on titania", top_k=4, mode=mode, keywords=KEYWORDS)
                assert found.chunks, (kb.namespace, mode)
                assert {c.content for c in found.chunks} <= set(docs.values()), (kb.namespace, mode)
                if mode != "naive":
                    assert {e["name"] for e in found.entities} <= {"Copper", "TiO2"}
    finally:
        first.close()
        second.close()


def test_without_keywords_the_graph_modes_ask_the_callers_extractor(settings, kb_dir):
    prompts = []

    def extractor(prompt):
        prompts.append(prompt)
        return '{"high_level_keywords": ["doping"], "low_level_keywords": ["Copper"]}'

    kb = _kb(settings, kb_dir)
    try:
        found = kb.search("which metal pairs favour ethylene?", top_k=2, mode="mix",
                          extract_keywords=extractor)
    finally:
        kb.close()
    assert len(prompts) == 1 and "which metal pairs favour ethylene?" in prompts[0]
    assert found.keywords == {"high_level": ["doping"], "low_level": ["Copper"]}
    assert found.chunks and found.relations


def test_whatever_the_extractor_raises_comes_out_of_the_search_unchanged(settings, kb_dir):
    class Stop(Exception):
        pass

    def extractor(prompt):
        raise Stop("cancel requested")

    kb = _kb(settings, kb_dir)
    try:
        with pytest.raises(Stop):
            kb.search("copper", top_k=1, mode="local", extract_keywords=extractor)
        assert kb.search("silver hydrogen evolution", top_k=1, mode="naive").chunks  # still works
    finally:
        kb.close()
