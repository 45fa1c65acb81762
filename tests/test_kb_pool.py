"""The worker keeps knowledge bases open across runs and reopens one only when it changed on disk."""
import pytest

from tests.kb_fixtures import build_kb, fake_endpoint_settings
from worker.kb.pool import KnowledgeBasePool

DOCS = {"cu.md": "Copper dual sites on titania favour ethylene.",
        "ag.md": "Silver suppresses hydrogen evolution on titania."}


@pytest.fixture
def settings(fake_llm, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-pool")
    return fake_endpoint_settings(fake_llm)


def test_a_kb_is_opened_once_and_reopened_after_a_rebuild(settings, fake_llm, tmp_path):
    folder = build_kb(tmp_path / "kb", DOCS, settings, fake=fake_llm)
    pool = KnowledgeBasePool()
    try:
        first = pool.get("kb_principles", folder, settings)
        assert first.search("silver hydrogen evolution", 1, mode="naive").chunks
        again = pool.get("kb_principles", folder, settings)
        assert again is first and pool.opened == 1  # the next run reuses the open KB

        build_kb(tmp_path / "kb", {**DOCS, "zn.md": "Zinc oxide shells tune CO binding."},
                 settings, fake=fake_llm)
        rebuilt = pool.get("kb_principles", folder, settings)
        assert rebuilt is not first and pool.opened == 2
        found = rebuilt.search("zinc oxide shells", 1, mode="naive").chunks
        assert [c.content for c in found] == ["Zinc oxide shells tune CO binding."]
    finally:
        pool.close()


def test_another_folder_for_the_same_kb_replaces_the_open_one(settings, fake_llm, tmp_path):
    one = build_kb(tmp_path / "one", DOCS, settings, fake=fake_llm)
    two = build_kb(tmp_path / "two", {"zn.md": "Zinc oxide shells tune CO binding."}, settings,
                   fake=fake_llm)
    pool = KnowledgeBasePool()
    try:
        first = pool.get("kb_principles", one, settings)
        first.search("copper", 1, mode="naive")
        second = pool.get("kb_principles", two, settings)
        assert second is not first and first.opened_version is None  # closed
        assert [c.content for c in second.search("zinc oxide shells", 1, mode="naive").chunks] == \
            ["Zinc oxide shells tune CO binding."]
    finally:
        pool.close()
