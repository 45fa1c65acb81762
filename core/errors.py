"""One hierarchy for every expected failure: a stable code, a readable message, details.

Every layer raises these. ``api/errors.py`` maps ``http_status`` onto the
error envelope, once, for the whole family; the worker records ``code`` and
``message`` on a failed run. The codes are part of the public contract
(``docs/API.md`` lists them, a test checks the list): never rename one.
"""
from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base of every expected failure."""

    code = "internal"
    http_status = 500

    def __init__(self, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


# --- what a client did wrong, or what the service cannot do now (HTTP) -------

class InvalidArgument(ServiceError):
    code = "invalid_argument"
    http_status = 400


class ValidationFailed(InvalidArgument):
    """A well-formed request whose content is not acceptable (same status as schema errors)."""

    http_status = 422


class UrlTooLong(InvalidArgument):
    """A URL longer than the service reads (a search that belongs in a body, or a mistake)."""

    http_status = 414


class NotFound(ServiceError):
    code = "not_found"
    http_status = 404


class Unauthenticated(ServiceError):
    """No valid token (or session) where the service requires one."""

    code = "unauthenticated"
    http_status = 401


class Forbidden(ServiceError):
    """Authenticated, but the request may not be made this way (e.g. a cross-site form)."""

    code = "forbidden"
    http_status = 403


class Conflict(ServiceError):
    code = "conflict"
    http_status = 409


class PreconditionFailed(ServiceError):
    """A conditional write (``If-Match``) named a version that is no longer current."""

    code = "precondition_failed"
    http_status = 412


class LeaseLost(Conflict):
    """A worker tried to write to a run it no longer holds (its lease expired)."""


class DependencyUnavailable(ServiceError):
    code = "dependency_unavailable"
    http_status = 503


class SchemaTooNew(DependencyUnavailable):
    """The database was migrated by a newer release than this code."""


class ConfigError(ServiceError):
    """A setting holds a value the service cannot use; raised at start-up, never per request."""

    code = "config_error"


# --- why a run failed (recorded on the run, never sent as an HTTP status) -----

class RunFailure(ServiceError):
    """An expected failure of a run; the subclass names it."""

    code = "internal_error"


class InvalidOutput(RunFailure):
    code = "invalid_output"


class AgentBoundsExceeded(RunFailure):
    code = "agent_bounds_exceeded"


class LlmUnavailable(RunFailure):
    code = "llm_unavailable"


class LlmError(RunFailure):
    code = "llm_error"


class KbError(RunFailure):
    code = "kb_error"


HTTP_ERROR_CODES = ("invalid_argument", "unauthenticated", "forbidden", "not_found",
                    "method_not_allowed", "conflict", "precondition_failed", "payload_too_large",
                    "dependency_unavailable", "internal")

# Every code a failed run can carry, with what it means for the person reading it.
RUN_ERROR_CODES = {
    "worker_lost": "its worker died or froze; found by reconcile (next start or another worker)",
    "worker_shutdown": "the worker was stopped (SIGTERM/SIGINT) during the run",
    "storage_error": "the database refused to record the run's end (e.g. disk full)",
    InvalidOutput.code: "the final answer still failed validation after the allowed repairs",
    AgentBoundsExceeded.code: "the agent hit a limit (steps, LLM calls, tool calls, depth)",
    LlmUnavailable.code: "the LLM endpoint kept failing (429/5xx/timeouts) after the retries",
    LlmError.code: "the LLM endpoint refused the request (4xx)",
    KbError.code: "a knowledge base is missing, unreadable, or built with another embedding",
    DependencyUnavailable.code: "the worker's environment lacks something a run needs (the LLM key)",
    RunFailure.code: "a bug; the run_failed event carries the traceback",
}
