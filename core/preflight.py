"""What a normal run needs before it may be queued.

The API calls :func:`missing_for_normal_run` before writing anything; a
non-empty answer becomes ``503 dependency_unavailable`` listing every missing
item, so a scientist learns at submit time — not an hour later from a failed
run — that a key or a knowledge base is absent. Dry runs need none of this.
The checks are cheap: no package is imported, no network is touched.
"""
from __future__ import annotations

import importlib.util

from core.kb_folder import KB_DIR_VARIABLES, folder_problem
from core.settings import RunSettings

REQUIRED_PACKAGES = {"openai": "openai", "lightrag": "lightrag-hku", "rdkit": "rdkit"}


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
    for namespace, directory in settings.kb_dirs().items():
        problem = folder_problem(directory, settings.embedding_model, settings.embedding_dim)
        if problem:
            missing[KB_DIR_VARIABLES[namespace]] = problem
    return missing
