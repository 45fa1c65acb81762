"""The pages: Runs (``/``), Run detail (``/runs/<run_id>``), Settings (``/settings``: the
product catalogue and presets), System (``/system``).

Each handler renders a shell with its labels in the reader's language and
the strings its script needs; the script fetches everything else from the
JSON API. A run page for an unknown run still renders: the script shows
the API's "not found" (one code path for every error the API can give).
"""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import get_locale

from api import API_VERSION, __version__
from api.web.strings import script_strings

bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/static")


def _page(template: str, page: str, **data):
    return render_template(template, page=page, lang=str(get_locale()), version=__version__,
                           strings=script_strings(), data={"api": f"/api/{API_VERSION}",
                                                           "page": page, **data})


@bp.get("/")
def runs_page():
    return _page("runs.html", "runs")


@bp.get("/runs/<string:run_id>")
def run_page(run_id: str):
    return _page("run.html", "run", run_id=run_id)


@bp.get("/system")
def system_page():
    return _page("system.html", "system")


@bp.get("/settings")
def settings_page():
    return _page("settings.html", "settings")


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico before reading the page's icon link."""
    return bp.send_static_file("favicon.svg")

