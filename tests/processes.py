"""Start the real service — gunicorn and the worker as separate processes — for HTTP tests.

gunicorn binds port 0 and we read the port it got from its log, so tests
never collide on a fixed port. Every process started here is stopped by
:meth:`ServiceProcesses.stop_all` (the fixtures call it), even on failure.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import requests

REPO = Path(__file__).resolve().parents[1]
_LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")


def wait_until(predicate: Callable[[], object], timeout: float = 20.0, interval: float = 0.02,
               message: str = "condition") -> object:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


class ServiceProcesses:
    def __init__(self, workdir: Path, env: dict[str, str] | None = None):
        self.workdir = workdir
        self.db_path = str(workdir / "service.db")
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("C2XC_", "LIGHTRAG_"))},
            "C2XC_SQLITE_PATH": self.db_path, "C2XC_HOST": "127.0.0.1", "PORT": "0",
            "C2XC_WEB_WORKERS": "2", "C2XC_WORKER_POLL_S": "0.02", "C2XC_WORKER_MAX_POLL_S": "0.1",
            "C2XC_WORKER_HEARTBEAT_S": "0.2", "C2XC_WORKER_STALE_S": "2", "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("OPENAI_API_KEY", None)
        self.env.update(env or {})
        if "C2XC_DATABASE_URL" in self.env:
            self.env.pop("C2XC_SQLITE_PATH")
        # What open_database() takes to read this service's database from the test.
        self.database_target = self.env.get("C2XC_DATABASE_URL") or self.env["C2XC_SQLITE_PATH"]
        self.processes: list[subprocess.Popen] = []
        self.base_url = ""
        self._logs = 0

    def _spawn(self, args: list[str], name: str, env: dict[str, str]) -> tuple[subprocess.Popen, Path]:
        self._logs += 1
        log_path = self.workdir / f"{name}-{self._logs}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(proc)
        return proc, log_path

    def start_api(self, app: str = "api.wsgi:app", wait_for_health: bool = True) -> str:
        """gunicorn with the service's configuration, serving ``app`` (a benchmark's bare app);
        ``wait_for_health=False`` returns once it listens (a test that expects it unhealthy)."""
        proc, log_path = self._spawn(
            [sys.executable, "-m", "gunicorn", "-c", str(REPO / "api" / "gunicorn_conf.py"), app],
            "gunicorn", self.env)

        def port():
            if proc.poll() is not None:
                raise AssertionError(f"gunicorn exited: {log_path.read_text()}")
            found = _LISTENING.search(log_path.read_text())
            return found and found.group(1)

        self.base_url = f"http://127.0.0.1:{wait_until(port, message='gunicorn to listen')}/api/v1"
        if wait_for_health:
            wait_until(lambda: self._healthy(), message="API health")
        return self.base_url

    def _healthy(self) -> bool:
        try:
            return requests.get(f"{self.base_url}/healthz", timeout=2).status_code == 200
        except requests.RequestException:  # refused, reset, or slow to answer: try again
            return False

    def start_worker(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        proc, _ = self._spawn([sys.executable, "-m", "worker", *args], "worker",
                              {**self.env, **(env or {})})
        return proc

    def worker_log(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.workdir.glob("worker-*.log")))

    @staticmethod
    def stop(proc: subprocess.Popen, timeout: float = 15) -> int:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def stop_all(self) -> None:
        for proc in reversed(self.processes):
            self.stop(proc)

    # --- small HTTP helpers -------------------------------------------------
    # headers every helper call sends (a service with C2XC_API_TOKEN: its Authorization)
    headers: dict = {}

    def get(self, path: str, **kwargs) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.get(f"{self.base_url}{path}", timeout=10, headers=headers, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return requests.post(f"{self.base_url}{path}", timeout=10, headers=headers, **kwargs)

    def create_batch(self, **body) -> dict:
        response = self.post("/batches", json={"user_request": "Cu/Mo for C2H4", "dry_run": True,
                                                **body})
        assert response.status_code == 201, response.text
        return response.json()

    def run(self, run_id: str) -> dict:
        return self.get(f"/runs/{run_id}").json()

    def wait_batch_finished(self, batch_id: str, timeout: float = 30) -> dict:
        def finished():
            batch = self.get(f"/batches/{batch_id}").json()
            return batch if batch["status"] in ("completed", "failed", "canceled") else None
        return wait_until(finished, timeout, message=f"batch {batch_id} to finish")

    def all_events(self, run_id: str, page_size: int = 200, **params) -> list[dict]:
        items, cursor = [], None
        while True:
            query = {"limit": page_size, **params, **({"cursor": cursor} if cursor else {})}
            page = self.get(f"/runs/{run_id}/events", params=query).json()
            items += page["items"]
            if not page["has_more"]:
                assert page["next_cursor"] is None
                return items
            cursor = page["next_cursor"]


@contextmanager
def running_service(workdir: Path, env: dict[str, str] | None = None) -> Iterator[ServiceProcesses]:
    """gunicorn + one worker for the duration of the block; always stopped afterwards."""
    procs = ServiceProcesses(workdir, env)
    try:
        procs.start_api()
        procs.start_worker()
        yield procs
    finally:
        procs.stop_all()
