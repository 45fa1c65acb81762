"""The pages: Runs (``/``), Run detail (``/runs/<run_id>``), Experiments (``/experiments``:
what the lab made and measured), Memory (``/memory``: the lab memory), Settings (``/settings``: the product catalogue and presets), System (``/system``).

Each handler renders a shell with its labels in the reader's language and
the strings its script needs; the script fetches everything else from the
JSON API. A run page for an unknown run still renders: the script shows
the API's "not found" (one code path for every error the API can give).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _

from api import API_VERSION, __version__
from api.auth import SESSION_COOKIE, SESSION_DAYS, same_secret, session_value
from api.web.strings import script_strings

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")


def _page(template: str, page: str, **data):
    signed_in = bool(current_app.config.get("C2XC_TOKEN_REQUIRED")) and page != "login"
    return render_template(template, page=page, lang=str(get_locale()), version=__version__,
                           strings=script_strings(), signed_in=signed_in,
                           data={"api": f"/api/{API_VERSION}", "page": page, **data})


@bp.get("/")
def runs_page():
    return _page("runs.html", "runs")


@bp.get("/runs/<string:run_id>")
def run_page(run_id: str):
    return _page("run.html", "run", run_id=run_id)


@bp.get("/compare")
def compare_page():
    return _page("compare.html", "compare")


@bp.get("/memory")
def memory_page():
    return _page("memory.html", "memory")


@bp.get("/experiments")
def experiments_page():
    return _page("experiments.html", "experiments")


@bp.get("/plan")
def plan_page():
    return _page("plan.html", "plan")


@bp.get("/system")
def system_page():
    return _page("system.html", "system")


@bp.get("/settings")
def settings_page():
    return _page("settings.html", "settings")


def _local_target(target: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    parts = urlsplit(target)
    return parts.path + (f"?{parts.query}" if parts.query else "") if not parts.netloc else "/"


def _from_this_site() -> bool:
    """A sign-in form posted by our own page (browsers send Origin on form posts)."""
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


@bp.route("/login", methods=["GET", "POST"])
def login_page():
    """Ask for the access token once; keep a session derived from it in an HttpOnly cookie."""
    token = current_app.extensions["c2xc"].api_settings.auth.token
    target = _local_target(request.values.get("next"))
    if not token:
        return redirect(target)
    error = None
    if request.method == "POST":
        if not _from_this_site():
            error = _("Sign in from this service's own page.")
        elif same_secret(request.form.get("token", "").strip(), token):
            response = redirect(target, code=303)
            response.set_cookie(SESSION_COOKIE, session_value(token), max_age=SESSION_DAYS * 86400,
                                httponly=True, samesite="Strict", secure=request.is_secure, path="/")
            return response
        else:
            error = _("That token is not valid.")
    return _page("login.html", "login", error=error, next=target), 401 if error else 200


@bp.post("/logout")
def logout():
    """Forget this browser's session (the page's script calls it with its request header)."""
    response = current_app.response_class(status=204)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Strict")
    return response


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico before reading the page's icon link."""
    return bp.send_static_file("favicon.svg")

