"""Per-app services reachable from any handler: the database and the settings.

Stored on ``app.extensions`` by the factory, so tests can build several apps
with different databases in one process.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from api.config import ApiSettings
from api.event_stream import CommitWatcher, RunFeeds, StreamSlots
from core.planner.lab import ModelCache
from core.settings import PlannerSettings, RunSettings, WorkerSettings, load_planner_settings
from store.db import Database
from store.memory_search import MemoryIndex


@dataclass(frozen=True)
class StreamState:
    watcher: CommitWatcher
    slots: StreamSlots
    feeds: RunFeeds


@dataclass(frozen=True)
class Services:
    database: Database
    api_settings: ApiSettings
    run_settings: RunSettings
    worker_settings: WorkerSettings
    streams: StreamState
    memory_index: MemoryIndex = field(default_factory=MemoryIndex)  # for GET /memories?q=
    models: ModelCache = field(default_factory=ModelCache)  # the planner's fitted models, by model_id
    lab_models: dict = field(default_factory=dict)  # the lab model of the newest results marker
    planner: PlannerSettings = field(default_factory=load_planner_settings)  # read once per process


def services() -> Services:
    return current_app.extensions["c2xc"]


def conn():
    """This thread's connection (SQLite, or one borrowed from the PostgreSQL pool until the
    request ends)."""
    return services().database.connection()
