"""gunicorn settings: bind from C2XC_HOST and $PORT/C2XC_PORT, threaded workers.

``gthread`` workers: each request runs on a thread of a worker process's
pool, so a long-lived event stream (SSE) holds one thread, not a whole
process. Each process serves at most ``C2XC_STREAMS_PER_WORKER`` streams
(default 32) out of ``C2XC_WEB_THREADS`` threads (default 40): the remaining
threads always serve ordinary requests, and a stream over the limit is a 503.
Every request is a short SQLite read or write on the thread's own
connection (``store.db.Database`` keys connections by process and thread).

On SIGTERM the worker stops accepting, open streams end within one poll
(``api.event_stream.SHUTDOWN``) so shutdown does not wait for them, and
in-flight requests get ``graceful_timeout`` to finish.

Values come from :func:`core.settings.load_web_settings`, so a bad one stops
gunicorn with one clear line before it binds.
"""
import ctypes
import ctypes.util
import os
import shutil
import signal
import sys
import tempfile

from core.env import env_int
from core.errors import ConfigError
from core.settings import exposure, load_auth_settings, load_web_settings

M_ARENA_MAX = -8  # glibc's mallopt parameter


def _bound_malloc_arenas() -> None:
    """At most ``C2XC_MALLOC_ARENA_MAX`` (default 2) malloc arenas per process; 0: glibc's default.

    glibc gives threads their own arenas, up to 8 per core; a gthread worker's 40 threads
    took 15 arenas each holding freed memory the others cannot reuse, and the API workers'
    memory crept up (docs/RELIABILITY.md, bench/malloc_arenas.py). Set here, in the master
    before it forks, so every worker inherits it whatever started gunicorn.
    """
    limit = env_int("C2XC_MALLOC_ARENA_MAX", 2)
    libc_name = ctypes.util.find_library("c")
    if limit and libc_name:
        try:
            ctypes.CDLL(libc_name).mallopt(M_ARENA_MAX, limit)
        except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to bound
            pass

try:
    _web = load_web_settings()
    _refusal, _warning = exposure(_web, load_auth_settings())
except ConfigError as exc:
    print(f"c2xc-api: configuration error: {exc.message}", file=sys.stderr, flush=True)
    sys.exit(2)
if _refusal:
    print(f"c2xc-api: {_refusal}", file=sys.stderr, flush=True)
    sys.exit(2)
if _warning:  # said at every start, not once
    print(f"c2xc-api: WARNING: {_warning}", file=sys.stderr, flush=True)

_bound_malloc_arenas()
bind = f"{_web.host}:{_web.port}"
workers = _web.workers
worker_class = "gthread"
threads = _web.threads
timeout = 30
graceful_timeout = 10
# gunicorn's own answer to a request line over its limit is an HTML page; its largest limit leaves
# room for the app to refuse long URLs first, with the JSON envelope (api.errors.MAX_URL_BYTES)
limit_request_line = 8190
keepalive = 5  # the pages poll every 1.5-3 s: keep their connection instead of reopening it
accesslog = "-"
errorlog = "-"
# Never log request headers (Authorization) or query strings (a token a client put in a URL
# is refused, but would still be in the request line): method and path only.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms'


def post_worker_init(worker):
    """Let open event streams end at once when this worker is asked to stop."""
    from api.event_stream import SHUTDOWN

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
        previous = signal.getsignal(signum)

        def stop_streams_then(sig, frame, previous=previous):
            SHUTDOWN.set()
            if callable(previous):
                previous(sig, frame)
        signal.signal(signum, stop_streams_then)


# Prometheus multiprocess mode (api/metrics.py): every gunicorn process writes its request
# histograms to files in one folder, merged at each scrape. Set before the workers import
# prometheus_client; a folder of our own is made (and removed at exit) unless one is given.
_METRICS_DIR_OWNED = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
if _METRICS_DIR_OWNED:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="c2xc-metrics-")


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _METRICS_DIR_OWNED:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
