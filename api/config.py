"""HTTP-side configuration, read from the environment once at app creation.

Run-side configuration (LLM, KBs, bounds) lives in :mod:`core.settings`
and is shared with the worker. The override policy below is the rule that
keeps ``overrides`` a development aid rather than a way to make the server
send its API key to any host or read any directory: each override must be
named in ``C2XC_ALLOWED_OVERRIDES``, an LLM base URL must also be listed in
``C2XC_ALLOWED_LLM_BASE_URLS``, and a KB directory must resolve inside one of
``C2XC_ALLOWED_KB_ROOTS``. Nothing is allowed by default.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.env import env_bool, env_float, env_int, env_list
from core.settings import AuthSettings, load_auth_settings, load_database


@dataclass(frozen=True)
class OverridePolicy:
    allowed_fields: tuple[str, ...] = ()
    allowed_llm_base_urls: tuple[str, ...] = ()
    allowed_kb_roots: tuple[str, ...] = ()


@dataclass(frozen=True)
class StreamSettings:
    """Live event streams (SSE), per API worker process."""

    max_streams: int = 32          # open streams per process; more is a 503
    keepalive_s: float = 15.0      # a comment line at least this often
    poll_s: float = 0.05           # how often the process looks for new commits
    max_age_s: float = 3600.0      # a stream ends after this; the browser resumes it


@dataclass(frozen=True)
class ApiSettings:
    database: str  # a SQLite path or a postgresql:// URL
    max_body_bytes: int
    enable_debug_endpoints: bool
    idempotency_ttl_s: float
    override_policy: OverridePolicy
    streams: StreamSettings = StreamSettings()
    auth: AuthSettings = AuthSettings(token=None, allow_unauthenticated=False)
    # PostgreSQL only: connections per API process, shared by its request threads (a request
    # holds one for its duration; an event stream only while it reads)
    db_pool_size: int = 10
    db_pool_timeout_s: float = 3.0  # PostgreSQL: a request's wait for a connection before its 503
    # POST /experiments/import only: a lab notebook as CSV (10,000 rows are ~1.5 MB)
    max_import_bytes: int = 32 * 1024 * 1024


def load_api_settings() -> ApiSettings:
    return ApiSettings(
        database=load_database(),
        auth=load_auth_settings(),
        max_body_bytes=env_int("C2XC_MAX_BODY_BYTES", 256 * 1024, minimum=1024),
        enable_debug_endpoints=env_bool("C2XC_ENABLE_DEBUG_ENDPOINTS", False),
        db_pool_size=env_int("C2XC_DB_POOL_SIZE", 10, minimum=1),
        db_pool_timeout_s=env_float("C2XC_DB_POOL_TIMEOUT_S", 3.0, minimum=0.1),
        max_import_bytes=env_int("C2XC_MAX_IMPORT_BYTES", 32 * 1024 * 1024, minimum=1024),
        idempotency_ttl_s=env_float("C2XC_IDEMPOTENCY_TTL_S", 24 * 3600.0, minimum=1.0),
        override_policy=OverridePolicy(
            allowed_fields=env_list("C2XC_ALLOWED_OVERRIDES"),
            allowed_llm_base_urls=tuple(u.rstrip("/") for u in env_list("C2XC_ALLOWED_LLM_BASE_URLS")),
            allowed_kb_roots=env_list("C2XC_ALLOWED_KB_ROOTS"),
        ),
        streams=StreamSettings(
            max_streams=env_int("C2XC_STREAMS_PER_WORKER", 32, minimum=1),
            keepalive_s=min(15.0, env_float("C2XC_STREAM_KEEPALIVE_S", 15.0, minimum=0.05)),
            poll_s=env_float("C2XC_STREAM_POLL_S", 0.05, minimum=0.005),
            max_age_s=env_float("C2XC_STREAM_MAX_AGE_S", 3600.0, minimum=1.0),
        ),
    )
