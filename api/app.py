"""The app factory: wires configuration, the database, error handlers and blueprints.

Nothing else happens here. The database is migrated at start-up (a no-op
when it is current; refused, loudly, when it is newer than this code). A
PostgreSQL server that is only *unreachable* at start-up (a restart while a
gunicorn worker boots) does not stop the server: the check waits for the
first request that can reach it, and until then requests get the 503
envelope.
"""
from __future__ import annotations

import logging

from flask import Flask, send_from_directory
from swagger_ui_bundle import swagger_ui_path

from api import (
    API_VERSION,
    __version__,
    auth,
    batches,
    debug,
    events,
    evidence,
    experiments,
    export,
    feedback,
    health,
    learning,
    memories,
    plans,
    products,
    runs,
    structures,
    system,
)
from api.config import ApiSettings, load_api_settings
from api.context import Services, StreamState
from api.errors import EnvelopeApi, register_error_handlers
from api.event_stream import CommitWatcher, RunFeeds, StreamSlots
from api.metrics import init_metrics
from api.query_bytes import PercentEncodedQuery
from api.web import init_web
from core.errors import DependencyUnavailable, SchemaTooNew
from core.settings import load_run_settings, load_worker_settings
from store.db import API_CACHE_MB, open_database
from store.migrations import migrate

PREFIX = "/api/v1"
DOCS_ASSETS = f"{PREFIX}/docs/assets/"


def _openapi_config(app: Flask) -> None:
    app.config.update(
        API_TITLE="C2XC recipe service", API_VERSION=API_VERSION, OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=PREFIX, OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs", OPENAPI_SWAGGER_UI_URL=DOCS_ASSETS,
        # no call to the public swagger.io validator: the UI must work offline
        OPENAPI_SWAGGER_UI_CONFIG={"validatorUrl": None},
        API_SPEC_OPTIONS={
            "info": {"description": "Batches of recipe-agent runs, their traces, evidence and "
                                    "output. Every error is {\"error\": {\"code\", \"message\", "
                                    "\"details\"}}. When the service has an access token "
                                    "(C2XC_API_TOKEN), every call but /healthz needs "
                                    "`Authorization: Bearer <token>` (else 401 unauthenticated); "
                                    "a token in a query string is refused.",
                     "x-service-version": __version__},
            "components": {"securitySchemes": {"bearerToken": {
                "type": "http", "scheme": "bearer",
                "description": "C2XC_API_TOKEN, when the service sets one"}}},
            "security": [{"bearerToken": []}, {}],  # required only when a token is configured
        },
    )


def _serve_docs_assets(app: Flask) -> None:
    """Swagger UI's JS/CSS from the installed package, so the UI works offline."""

    @app.get(f"{DOCS_ASSETS}<path:filename>")
    def docs_asset(filename: str):
        return send_from_directory(str(swagger_ui_path), filename, max_age=3600)


class SchemaCheck:
    """Migrate at start-up, or — when the database cannot be reached then — before the first request
    that reaches it. A database newer than the code still stops the start (``SchemaTooNew``)."""

    def __init__(self, database):
        self.database, self.done = database, False

    def now(self) -> None:
        migrate(self.database.connection())
        self.done = True

    def now_or_later(self) -> None:
        try:
            self.now()
        except SchemaTooNew:
            raise
        except DependencyUnavailable as unreachable:
            if getattr(self.database, "dialect", None) != "postgres":
                raise  # a SQLite file that cannot be opened will not heal by waiting: stop, say why
            logging.getLogger("c2xc.api").warning(
                "database unreachable at start-up (%s); answering 503 until it is back", unreachable.message)
        finally:
            self.database.release()

    def before_request(self) -> None:
        if not self.done:
            self.now()  # unreachable still: the 503 envelope for this request


def create_app(settings: ApiSettings | None = None) -> Flask:
    settings = settings or load_api_settings()
    app = Flask(__name__, static_folder=None)  # the web blueprint serves its own static files
    app.wsgi_app = PercentEncodedQuery(app.wsgi_app)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    _openapi_config(app)
    database = open_database(settings.database, cache_mb=API_CACHE_MB, pool_size=settings.db_pool_size,
                             pool_timeout_s=settings.db_pool_timeout_s)
    schema = SchemaCheck(database)
    schema.now_or_later()
    app.before_request(schema.before_request)
    # a pooled (PostgreSQL) connection goes back to the pool when the request ends
    app.teardown_appcontext(lambda _error: database.release())
    streams = StreamState(watcher=CommitWatcher(database, settings.streams.poll_s),
                          slots=StreamSlots(settings.streams.max_streams), feeds=RunFeeds())

    auth.install(app, settings.auth.token)
    app.extensions["c2xc"] = Services(database=database, api_settings=settings,
                                      run_settings=load_run_settings(),
                                      worker_settings=load_worker_settings(), streams=streams)
    api = EnvelopeApi(app)
    register_error_handlers(app)
    modules = [health, batches, runs, events, evidence, system, structures, products, feedback,
               experiments, plans, export, memories, learning]
    if settings.enable_debug_endpoints:
        modules.append(debug)
    for module in modules:
        api.register_blueprint(module.blp, url_prefix=PREFIX)
    _serve_docs_assets(app)
    init_metrics(app)
    init_web(app)
    logging.getLogger("c2xc.api").info("API ready on database %s", database.path)
    return app
