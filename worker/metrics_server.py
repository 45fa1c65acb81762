"""The worker's Prometheus endpoint: ``C2XC_METRICS_PORT`` (off by default), ``C2XC_METRICS_HOST``.

A small WSGI server in a daemon thread serves ``/metrics`` (runs ended, run
durations, LLM calls and tokens, learn jobs: ``core.metrics``). The API's
token rule applies: bound beyond loopback it needs ``C2XC_API_TOKEN`` (or
``C2XC_ALLOW_UNAUTHENTICATED=1``), and with a token set every scrape must send
``Authorization: Bearer <token>``. Port 0 takes a free port (the log says which).
"""
from __future__ import annotations

import hmac
import logging
import threading
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from core.env import env_int, env_str
from core.errors import ConfigError
from core.settings import WebSettings, exposure, load_auth_settings

log = logging.getLogger("c2xc.worker.metrics")


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args) -> None:  # scrapes every few seconds: not worth a log line each
        return


class _ThreadedServer(WSGIServer):
    daemon_threads = True


def _app(token: str | None):
    from prometheus_client import make_wsgi_app

    metrics = make_wsgi_app()

    def app(environ, start_response):
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found: /metrics\n"]
        given = environ.get("HTTP_AUTHORIZATION", "")
        if token and not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            start_response("401 Unauthorized", [("Content-Type", "text/plain"),
                                                ("WWW-Authenticate", 'Bearer realm="c2xc"')])
            return [b"send Authorization: Bearer <token>\n"]
        return metrics(environ, start_response)
    return app


def start_metrics_server() -> int | None:
    """Serve /metrics when C2XC_METRICS_PORT is set; the port it listens on, or None."""
    port = env_str("C2XC_METRICS_PORT")
    if port == "":
        return None
    host = env_str("C2XC_METRICS_HOST", "127.0.0.1")
    auth = load_auth_settings()
    refusal, warning = exposure(WebSettings(host=host, port=0, workers=1, threads=1), auth)
    if refusal:
        raise ConfigError(refusal.replace("C2XC_HOST", "C2XC_METRICS_HOST"))
    if warning:
        log.warning(warning)
    server = make_server(host, env_int("C2XC_METRICS_PORT", 0), _app(auth.token),
                         server_class=_ThreadedServer, handler_class=_Quiet)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    bound = server.server_address[1]
    log.info("metrics on http://%s:%d/metrics", host, bound)
    return bound
