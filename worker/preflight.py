"""What a normal run needs before it may be queued.

The API calls :func:`missing_for_normal_run` before writing anything; a
non-empty answer becomes ``503 dependency_unavailable`` listing every missing
item, so a scientist learns at submit time — not an hour later from a failed
run — that a key or a knowledge base is absent. Dry runs need none of this.
The checks are cheap (no import is executed, no network is touched).
"""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from worker.settings import RunSettings

REQUIRED_PACKAGES = {"openai": "openai", "lightrag": "lightrag-hku"}
# Files LightRAG writes into every working directory it has built.
LIGHTRAG_MARKERS = ("kv_store_text_chunks.json", "vdb_chunks.json")
# Written by our knowledge-base builder: embedding model/dimension, DOI per document.
KB_METADATA_FILE = "c2xc_kb.json"


def embedding_mismatch(path: str, model: str, dim: int) -> str | None:
    """Why a KB built with another embedding cannot be searched with ours, if it was."""
    metadata = Path(path) / KB_METADATA_FILE
    if not metadata.is_file():
        return None
    try:
        built = json.loads(metadata.read_text()).get("embedding") or {}
    except (OSError, ValueError) as exc:
        return f"{metadata} is unreadable: {exc}"
    if built and (built.get("model") != model or built.get("dim") != dim):
        return (f"{path} was built with embedding model {built.get('model')!r} (dimension "
                f"{built.get('dim')}); configured: {model!r} (dimension {dim})")
    return None


def _kb_problem(path: str, settings: RunSettings) -> str | None:
    if not path:
        return "not configured"
    directory = Path(path)
    if not directory.is_dir():
        return f"directory {path} does not exist"
    absent = [name for name in LIGHTRAG_MARKERS if not (directory / name).is_file()]
    if absent:
        return f"{path} is not a LightRAG working directory (no {', '.join(absent)})"
    return embedding_mismatch(path, settings.embedding_model, settings.embedding_dim)


def missing_for_normal_run(settings: RunSettings) -> dict[str, str]:
    """Every missing dependency by name, with why; empty when a normal run can start."""
    missing: dict[str, str] = {}
    for module, distribution in REQUIRED_PACKAGES.items():
        if importlib.util.find_spec(module) is None:
            missing[f"python_package:{distribution}"] = f"'{module}' is not importable"
    if not settings.api_key:
        missing[settings.llm_api_key_env] = "environment variable is not set"
    if not settings.llm_model:
        missing["C2XC_LLM_MODEL"] = "no LLM model configured"
    if not settings.embedding_model:
        missing["C2XC_EMBEDDING_MODEL"] = "no embedding model configured"
    for variable, path in (("LIGHTRAG_KB_PRINCIPLES_DIR", settings.kb_principles_dir),
                           ("LIGHTRAG_KB_MODULATION_DIR", settings.kb_modulation_dir)):
        problem = _kb_problem(path, settings)
        if problem:
            missing[variable] = problem
    return missing
