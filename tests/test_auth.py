"""No open door: the access token, the browser session made from it, and the network-bind refusal."""
import logging
import subprocess
import sys

import pytest
import requests

from tests.processes import REPO, ServiceProcesses

API = "/api/v1"
TOKEN = "lab-token-6f1c2a9e4b7d"


@pytest.fixture
def guarded(make_app):
    return make_app(C2XC_API_TOKEN=TOKEN).test_client()


def _bearer(token=TOKEN):
    return {"Authorization": f"Bearer {token}"}


def _error(reply, status, code):
    assert reply.status_code == status, reply.get_data()[:300]
    error = reply.get_json()["error"]
    assert error["code"] == code and TOKEN not in reply.get_data(as_text=True)
    return error


def test_without_a_token_configured_nothing_is_asked(make_app):
    client = make_app().test_client()
    assert client.get(f"{API}/batches").status_code == 200
    assert client.get(f"{API}/system/config").get_json()["auth"] == {"token_required": False}


def test_every_api_call_needs_the_token_but_health(guarded):
    assert guarded.get(f"{API}/healthz").status_code == 200
    missing = guarded.get(f"{API}/batches")
    _error(missing, 401, "unauthenticated")
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    _error(guarded.get(f"{API}/batches", headers=_bearer("lab-token-wrong-guess1")), 401, "unauthenticated")
    _error(guarded.get(f"{API}/batches", headers={"Authorization": f"Basic {TOKEN}"}), 401, "unauthenticated")
    _error(guarded.post(f"{API}/batches", json={"user_request": "x", "dry_run": True}), 401, "unauthenticated")
    assert guarded.get(f"{API}/batches", headers=_bearer()).status_code == 200
    created = guarded.post(f"{API}/batches", json={"user_request": "x", "dry_run": True}, headers=_bearer())
    assert created.status_code == 201 and TOKEN not in created.get_data(as_text=True)
    config = guarded.get(f"{API}/system/config", headers=_bearer())
    assert config.get_json()["auth"] == {"token_required": True} and TOKEN not in config.get_data(as_text=True)


@pytest.mark.parametrize("name", ["token", "access_token", "api_key"])
def test_a_token_in_the_query_string_is_refused_even_when_right(guarded, name):
    error = _error(guarded.get(f"{API}/batches?{name}={TOKEN}", headers=_bearer()), 401, "unauthenticated")
    assert "URL" in error["message"]


def test_the_interface_asks_once_and_keeps_an_httponly_strict_session(guarded):
    page = guarded.get("/runs/run_x")
    assert page.status_code == 302 and page.headers["Location"] == "/login?next=/runs/run_x"
    assert guarded.get("/login").status_code == 200
    wrong = guarded.post("/login", data={"token": "not-the-token-at-all", "next": "/system"})
    assert wrong.status_code == 401 and "not valid" in wrong.get_data(as_text=True)
    signed = guarded.post("/login", data={"token": TOKEN, "next": "/system"})
    assert signed.status_code == 303 and signed.headers["Location"] == "/system"
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and TOKEN not in cookie
    assert guarded.get("/system").status_code == 200
    assert guarded.get(f"{API}/batches").status_code == 200  # the session works for reads
    # a change with the session alone, as a cross-site form would send it: refused
    _error(guarded.post(f"{API}/batches", json={"user_request": "x", "dry_run": True}), 403, "forbidden")
    made = guarded.post(f"{API}/batches", json={"user_request": "x", "dry_run": True},
                        headers={"X-C2XC-Request": "1"})
    assert made.status_code == 201
    assert guarded.post("/logout", headers={"X-C2XC-Request": "1"}).status_code == 204
    _error(guarded.get(f"{API}/batches"), 401, "unauthenticated")


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_signing_in_never_redirects_to_another_site(guarded, target):
    signed = guarded.post("/login", data={"token": TOKEN, "next": target})
    assert signed.headers["Location"] == "/"


def test_a_sign_in_posted_from_another_site_is_refused(guarded):
    reply = guarded.post("/login", data={"token": TOKEN}, headers={"Origin": "https://evil.example"})
    assert reply.status_code == 401 and "Set-Cookie" not in reply.headers


def test_the_token_is_never_logged(guarded, caplog):
    caplog.set_level(logging.DEBUG)
    guarded.get(f"{API}/batches?token={TOKEN}")
    guarded.get(f"{API}/batches", headers=_bearer("lab-token-wrong-guess1"))
    guarded.post("/login", data={"token": TOKEN})
    assert TOKEN not in caplog.text


@pytest.mark.parametrize("value", ["short-tok", "has spaces in it here ok"])
def test_a_weak_or_malformed_token_stops_the_service_with_one_line(tmp_path, value):
    done = subprocess.run([sys.executable, "-m", "gunicorn", "-c", "api/gunicorn_conf.py", "api.wsgi:app"],
                          cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "C2XC_API_TOKEN": value, "PORT": "0",
                               "C2XC_SQLITE_PATH": str(tmp_path / "x.db")})
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1].startswith("c2xc-api: configuration error: C2XC_API_TOKEN")
    assert value not in done.stderr  # a token, even a bad one, is never echoed


def _start(tmp_path, **env):
    return subprocess.run([sys.executable, "-m", "gunicorn", "-c", "api/gunicorn_conf.py", "api.wsgi:app",
                           "--check-config"], cwd=REPO, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "PORT": "0", "C2XC_SQLITE_PATH": str(tmp_path / "x.db"),
                               **env})


def test_a_network_bind_without_a_token_refuses_to_start(tmp_path):
    done = _start(tmp_path, C2XC_HOST="0.0.0.0")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("c2xc-api: refusing to serve on 0.0.0.0 without C2XC_API_TOKEN")
    assert _start(tmp_path, C2XC_HOST="127.0.0.1").returncode == 0
    assert _start(tmp_path, C2XC_HOST="0.0.0.0", C2XC_API_TOKEN=TOKEN).returncode == 0
    allowed = _start(tmp_path, C2XC_HOST="0.0.0.0", C2XC_ALLOW_UNAUTHENTICATED="1")
    assert allowed.returncode == 0 and "WARNING" in allowed.stderr and "C2XC_ALLOW_UNAUTHENTICATED" in allowed.stderr


def test_over_http_with_a_token_a_wrong_or_missing_one_is_refused(tmp_path):
    svc = ServiceProcesses(tmp_path, {"C2XC_API_TOKEN": TOKEN})
    try:
        svc.start_api()  # its health check needs no token
        assert svc.get("/batches").status_code == 401
        assert svc.get("/batches", headers=_bearer("lab-token-wrong-guess1")).status_code == 401
        assert svc.get(f"/batches?token={TOKEN}", headers=_bearer()).status_code == 401
        assert svc.post("/batches", json={"user_request": "x", "dry_run": True},
                        headers=_bearer()).status_code == 201
        origin = svc.base_url.rsplit("/api/v1", 1)[0]
        plain = requests.post(f"{origin}/login", data={"token": TOKEN}, allow_redirects=False)
        proxied = requests.post(f"{origin}/login", data={"token": TOKEN}, allow_redirects=False,
                                headers={"X-Forwarded-Proto": "https"})  # a TLS proxy on this host
        assert "Secure" not in plain.headers["Set-Cookie"] and "Secure" in proxied.headers["Set-Cookie"]
    finally:
        svc.stop_all()
    log = "".join(p.read_text() for p in tmp_path.glob("*.log"))
    assert TOKEN not in log and "/api/v1/batches" in log
