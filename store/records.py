"""Records passed from the store to the API and the worker (plain dataclasses).

JSON columns are decoded here, once, so no caller handles SQL rows.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Batch:
    batch_id: str
    created_at: float
    status: str
    user_request: str
    n_runs: int
    recipes_per_run: int
    temperature: float
    dry_run: bool
    config_snapshot: dict[str, Any]
    schema_version: int
    extra: dict[str, Any]
    run_counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: sqlite3.Row, run_counts: dict[str, int] | None = None) -> "Batch":
        return cls(
            batch_id=row["batch_id"], created_at=row["created_at"], status=row["status"],
            user_request=row["user_request"], n_runs=row["n_runs"],
            recipes_per_run=row["recipes_per_run"], temperature=row["temperature"],
            dry_run=bool(row["dry_run"]), config_snapshot=json.loads(row["config_snapshot_json"]),
            schema_version=row["schema_version"], extra=json.loads(row["extra_json"]),
            run_counts=run_counts or {},
        )


@dataclass(frozen=True)
class Run:
    run_id: str
    batch_id: str
    run_index: int
    status: str
    created_at: float
    started_at: float | None
    finished_at: float | None
    worker_id: str | None
    error_code: str | None
    error_message: str | None
    dry_run: bool
    cancel_requested_at: float | None
    cancel_reason: str | None
    trace_pruned_at: float | None = None

    @property
    def cancel_requested(self) -> bool:
        return self.cancel_requested_at is not None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Run":
        return cls(**{name: row[name] for name in (
            "run_id", "batch_id", "run_index", "status", "created_at", "started_at",
            "finished_at", "worker_id", "error_code", "error_message",
            "cancel_requested_at", "cancel_reason", "trace_pruned_at")}, dry_run=bool(row["dry_run"]))


@dataclass(frozen=True)
class ClaimedRun:
    """What the worker needs to execute a run it has just claimed."""

    run_id: str
    batch_id: str
    run_index: int
    user_request: str
    recipes_per_run: int
    temperature: float
    dry_run: bool
    config_snapshot: dict[str, Any]


@dataclass(frozen=True)
class Event:
    event_id: str
    run_id: str
    created_at: float
    event_type: str
    payload_bytes: int
    seq: int
    payload: Any = None


@dataclass(frozen=True)
class EvidenceItem:
    alias: str
    ref: str
    source: str
    kb_namespace: str
    lightrag_chunk_id: str
    created_at: float
    seq: int = 0
    content: str | None = None


@dataclass(frozen=True)
class RunOutput:
    recipes_json: dict[str, Any]
    citations: dict[str, str]
    memory_ids: list[Any]


@dataclass(frozen=True)
class WorkerInfo:
    worker_id: str
    pid: int
    host: str
    started_at: float
    heartbeat_at: float
    stopped_at: float | None
    current_run_id: str | None
    poll_interval_s: float
    reconciled_running_runs: int


@dataclass(frozen=True)
class Product:
    product_id: str
    name: str
    status: str
    created_at: float
    updated_at: float
    schema_version: int
    extra: dict[str, Any]

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Product":
        return cls(product_id=row["product_id"], name=row["name"], status=row["status"],
                   created_at=row["created_at"], updated_at=row["updated_at"],
                   schema_version=row["schema_version"], extra=json.loads(row["extra_json"]))


@dataclass(frozen=True)
class Preset:
    preset_id: str
    name: str
    status: str
    products: list[Product]  # in the preset's order
    created_at: float
    updated_at: float
    schema_version: int
    extra: dict[str, Any]


@dataclass(frozen=True)
class FeedbackProduct:
    product_id: str
    name: str
    status: str
    value: float
    fraction: float


@dataclass(frozen=True)
class Feedback:
    run_id: str
    feedback_id: str
    score: float
    pros: str
    cons: str
    other: str
    recipe_index: int | None
    products: list[FeedbackProduct]
    value_sum: float
    fractions_all_zero: bool
    created_at: float
    updated_at: float
    schema_version: int
    extra: dict[str, Any]
    version: int = 1  # counts every save; a learn job learns from one version
