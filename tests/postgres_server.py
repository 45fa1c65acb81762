"""A throwaway PostgreSQL cluster for the tests and benchmarks: started here, stopped here.

Debian's server binaries (package ``postgresql``, installed by ``make
setup-test``) refuse to run as root, so as root the cluster is created and
run by the ``postgres`` user; otherwise by whoever runs the tests. The
cluster lives in a temporary directory, listens on 127.0.0.1 on a free port
and a private socket directory, and is deleted when stopped. Each test gets
its own database, copied from a template that is migrated once
(``CREATE DATABASE … TEMPLATE``: a few milliseconds).

``durable=False`` (the tests) turns off fsync: a test cluster is deleted at
the end anyway. Benchmarks keep PostgreSQL's defaults.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg


def server_binaries() -> Path | None:
    """The newest installed server's bin directory (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"),
                   key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresCluster:
    def __init__(self, durable: bool = False):
        self.bin = server_binaries()
        if self.bin is None:
            raise FileNotFoundError("PostgreSQL server binaries not found (Debian package postgresql)")
        self.root = Path(tempfile.mkdtemp(prefix="c2xc-pg-"))
        self.data, self.sockets = self.root / "data", self.root / "sockets"
        self.port = free_port()
        self.durable = durable
        self.as_root = os.geteuid() == 0
        self.user = "postgres" if self.as_root else os.environ.get("USER", "postgres")

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, cwd="/")

    def start(self) -> PostgresCluster:
        self.sockets.mkdir(parents=True)
        if self.as_root:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.sockets, "postgres")
            os.chmod(self.root, 0o755)
        self._run("initdb", "-D", str(self.data), "-U", self.user, "-A", "trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        self._start_server()
        return self

    def _start_server(self) -> None:
        """Started with a log file: a server holding our output pipes would never let ``_run`` return."""
        options = [f"-p {self.port}", "-c listen_addresses=127.0.0.1", f"-k {self.sockets}",
                   "-c max_connections=300", "-c shared_buffers=128MB"]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w",
                  "-t", "60", "-o", " ".join(options), "start")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def admin(self) -> psycopg.Connection:
        return psycopg.connect(self.url(), autocommit=True)

    def create_database(self, template: str | None = None) -> str:
        name = f"c2xc_{uuid.uuid4().hex[:12]}"
        with self.admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return name

    def drop_database(self, name: str) -> None:
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop_server(self) -> None:
        """Down until :meth:`start_server`, its files kept: an outage a test can hold open."""
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "fast", "stop")

    def start_server(self) -> None:
        self._start_server()

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", "immediate", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)
