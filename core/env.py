"""Reading the environment: typed, validated, with one clear error per bad value.

Every setting of both processes is read through these helpers, once, at
start-up. A value that cannot be used raises :class:`ConfigError` naming the
variable, so a typo stops the process with one line instead of surfacing
later as a strange failure.
"""
from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from core.errors import ConfigError


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_float(name: str, default: float, minimum: float = 0.0) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ConfigError(f"{name}={raw!r} is not a finite number")
    if value < minimum:
        raise ConfigError(f"{name}={raw!r} must be at least {minimum}")
    return value


def env_int(name: str, default: int, minimum: int = 0) -> int:
    value = env_float(name, default, minimum)
    if value != int(value):
        raise ConfigError(f"{name} must be a whole number")
    return int(value)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean (use 1 or 0)")


def env_list(name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


def redact_url(url: str) -> str:
    """Drop any user:password@ part so a URL can be recorded or logged."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
