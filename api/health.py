"""Liveness and version: cheap, and honest about the database."""
from __future__ import annotations

from flask.views import MethodView

from api import API_VERSION, __version__
from api.blueprint import Blueprint
from api.context import conn, services
from api.schemas import HealthSchema, VersionSchema
from store import migrations

blp = Blueprint("health", __name__, description="Liveness and versions")
HEALTH_WAIT_S = 1.5  # a load balancer's health check gives up after about 2 s


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    @blp.alt_response(503, description="database unreachable")
    @blp.doc(security=[])  # monitors need no token
    def get(self):
        """Liveness: the process answers and the database is reachable (503 within 1.5 s when not)."""
        services().database.connection(timeout_s=HEALTH_WAIT_S).execute("SELECT 1 FROM meta LIMIT 1").fetchall()
        return {"status": "ok"}


@blp.route("/version")
class Version(MethodView):
    @blp.response(200, VersionSchema)
    def get(self):
        """Package version, API version and database schema version."""
        return {"version": __version__, "api_version": API_VERSION,
                "schema_version": migrations.current_version(conn()),
                "code_schema_version": migrations.LATEST_VERSION}
