"""Creating a batch: overrides policy, dependency preflight, config snapshot, idempotency.

Order matters. An Idempotency-Key replay is answered before anything else
(a replay must not depend on today's configuration). Then overrides are
checked against the operator's policy and, for a normal run, the preflight
lists every missing dependency (503, nothing written). Finally the batch, its
runs and the idempotency record are written in one transaction — so a
crash, or ten concurrent requests with one key, leave exactly one whole
batch or none.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from dataclasses import dataclass
from typing import Any

from api import API_VERSION, __version__
from api.config import OverridePolicy
from api.context import Services
from api.schemas import BatchCreatedSchema
from core.errors import Conflict, DependencyUnavailable, ValidationFailed
from core.preflight import missing_for_normal_run
from core.prompts import template_versions
from core.settings import RunSettings, apply_overrides
from store import batches, idempotency, migrations
from store.db import write_transaction


@dataclass(frozen=True)
class CreateResult:
    status: int
    body: dict[str, Any]
    replayed: bool


def request_hash(body: dict[str, Any]) -> str:
    """Hash of the validated body (defaults filled in), independent of key order and spacing."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _within(path: str, roots: tuple[str, ...]) -> bool:
    real = os.path.realpath(path)
    return any(os.path.commonpath([real, os.path.realpath(root)]) == os.path.realpath(root)
               for root in roots)


def permitted_overrides(overrides: dict[str, str], policy: OverridePolicy) -> dict[str, str]:
    """The overrides a request sets, if the operator's policy allows them all; else a 422."""
    requested = {name: value.strip() for name, value in overrides.items() if value.strip()}
    problems: dict[str, list[str]] = {}
    for name, value in requested.items():
        if name not in policy.allowed_fields:
            problems[name] = ["not allowed by this server (C2XC_ALLOWED_OVERRIDES)"]
        elif name == "openai_api_base" and value.rstrip("/") not in policy.allowed_llm_base_urls:
            problems[name] = ["not in C2XC_ALLOWED_LLM_BASE_URLS"]
        elif name.startswith("kb_") and not _within(value, policy.allowed_kb_roots):
            problems[name] = ["not inside C2XC_ALLOWED_KB_ROOTS"]
    if problems:
        raise ValidationFailed("overrides are not allowed",
                               {"fields": {f"overrides.{k}": v for k, v in problems.items()}})
    return requested


def config_snapshot(settings: RunSettings, body: dict[str, Any], applied: dict[str, str]) -> dict:
    """What the runs of this batch will use — never a key or other secret."""
    return {
        "mode": "dry_run" if body["dry_run"] else "normal",
        "run": settings.snapshot(),
        "recipes_per_run": body["recipes_per_run"],
        "temperature": body["temperature"],
        "overrides_applied": applied,
        "memory": {"enabled": bool(body["memory"]) and settings.memory.enabled,
                   "requested": bool(body["memory"]), "top_k": settings.memory.top_k},
        "prompts": template_versions(),
        "versions": {"service": __version__, "api": API_VERSION,
                     "db_schema": migrations.LATEST_VERSION,
                     "python": platform.python_version()},
    }


def _replay(stored: idempotency.StoredResponse, digest: str, key: str) -> CreateResult:
    if stored.request_hash != digest:
        raise Conflict("this Idempotency-Key was used with a different request body",
                       {"idempotency_key": key, "batch_id": stored.batch_id})
    return CreateResult(stored.status, stored.body, replayed=True)


def create_batch(services: Services, body: dict[str, Any], key: str | None) -> CreateResult:
    conn = services.database.connection()
    digest = request_hash(body)
    now = time.time()
    if key:
        stored = idempotency.lookup(conn, key, now)
        if stored is not None:
            return _replay(stored, digest, key)
    applied = permitted_overrides(body["overrides"], services.api_settings.override_policy)
    settings = apply_overrides(services.run_settings, applied)

    if not body["dry_run"]:
        missing = missing_for_normal_run(settings)
        if missing:
            raise DependencyUnavailable(
                "a normal run cannot start: " + "; ".join(f"{k}: {v}" for k, v in missing.items()),
                {"missing": sorted(missing), "reasons": missing})
    snapshot = config_snapshot(settings, body, applied)
    with write_transaction(conn):
        if key:
            idempotency.lock_key(conn, key)
            stored = idempotency.lookup(conn, key, now)
            if stored is not None:
                return _replay(stored, digest, key)
        batch, runs = batches.insert_batch(
            conn, user_request=body["user_request"], n_runs=body["n_runs"],
            recipes_per_run=body["recipes_per_run"], temperature=body["temperature"],
            dry_run=body["dry_run"], config_snapshot=snapshot, extra=body["extra"], now=now)
        response = BatchCreatedSchema().dump({
            "batch": batch,
            "runs": [{"run_id": run_id, "run_index": index, "status": batch.status}
                     for run_id, index in runs]})
        if key:
            idempotency.remember(conn, key=key, request_hash=digest, status=201, body=response,
                                 batch_id=batch.batch_id, now=now,
                                 ttl_s=services.api_settings.idempotency_ttl_s)
    return CreateResult(201, response, replayed=False)
