"""``/_debug/*``: operator diagnostics, registered only when C2XC_ENABLE_DEBUG_ENDPOINTS=1.

Otherwise these URLs do not exist (404). Even when enabled they never show a
secret: the configuration is the same secret-free snapshot a batch records,
plus whether the key variable is set.
"""
from __future__ import annotations

from dataclasses import asdict

from flask.views import MethodView

from api.blueprint import Blueprint
from api.context import conn, services
from store.diagnostics import database_summary

blp = Blueprint("debug", __name__, description="Diagnostics (off unless enabled)")


@blp.route("/_debug/config")
class DebugConfig(MethodView):
    @blp.response(200)
    def get(self):
        """Effective configuration of this API process, without secrets."""
        s = services()
        api = asdict(s.api_settings)
        return {"api": api, "worker": asdict(s.worker_settings), "run": s.run_settings.snapshot(),
                "llm_api_key_set": bool(s.run_settings.api_key)}


@blp.route("/_debug/db")
class DebugDatabase(MethodView):
    @blp.response(200)
    def get(self):
        """Schema version, journal mode, row counts and file sizes of the database."""
        return database_summary(conn(), services().database.path)
