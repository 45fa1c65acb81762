"""Knowledge bases for tests, built by the product's own builder (``c2xc-kb build``).

Documents are written to a source folder (DOIs as front matter) and ingested
with the real builder, talking to the fake OpenAI server over loopback for
embeddings and entity extraction, so every test searches a KB exactly like
one a user would build.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from core.settings import RunSettings, load_run_settings
from worker.kb.builder import build

EXTRACTION_REPLY = ("entity<|#|>TiO2<|#|>material<|#|>The titania host.\n"
                    "entity<|#|>Copper<|#|>element<|#|>A dopant metal.\n"
                    "relation<|#|>Copper<|#|>TiO2<|#|>doping<|#|>Copper is doped into TiO2.\n"
                    "<|COMPLETE|>")


def fake_endpoint_settings(fake, dim: int = 64) -> RunSettings:
    """Run settings whose LLM and embedding endpoints are the fake server."""
    return replace(load_run_settings(), embedding_base_url=fake.base_url, embedding_dim=dim,
                   embedding_model=f"fake-hash-{dim}", llm_base_url=fake.base_url,
                   llm_model="fake-qwen")


def build_kb(working_dir: Path, documents: dict[str, str], settings, dois: dict[str, str] | None = None,
             fake=None) -> str:
    """documents: file name -> text; settings must point LLM and embeddings at ``fake``."""
    source = working_dir.parent / f"{working_dir.name}-papers"
    source.mkdir(parents=True, exist_ok=True)
    for name, text in documents.items():
        doi = (dois or {}).get(name)
        (source / name).write_text(f"---\ndoi: {doi}\n---\n{text}" if doi else text)
    previous = fake.default_turn if fake else None
    if fake:
        fake.default_turn = {"content": EXTRACTION_REPLY}
    try:
        report = build(source, working_dir, "kb_principles", settings)
    finally:
        if fake:
            fake.default_turn = previous
    assert not report.failed, report.failed
    return str(working_dir)
