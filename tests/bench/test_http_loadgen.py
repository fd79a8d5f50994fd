"""The benchmarks' load generator places its connections evenly and deterministically over the ports."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bench.http import loadgen


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as gunicorn's gthread workers serve it

    def do_GET(self):
        self._answer(b'{"ok": true}')

    def do_POST(self):
        self._answer(self.rfile.read(int(self.headers["Content-Length"])))

    def _answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class _CountingServer(ThreadingHTTPServer):
    """Counts the connections it accepted."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.accepted = 0

    def get_request(self):
        self.accepted += 1
        return super().get_request()


@pytest.fixture
def three_servers():
    started = [_CountingServer() for _ in range(3)]
    for server in started:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield started
    for server in started:
        server.shutdown()
        server.server_close()


def test_connections_are_spread_round_robin_over_the_ports(three_servers):
    ports = [server.server_address[1] for server in three_servers]
    requests = [loadgen.Request("GET", f"/item/{n}") for n in range(90)]

    result = loadgen.run("spread", ports, requests, connections=6)

    assert [server.accepted for server in three_servers] == [2, 2, 2]
    assert result.count == 90
    assert result.statuses == {"200": 90}
    assert sum(result.per_port.values()) == 90 and set(result.per_port) == set(ports)


def test_a_duration_run_keeps_cycling_until_the_deadline(three_servers):
    port = three_servers[0].server_address[1]
    body = b'{"n": 1}'
    requests = iter(lambda: loadgen.Request("POST", "/echo", body, {"Content-Type": "application/json"}), None)

    result = loadgen.run("timed", [port], requests, connections=2, duration=0.3)

    assert result.count > 2
    assert result.statuses == {"200": result.count}
    assert result.seconds == pytest.approx(0.3, abs=0.1)
    assert not result.exhausted
