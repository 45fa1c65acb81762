"""Every error handler in one place: each non-2xx response is the same envelope.

``{"error": {"code": ..., "message": ..., "details": {...}}}`` — for our own
``ServiceError`` hierarchy, for werkzeug's 404/405/413, for webargs/marshmallow
validation (422, with the offending fields listed) and malformed JSON (400),
and for anything unexpected (500, logged here with its traceback, answered
with no trace and no secret).
"""
from __future__ import annotations

import logging
import sqlite3

import psycopg
from flask import Flask, jsonify, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from api.schemas import ErrorEnvelopeSchema
from core.errors import HTTP_ERROR_CODES, ServiceError, UrlTooLong

log = logging.getLogger("c2xc.api")

_CODE_BY_STATUS = {
    400: "invalid_argument", 404: "not_found", 405: "method_not_allowed", 409: "conflict",
    412: "precondition_failed", 413: "payload_too_large", 414: "invalid_argument", 422: "invalid_argument",
    503: "dependency_unavailable",
}
_MESSAGE_BY_STATUS = {
    400: "the request is malformed",
    404: "no such resource",
    405: "this method is not allowed on this resource",
    413: "the request body is larger than the server accepts",
    422: "the request did not pass validation",
}

# The longest path + query string read; longer is a 414 envelope (gunicorn's line limit is 8190).
MAX_URL_BYTES = 4096

# sqlite3 errors that mean "the database cannot serve now", not "our bug".
_UNAVAILABLE_DATABASE = ("locked", "busy", "readonly", "disk", "full", "unable to open", "i/o")


def envelope(status: int, code: str, message: str, details: dict | None = None):
    return jsonify({"error": {"code": code, "message": message, "details": details or {}}}), status


def _code_for(status: int) -> str:
    if status in _CODE_BY_STATUS:
        return _CODE_BY_STATUS[status]
    return "internal" if status >= 500 else "invalid_argument"


def _validation_details(messages: dict) -> dict:
    """webargs groups messages by location ({"json": {...}}); flatten to the fields."""
    fields: dict = {}
    for location, per_field in messages.items():
        if isinstance(per_field, dict):
            fields.update(per_field)
        else:
            fields[location] = per_field
    return {"fields": fields, "locations": sorted(messages)}


class EnvelopeApi(Api):
    """flask-smorest's Api with our envelope for HTTP errors (and in the spec)."""

    ERROR_SCHEMA = ErrorEnvelopeSchema

    def handle_http_exception(self, error: HTTPException):
        status = error.code or 500
        if status == 304:  # ETag matched (If-None-Match): not an error, and no body
            return error.get_response()

        data = getattr(error, "data", None) or {}
        details = {}
        message = _MESSAGE_BY_STATUS.get(status, error.description or error.name)
        if "messages" in data:
            details = _validation_details(data["messages"])
            if status == 400:
                message = "the request body is not valid JSON"
        if status == 405 and getattr(error, "valid_methods", None):
            details = {"allowed_methods": sorted(error.valid_methods)}
        response, status = envelope(status, _code_for(status), message, details)
        headers = data.get("headers") or {}
        if status == 405 and getattr(error, "valid_methods", None):
            headers = {**headers, "Allow": ", ".join(sorted(error.valid_methods))}
        return response, status, headers


def refuse_long_urls() -> None:
    """Before any handler: a URL over MAX_URL_BYTES is a 414 envelope, never a 500 or an HTML page."""
    size = len(request.environ.get("PATH_INFO", "")) + len(request.environ.get("QUERY_STRING", ""))
    if size > MAX_URL_BYTES:
        raise UrlTooLong(f"the URL is {size:,} bytes; the service reads at most {MAX_URL_BYTES:,} "
                         "(shorten the search or the filters)", {"bytes": size, "max_bytes": MAX_URL_BYTES})


def register_error_handlers(app: Flask) -> None:
    app.before_request(refuse_long_urls)

    @app.errorhandler(ServiceError)
    def handle_service_error(error: ServiceError):
        if error.code not in HTTP_ERROR_CODES:  # a run failure or config error here is our bug
            return handle_unexpected(error)
        return envelope(error.http_status, error.code, error.message, error.details)

    @app.errorhandler(sqlite3.OperationalError)
    def handle_database_error(error: sqlite3.OperationalError):
        text = str(error).lower()
        if any(marker in text for marker in _UNAVAILABLE_DATABASE):
            log.error("database unavailable: %s", error)
            return envelope(503, "dependency_unavailable", f"the database is unavailable: {error}",
                            {"missing": ["database"]})
        return handle_unexpected(error)

    @app.errorhandler(psycopg.OperationalError)
    def handle_postgres_unavailable(error: psycopg.OperationalError):
        """Connection lost, server restarting, lock or statement timeout: try again later."""
        log.error("database unavailable: %s", error)
        first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
        return envelope(503, "dependency_unavailable", f"the database is unavailable: {first_line}",
                        {"missing": ["database"]})

    @app.errorhandler(sqlite3.IntegrityError)
    @app.errorhandler(psycopg.IntegrityError)
    def handle_integrity_error(error: Exception):
        """A rule the database holds (SPEC 13): a concurrent writer got there first.

        The store checks every rule before it writes, so a violation that
        still reaches here lost a race (two creates of one name, a product
        archived between the check and the insert): a 409, never a 500.
        """
        log.warning("conflict reported by the database: %s", error)
        return envelope(409, "conflict", "a concurrent change conflicts with this request; "
                        "read the resource again and retry", {"reason": "concurrent_change"})

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        log.exception("unhandled error")
        return envelope(500, "internal", "internal error; the server log has the details")
