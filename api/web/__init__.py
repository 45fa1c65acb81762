"""The web interface for chemists: pages served by the same app, talking to the JSON API.

No build step: Jinja templates, one CSS file and plain ES modules, all served
from ``static/`` (the page works with no internet). Pages are shells; every
change of state goes through the JSON API with ``fetch`` — the interface adds
no second way to change anything. English and Chinese (flask-babel catalogues
in ``translations/``); light and dark themes.

``init_web(app)`` wires the blueprint, the locale choice and the security
headers every page carries (a Content-Security-Policy without inline script
or style, no framing, no sniffing).
"""
from __future__ import annotations

from flask import Flask, request
from flask_babel import Babel

from api.web.pages import bp

LANGUAGES = ("en", "zh")
LANGUAGE_COOKIE = "c2xc_lang"
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "connect-src 'self'", "font-src 'self'", "object-src 'none'", "base-uri 'none'",
    "frame-ancestors 'none'", "form-action 'self'"])


def select_language() -> str:
    """The remembered choice, else the browser's preference, else English."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or "en"


def _security_headers(response):
    if request.blueprint == bp.name:
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    return response


def init_web(app: Flask) -> None:
    Babel(app, locale_selector=select_language,
          default_translation_directories="web/translations")
    app.register_blueprint(bp)
    app.after_request(_security_headers)
