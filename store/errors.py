"""Errors as values with a code.

Every layer raises these; ``api/errors.py`` maps each one onto the HTTP error
envelope, the worker records them on failed runs. Keeping the hierarchy here
(the lowest layer) means no module has to import Flask to report a problem.
"""
from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base of every expected failure: a stable code plus a readable message."""

    code = "internal"
    http_status = 500

    def __init__(self, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}


class InvalidArgument(ServiceError):
    code = "invalid_argument"
    http_status = 400


class NotFound(ServiceError):
    code = "not_found"
    http_status = 404


class Conflict(ServiceError):
    code = "conflict"
    http_status = 409


class DependencyUnavailable(ServiceError):
    code = "dependency_unavailable"
    http_status = 503


class SchemaTooNew(DependencyUnavailable):
    """The database was migrated by a newer release than this code."""


class ValidationFailed(InvalidArgument):
    """A request body that is well-formed but not acceptable (same status as schema errors)."""

    http_status = 422
