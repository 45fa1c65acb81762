"""The API over HTTP: one session, the token if there is one, errors as exceptions with exit codes."""
from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any, Iterator
from urllib.parse import urlsplit

import requests

DEFAULT_URL = "http://127.0.0.1:8000"
TERMINAL = ("completed", "failed", "canceled")

# Exit codes (also in the README): distinct so scripts can tell what happened.
EXIT_OK, EXIT_RUN_NOT_COMPLETED, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_UNREACHABLE, EXIT_REFUSED = 0, 1, 2, 3, 4, 5


class ClientError(Exception):
    """Something the command reports in one line and exits with ``exit_code``."""

    exit_code = EXIT_REFUSED

    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.code = code

    def line(self) -> str:
        return f"{self.code}: {self}" if self.code else str(self)


class NotFound(ClientError):
    exit_code = EXIT_NOT_FOUND


class Unreachable(ClientError):
    exit_code = EXIT_UNREACHABLE


class UsageError(ClientError):
    exit_code = EXIT_USAGE


def service_url(url: str | None) -> str:
    """The API's base URL from ``--url``/``C2XC_URL``; a value that is not an http(s) URL is a
    usage error said in one line (``127.0.0.1:8000`` would otherwise be read as a scheme)."""
    given = (url or os.environ.get("C2XC_URL") or DEFAULT_URL).strip().rstrip("/")
    parts = urlsplit(given)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        source = "--url" if url else "C2XC_URL"
        raise UsageError(f"{source}={given!r} is not a service address; write it with its scheme, "
                         f"e.g. http://{given.split('://')[-1] or '127.0.0.1:8000'}")
    return given if given.endswith("/api/v1") else f"{given}/api/v1"


class Api:
    def __init__(self, url: str | None = None, token: str | None = None, timeout: float = 30):
        self.base = service_url(url)
        self.timeout = timeout
        self.session = requests.Session()
        token = token if token is not None else os.environ.get("C2XC_API_TOKEN")
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def _send(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            return self.session.request(method, self.base + path, timeout=self.timeout, **kwargs)
        except requests.ConnectionError:
            raise Unreachable(f"the service at {self.base} does not answer (is it running? --url or "
                              "C2XC_URL says where)", "unreachable") from None
        except requests.Timeout:
            raise Unreachable(f"the service at {self.base} did not answer within {self.timeout:.0f} s",
                              "unreachable") from None

    def stream_get(self, path: str, params: dict) -> requests.Response:
        """A GET whose body is read as it arrives (downloads); check it with ``raise_for_error``."""
        return self._send("GET", path, params=params, stream=True)

    def request(self, method: str, path: str, **kwargs) -> Any:
        reply = self._send(method, path, **kwargs)
        if reply.ok:
            return reply.json() if reply.content else None
        _raise_error(reply)

    def get(self, path: str, **params) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: dict | None = None, headers: dict | None = None) -> Any:
        return self.request("POST", path, json=body if body is not None else {}, headers=headers or {})

    def create_batch(self, body: dict) -> dict:
        """With an Idempotency-Key: a retry after a lost answer returns the same batch."""
        key = f"cli-{uuid.uuid4().hex}"
        for attempt in range(3):
            try:
                return self.post("/batches", body, headers={"Idempotency-Key": key})
            except Unreachable:
                if attempt == 2:
                    raise
                time.sleep(1 + attempt)
        raise AssertionError("unreachable")

    def all_pages(self, path: str, limit: int | None = None, **params) -> list[dict]:
        items, cursor = [], None
        while True:
            page = self.get(path, limit=200, cursor=cursor, **params)
            items += page["items"]
            if not page["has_more"] or (limit and len(items) >= limit):
                return items[:limit] if limit else items
            cursor = page["next_cursor"]

    def stream(self, run_id: str, types: list[str] | None = None) -> Iterator[dict]:
        """The run's events, live (SSE), resuming after a dropped connection; ends with the run."""
        last_id = None
        while True:
            headers = {"Accept": "text/event-stream", **({"Last-Event-ID": last_id} if last_id else {})}
            reply = self._send("GET", f"/runs/{run_id}/events/stream", stream=True, headers=headers,
                               params={"event_type": types} if types else None)
            if not reply.ok:
                _raise_error(reply)  # its envelope: 404, 401, 503 over the stream limit, …
            try:
                for event_id, _name, data in _server_sent_events(reply):
                    last_id = event_id or last_id
                    if data:
                        yield json.loads(data)
            except requests.RequestException:
                pass  # dropped: resume after the last event seen
            finally:
                reply.close()
            # the server closes a stream after the run's last event (or after an hour): done,
            # unless the run goes on, then resume after the last event seen
            if self.get(f"/runs/{run_id}")["status"] in TERMINAL:
                return


def raise_for_error(reply: requests.Response) -> None:
    if not reply.ok:
        _raise_error(reply)


def _raise_error(reply: requests.Response) -> None:
    """The API's error envelope as one line: code, message and what it names."""
    try:
        error = reply.json()["error"]
        code, message = error["code"], error["message"]
        details = error.get("details") or {}
    except (ValueError, KeyError, TypeError):
        code, message, details = f"http_{reply.status_code}", reply.text[:200] or reply.reason, {}
    if details.get("missing") and isinstance(details["missing"], dict):
        message += " — missing: " + "; ".join(f"{k}: {v}" for k, v in details["missing"].items())
    elif details.get("rows"):  # an import: every bad row with its line
        rows = details["rows"]
        message += " — " + " | ".join(f"line {r['line']}: {'; '.join(r['problems'])}" for r in rows[:20])
        if details.get("bad_rows", len(rows)) > 20:
            message += f" | … {details['bad_rows'] - 20} more"
    elif details.get("fields"):
        message += " — " + "; ".join(f"{k}: {' '.join(map(str, v)) if isinstance(v, list) else v}"
                                      for k, v in details["fields"].items())
    raise (NotFound if reply.status_code == 404 else ClientError)(message, code)


def _server_sent_events(reply: requests.Response) -> Iterator[tuple[str | None, str, str]]:
    event_id, name, data = None, "message", []
    for raw in reply.iter_lines(decode_unicode=True):
        if raw is None:
            continue
        if raw == "":
            if data or name != "message":
                yield event_id, name, "\n".join(data)
            event_id, name, data = None, "message", []
        elif raw.startswith(":"):
            continue
        else:
            field, _, value = raw.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "id":
                event_id = value
            elif field == "event":
                name = value
            elif field == "data":
                data.append(value)
