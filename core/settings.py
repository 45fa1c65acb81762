"""Every setting of both processes, read from the environment once, with safe defaults.

The API reads the run settings too (to preflight a normal run and record the
batch's config snapshot), so the two processes can never disagree about what
a run will use. Secrets are read here but never leave: :meth:`RunSettings.snapshot`
names the key *variable*, never its value, and strips credentials from URLs.
"""
from __future__ import annotations

import ipaddress
import os
import socket
from dataclasses import asdict, dataclass, field, replace

from core.env import env_bool, env_float, env_int, env_str, redact_url
from core.errors import ConfigError
from core.kb_folder import KB_NAMESPACES
from core.llm_providers import DEFAULT_PROVIDER

DEFAULT_SQLITE_PATH = "data/app.db"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

# override name in POST /batches -> the RunSettings field it replaces
OVERRIDE_FIELDS = {"llm_model": "llm_model", "openai_api_base": "llm_base_url",
                   "kb_principles_dir": "kb_principles_dir", "kb_modulation_dir": "kb_modulation_dir"}


@dataclass(frozen=True)
class AgentBounds:
    max_depth: int = 3
    max_steps: int = 40
    max_llm_calls: int = 30
    max_tool_calls: int = 60
    max_repairs: int = 2
    context_rounds: int = 3  # rounds of its own a node sees in full (older ones are summarised)
    max_keyword_calls: int = 12  # LightRAG keyword extractions, bounded apart from the agent's calls


@dataclass(frozen=True)
class MemorySettings:
    """Lab memory (SPEC 12): how many memories a node is shown, and how feedback becomes memory."""

    top_k: int = 3  # memories placed in each node's context; 0 switches memory off
    search_max_k: int = 5  # the most a memory_search call returns
    prefer_score: float = 7.0  # a lab score at or above this makes a `prefer` lab result
    avoid_score: float = 3.0  # at or below this, `avoid`; between, `neutral`
    lessons: bool = True  # ask the LLM for lessons when it is configured
    near_duplicate: float = 0.92  # cosine at or above which a new lesson counts as an existing one

    @property
    def enabled(self) -> bool:
        return self.top_k > 0


@dataclass(frozen=True)
class RunSettings:
    """What a normal run uses: LLM, embeddings, knowledge bases, bounds."""

    llm_model: str
    llm_base_url: str
    llm_api_key_env: str
    llm_timeout_s: float
    llm_max_retries: int
    embedding_model: str
    embedding_dim: int
    embedding_base_url: str
    kb_principles_dir: str
    kb_modulation_dir: str
    bounds: AgentBounds = field(default_factory=AgentBounds)
    dry_run_step_delay_s: float = 0.0
    memory: MemorySettings = field(default_factory=MemorySettings)

    @property
    def embedder_stamp(self) -> str:
        """Names the geometry of a vector: the same text gives comparable vectors only under it."""
        return f"{self.embedding_model}@{self.embedding_dim}"

    @property
    def api_key(self) -> str:
        """The secret itself: pass it to the client, never store or log it."""
        return os.environ.get(self.llm_api_key_env, "")

    def kb_dirs(self) -> dict[str, str]:
        """KB namespace -> working directory, in the order of ``KB_NAMESPACES``."""
        dirs = {"kb_principles": self.kb_principles_dir, "kb_modulation": self.kb_modulation_dir}
        return {namespace: dirs[namespace] for namespace in KB_NAMESPACES}

    def snapshot(self) -> dict:
        """A secret-free record of the effective configuration, for the batch."""
        data = asdict(self)
        data["llm_base_url"] = redact_url(self.llm_base_url)
        data["embedding_base_url"] = redact_url(self.embedding_base_url)
        return data


def apply_overrides(base: RunSettings, overrides: dict[str, str]) -> RunSettings:
    """The settings a batch's runs use: ``base`` with the batch's overrides in place.

    The API calls this after checking its override policy (and records the
    applied overrides in the config snapshot); the worker calls it with that
    record, so both compute the same effective settings.
    """
    unknown = sorted(set(overrides) - set(OVERRIDE_FIELDS))
    if unknown:
        raise ConfigError(f"unknown override(s): {', '.join(unknown)}")
    return replace(base, **{OVERRIDE_FIELDS[name]: value for name, value in overrides.items()})


@dataclass(frozen=True)
class WorkerSettings:
    database: str  # a SQLite path or a postgresql:// URL (core.settings.load_database)
    poll_interval_s: float
    max_idle_poll_s: float
    heartbeat_interval_s: float
    stale_after_s: float
    reconcile_on_startup: bool
    wake_check_s: float = 0.02
    hang_after_s: float = 600.0
    host: str = ""  # C2XC_WORKER_HOST: how this worker names its host (default: the host name)


@dataclass(frozen=True)
class WebSettings:
    """How gunicorn serves the API (read by ``api/gunicorn_conf.py``)."""

    host: str
    port: int
    workers: int
    threads: int


@dataclass(frozen=True)
class AuthSettings:
    """Who may use the API. The token is a secret: never logged, stored or echoed."""

    token: str | None  # C2XC_API_TOKEN; None: no token asked for
    allow_unauthenticated: bool  # C2XC_ALLOW_UNAUTHENTICATED=1: a network bind without a token

    def __repr__(self) -> str:  # so a log line or traceback showing settings never shows the token
        return (f"AuthSettings(token={'<set>' if self.token else None}, "
                f"allow_unauthenticated={self.allow_unauthenticated})")


MIN_TOKEN_CHARS = 16


def load_auth_settings() -> AuthSettings:
    token = env_str("C2XC_API_TOKEN") or None
    if token is not None and (len(token) < MIN_TOKEN_CHARS or not token.isprintable() or " " in token):
        raise ConfigError(f"C2XC_API_TOKEN must be at least {MIN_TOKEN_CHARS} printable characters "
                          "without spaces (e.g. python -c 'import secrets; print(secrets.token_urlsafe())')")
    return AuthSettings(token=token, allow_unauthenticated=env_bool("C2XC_ALLOW_UNAUTHENTICATED", False))


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and ``localhost``; anything else (0.0.0.0 included) is a network bind."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # another host name: it may resolve to anything


def exposure(web: WebSettings, auth: AuthSettings) -> tuple[str | None, str | None]:
    """(refusal, warning) for serving on ``web.host`` with ``auth``: refuse an open door."""
    if auth.token or is_loopback(web.host):
        return None, None
    if auth.allow_unauthenticated:
        return None, (f"serving on {web.host} without C2XC_API_TOKEN because "
                      "C2XC_ALLOW_UNAUTHENTICATED=1: anyone who can reach this port can use the service")
    return (f"refusing to serve on {web.host} without C2XC_API_TOKEN: anyone on the network could use "
            "the service. Set C2XC_API_TOKEN (and give it to the lab), bind C2XC_HOST=127.0.0.1, or "
            "set C2XC_ALLOW_UNAUTHENTICATED=1 to accept the risk"), None


def load_run_settings() -> RunSettings:
    # the defaults are one provider's own pair (core/llm_providers.py): Qwen on DashScope
    base_url = env_str("OPENAI_BASE_URL", DEFAULT_PROVIDER.base_url)
    return RunSettings(
        llm_model=env_str("C2XC_LLM_MODEL", DEFAULT_PROVIDER.chat_models[0]),
        llm_base_url=base_url,
        llm_api_key_env=env_str("C2XC_LLM_API_KEY_ENV", "OPENAI_API_KEY"),
        llm_timeout_s=env_float("C2XC_LLM_TIMEOUT_S", 120.0, minimum=1.0),
        llm_max_retries=env_int("C2XC_LLM_MAX_RETRIES", 4),
        embedding_model=env_str("C2XC_EMBEDDING_MODEL", DEFAULT_PROVIDER.embedding[0]),
        embedding_dim=env_int("C2XC_EMBEDDING_DIM", DEFAULT_PROVIDER.embedding[1], minimum=1),
        embedding_base_url=env_str("C2XC_EMBEDDING_BASE_URL", base_url),
        kb_principles_dir=env_str("LIGHTRAG_KB_PRINCIPLES_DIR"),
        kb_modulation_dir=env_str("LIGHTRAG_KB_MODULATION_DIR"),
        bounds=AgentBounds(
            max_depth=env_int("C2XC_AGENT_MAX_DEPTH", 3, minimum=1),
            max_steps=env_int("C2XC_AGENT_MAX_STEPS", 40, minimum=1),
            max_llm_calls=env_int("C2XC_AGENT_MAX_LLM_CALLS", 30, minimum=1),
            max_tool_calls=env_int("C2XC_AGENT_MAX_TOOL_CALLS", 60, minimum=1),
            max_repairs=env_int("C2XC_AGENT_MAX_REPAIRS", 2),
            context_rounds=env_int("C2XC_AGENT_CONTEXT_ROUNDS", 3, minimum=1),
            max_keyword_calls=env_int("C2XC_AGENT_MAX_KEYWORD_CALLS", 12),
        ),
        dry_run_step_delay_s=env_float("C2XC_DRY_RUN_STEP_DELAY_S", 0.0),
        memory=load_memory_settings(),
    )


def load_memory_settings() -> MemorySettings:
    prefer = env_float("C2XC_MEMORY_PREFER_SCORE", 7.0, minimum=0.0)
    avoid = env_float("C2XC_MEMORY_AVOID_SCORE", 3.0, minimum=0.0)
    if not avoid < prefer <= 10:
        raise ConfigError(f"C2XC_MEMORY_AVOID_SCORE ({avoid}) must be below "
                          f"C2XC_MEMORY_PREFER_SCORE ({prefer}), both on the 0-10 score scale")
    near = env_float("C2XC_MEMORY_NEAR_DUPLICATE", 0.92, minimum=0.0)
    if near > 1:
        raise ConfigError(f"C2XC_MEMORY_NEAR_DUPLICATE={near} must be a cosine in 0..1")
    return MemorySettings(top_k=env_int("C2XC_MEMORY_TOP_K", 3, minimum=0),
                          search_max_k=env_int("C2XC_MEMORY_SEARCH_MAX_K", 5, minimum=1),
                          prefer_score=prefer, avoid_score=avoid,
                          lessons=env_bool("C2XC_MEMORY_LESSONS", True), near_duplicate=near)


def load_database() -> str:
    """``C2XC_DATABASE_URL`` (PostgreSQL, SPEC 13) when set, else the SQLite file ``C2XC_SQLITE_PATH``."""
    url = env_str("C2XC_DATABASE_URL")
    if not url:
        return env_str("C2XC_SQLITE_PATH", DEFAULT_SQLITE_PATH)
    if not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError("C2XC_DATABASE_URL must be a PostgreSQL URL (postgresql://user:password@host"
                          ":5432/dbname); leave it unset to use the SQLite file C2XC_SQLITE_PATH")
    return url


def load_worker_settings() -> WorkerSettings:
    poll = env_float("C2XC_WORKER_POLL_S", 0.5, minimum=0.01)
    heartbeat = env_float("C2XC_WORKER_HEARTBEAT_S", 2.0, minimum=0.05)
    return WorkerSettings(
        database=load_database(),
        poll_interval_s=poll,
        max_idle_poll_s=max(poll, env_float("C2XC_WORKER_MAX_POLL_S", 2.0, minimum=0.01)),
        heartbeat_interval_s=heartbeat,
        stale_after_s=max(3 * heartbeat, env_float("C2XC_WORKER_STALE_S", 10.0, minimum=0.1)),
        reconcile_on_startup=env_bool("C2XC_RECONCILE_ON_STARTUP", True),
        wake_check_s=env_float("C2XC_WORKER_WAKE_CHECK_S", 0.02, minimum=0.001),
        hang_after_s=env_float("C2XC_WORKER_HANG_S", 600.0, minimum=1.0),
        host=env_str("C2XC_WORKER_HOST") or socket.gethostname(),
    )


def load_web_settings() -> WebSettings:
    """``PORT`` (set by honcho/foreman) wins over ``C2XC_PORT``."""
    port = env_str("PORT") or env_str("C2XC_PORT") or "8000"
    if not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"PORT/C2XC_PORT={port!r} is not a TCP port (0-65535)")
    return WebSettings(host=env_str("C2XC_HOST", "127.0.0.1"), port=int(port),
                       workers=env_int("C2XC_WEB_WORKERS", 2, minimum=1),
                       threads=env_int("C2XC_WEB_THREADS", 40, minimum=2))


def load_log_level() -> str:
    level = env_str("C2XC_LOG_LEVEL", "INFO").upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"C2XC_LOG_LEVEL={level!r} must be one of {', '.join(LOG_LEVELS)}")
    return level


@dataclass(frozen=True)
class PlannerSettings:
    """SPEC 14: what the planner maximises, and when it trusts its model."""

    objective: str = "C2H4"       # the product whose share of the measured products is maximised
    min_results: int = 5          # measured results before predictions and a model-ranked plan
    max_candidates: int = 500     # recipes ranked in one plan (composed ones included)
    max_predictions: int = 200    # recipes per POST /predictions


def load_planner_settings() -> PlannerSettings:
    return PlannerSettings(objective=env_str("C2XC_PLAN_OBJECTIVE", "C2H4").strip() or "C2H4",
                           min_results=env_int("C2XC_PLAN_MIN_RESULTS", 5, minimum=2),
                           max_candidates=env_int("C2XC_PLAN_MAX_CANDIDATES", 500, minimum=10))
