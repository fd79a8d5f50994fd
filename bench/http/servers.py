"""Start a WSGI app as N single-worker gunicorn processes, each on its own loopback port.

Together they are the usual `--workers N --threads T` gthread server, except that the load generator, not the
kernel's accept() race, decides which worker serves which connection (see bench/http/__init__.py).
"""

from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
WORKER_CLASS = "gthread"


@dataclass
class Server:
    """One app served by `len(ports)` gunicorn processes of one worker each."""

    target: str
    ports: list[int]
    processes: list[subprocess.Popen] = field(default_factory=list)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


def free_port() -> int:
    """A port nobody listens on now (other benchmarks share this machine, so no fixed numbers)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def gunicorn_command(target: str, port: int, threads: int, workers: int = 1) -> list[str]:
    """`workers` (normally one) of `threads` threads; the settings every benchmark's product and baseline share."""
    return [
        sys.executable,
        "-m",
        "gunicorn",
        target,
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--worker-class",
        WORKER_CLASS,
        "--bind",
        f"{HOST}:{port}",
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]


def start(
    target: str, env: dict, workers: int = 2, threads: int = 4, ready_path: str = "/", shared: bool = False
) -> Server:
    """Serve `target` (module:app) as `workers` gunicorn processes; returns once each answers HTTP.

    `shared=True` is the old way, for comparison only: one gunicorn of `workers` workers on one port,
    where the kernel places the connections.
    """
    server = Server(target, [free_port() for _ in range(1 if shared else workers)])
    for port in server.ports:
        command = gunicorn_command(target, port, threads, workers if shared else 1)
        server.processes.append(subprocess.Popen(command, cwd=ROOT, env=env))  # noqa: S603 (our own command)
    try:
        for port in server.ports:
            _wait_ready(port, ready_path)
    except RuntimeError:
        server.stop()
        raise
    return server


def _wait_ready(port: int, path: str, timeout: float = 60) -> None:
    """Until the worker answers anything: gunicorn binds before its worker has imported the app."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=10)
            connection.request("GET", path)
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port} within {timeout:.0f} s")


@contextmanager
def serving(*servers: Server):
    """Stop every server on the way out, whatever happened."""
    try:
        yield servers
    finally:
        for server in servers:
            server.stop()
