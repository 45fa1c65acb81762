"""Per-app services reachable from any handler: the database and the settings.

Stored on ``app.extensions`` by the factory, so tests can build several apps
with different databases in one process.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from flask import current_app

from api.config import ApiSettings
from core.settings import RunSettings, WorkerSettings
from store.db import Database


@dataclass(frozen=True)
class Services:
    database: Database
    api_settings: ApiSettings
    run_settings: RunSettings
    worker_settings: WorkerSettings


def services() -> Services:
    return current_app.extensions["c2xc"]


def conn() -> sqlite3.Connection:
    return services().database.connection()
