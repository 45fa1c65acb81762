"""Who may use the service when ``C2XC_API_TOKEN`` is set: the token, or a session made from it.

* API calls carry ``Authorization: Bearer <token>``; the comparison takes the
  same time however much of a wrong token matches (``hmac.compare_digest``).
  Anything else is a ``401 unauthenticated`` envelope; ``/healthz`` is exempt
  so monitors need no secret.
* The web interface asks for the token once (``/login``) and keeps a session
  value derived from it — an HMAC of the token, so the cookie never holds the
  token itself and changing the token signs everyone out — in an HttpOnly,
  SameSite=Strict cookie, good for 30 days.
* A request authenticated by that cookie that changes state must also carry
  the header ``X-C2XC-Request`` (the pages' script always sends it). A page on
  another site cannot add a custom header without a CORS preflight, which this
  service never grants, so a cross-site form or script cannot act with a
  chemist's session (a ``403 forbidden`` envelope), even in a browser that
  ignores SameSite.
* A token in a query string is refused outright, right or wrong: URLs end up
  in logs, histories and proxies. (The access log writes method and path
  only, so even a refused one is not recorded.)

Without a token configured nothing here applies (the default: a loopback bind;
``api/gunicorn_conf.py`` refuses a network bind without a token).
"""
from __future__ import annotations

import hashlib
import hmac
from urllib.parse import quote

from flask import Flask, redirect, request

from api.errors import envelope

SESSION_COOKIE = "c2xc_session"
REQUEST_HEADER = "X-C2XC-Request"
SESSION_DAYS = 30
TOKEN_PARAMETERS = ("token", "access_token", "api_token", "api_key", "c2xc_api_token")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
PUBLIC = ("/api/v1/healthz", "/login", "/favicon.ico")


def session_value(token: str) -> str:
    return hmac.new(token.encode(), b"c2xc web session v1", hashlib.sha256).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    """Compare in constant time (a wrong token takes as long however much of it matches)."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


def _is_api(path: str) -> bool:
    """Paths a program calls (a 401 envelope, never the sign-in page): the API and ``/metrics``."""
    return (path.startswith("/api/") and not path.startswith("/api/v1/docs")) or path == "/metrics"


def _refusal(status: int, code: str, message: str):
    response, status = envelope(status, code, message)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="c2xc"'
    return response, status


def _check(token: str):
    path = request.path
    if any(name in request.args for name in TOKEN_PARAMETERS):
        return _refusal(401, "unauthenticated", "a token in the URL is refused (URLs are logged); "
                        "send it as Authorization: Bearer <token>")
    if path in PUBLIC or path.startswith("/static/"):
        return None
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, given = header.partition(" ")
        if scheme.lower() == "bearer" and same_secret(given.strip(), token):
            return None
        return _refusal(401, "unauthenticated", "the token is not valid")
    session = request.cookies.get(SESSION_COOKIE, "")
    if session and same_secret(session, session_value(token)):
        if request.method not in SAFE_METHODS and request.headers.get(REQUEST_HEADER) != "1":
            return _refusal(403, "forbidden", f"a change made with a browser session needs the "
                            f"{REQUEST_HEADER} header (cross-site requests are refused)")
        return None
    if _is_api(path):
        return _refusal(401, "unauthenticated",
                        "this service needs a token: send Authorization: Bearer <token>")
    return redirect(f"/login?next={quote(request.full_path.rstrip('?'), safe='/?=&')}")


def install(app: Flask, token: str | None) -> None:
    """Guard every request of ``app`` when a token is configured."""
    app.config["C2XC_TOKEN_REQUIRED"] = bool(token)
    if token:
        app.before_request(lambda: _check(token))
