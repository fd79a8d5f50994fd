"""A closed-loop HTTP/1.1 keep-alive load generator on loopback with deterministic connection placement.

Connection *i* always talks to `ports[i % len(ports)]` (and reconnects to the same port), so with one
single-worker gunicorn per port every worker serves exactly its share of the connections. Each connection
keeps one request in flight and takes the next request from one shared list as soon as its answer is in.
asyncio protocols over raw sockets, no client library: the generator shares the machine's cores with the
servers, so it must cost little per request (each Result says how much it did).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass
class Request:
    method: str
    path: str
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self, host: str) -> bytes:
        head = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}"]
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            head.append(f"Content-Length: {len(self.body)}")
        head += [f"{name}: {value}" for name, value in self.headers.items()]
        return ("\r\n".join(head) + "\r\n\r\n").encode() + self.body


def status_only(status: int, body: bytes) -> str:
    """The default way answers are counted: by status code."""
    return str(status)


@dataclass
class Result:
    label: str
    count: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # the load generator's own CPU time during the run
    exhausted: bool = False  # the requests ran out (rather than the time)
    server_cpu_seconds: float = 0.0  # CPU of the servers under test during the run (bench/http/cpu.py)
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    per_port: dict[int, int] = field(default_factory=dict)  # port -> answers it gave

    @property
    def cpu_per_request_us(self) -> float:
        return self.cpu_seconds / self.count * 1e6 if self.count else 0.0

    @property
    def server_cpu_ms(self) -> float:
        """Server CPU milliseconds per answer."""
        return self.server_cpu_seconds / self.count * 1000 if self.count else 0.0

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Latency at quantile `p` (0..1), in milliseconds."""
        ordered = sorted(self.latencies)
        return ordered[min(int(len(ordered) * p), len(ordered) - 1)] * 1000 if ordered else 0.0

    def mean_ms(self) -> float:
        return statistics.mean(self.latencies) * 1000 if self.latencies else 0.0

    def row(self) -> str:
        return (
            f"| {self.label} | {self.count} | {self.rate:,.0f} | {self.percentile(0.50):.1f} | "
            f"{self.percentile(0.99):.1f} | {self.mean_ms():.1f} |"
        )

    def placement(self) -> str:
        """Answers per port, e.g. `8701: 1500, 8702: 1500` — the evidence that the load was spread evenly."""
        return ", ".join(f"{port}: {n}" for port, n in sorted(self.per_port.items()))


class _Client(asyncio.Protocol):
    """One keep-alive connection; `send` answers (status, body, server closes) through a future."""

    def __init__(self):
        self.transport = None
        self.buffer = bytearray()
        self.waiting: asyncio.Future | None = None
        self.head: tuple[int, int, bool] | None = None  # status, body length, close

    def connection_made(self, transport) -> None:
        self.transport = transport

    def send(self, data: bytes) -> asyncio.Future:
        self.waiting = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return self.waiting

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.head is None:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            self.head = _parse_head(bytes(self.buffer[:end]))
            del self.buffer[: end + 4]
        status, length, close = self.head
        if len(self.buffer) >= length and self.waiting is not None:
            body = bytes(self.buffer[:length])
            del self.buffer[:length]
            self.head, waiting, self.waiting = None, self.waiting, None
            waiting.set_result((status, body, close))

    def connection_lost(self, exc) -> None:
        if self.waiting is not None and not self.waiting.done():
            self.waiting.set_exception(ConnectionError("connection closed before the answer"))


def _parse_head(head: bytes) -> tuple[int, int, bool]:
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise ValueError("chunked answers are not supported by this load generator")
    close = headers.get("connection", "").lower() == "close"
    return int(lines[0].split()[1]), int(headers.get("content-length", "0")), close


async def _connection(host: str, port: int, source: _Source, result: Result, classify: Callable) -> None:
    loop = asyncio.get_running_loop()
    client = None
    opened = last = time.perf_counter()
    answered = 0
    while (request := source.next()) is not None:
        data = request.encode(host)
        for _ in range(3):  # reconnect (to the same port) when the server closed the keep-alive connection
            started = time.perf_counter()
            try:
                if client is None or client.transport.is_closing():
                    _, client = await loop.create_connection(_Client, host, port)
                    started = time.perf_counter()
                status, body, close = await client.send(data)
            except ConnectionError:
                client = None
                continue
            finished = time.perf_counter()
            result.latencies.append(finished - started)
            key = classify(status, body)
            result.statuses[key] = result.statuses.get(key, 0) + 1
            result.per_port[port] = result.per_port.get(port, 0) + 1
            result.count += 1
            answered += 1
            last = finished
            if close:
                client.transport.close()
                client = None
            break
        else:
            result.statuses["connection failed"] = result.statuses.get("connection failed", 0) + 1
    if client is not None:
        client.transport.close()
    if answered:
        source.busy.append((answered, last - opened))


class _Source:
    """The requests still to send: all of them, or — with a duration — as many as fit before the deadline."""

    def __init__(self, requests: Iterable[Request], duration: float | None):
        self.requests = iter(requests)
        self.deadline = time.perf_counter() + duration if duration else None
        self.exhausted = False
        self.busy: list[tuple[int, float]] = []  # per connection: answers, seconds from opening to last answer

    def next(self) -> Request | None:
        if self.deadline is not None and time.perf_counter() >= self.deadline:
            return None
        request = next(self.requests, None)
        self.exhausted = self.exhausted or request is None
        return request

    def rate(self) -> float:
        """Answers per second with every connection busy: the sum of each connection's own rate. Unlike
        answers over the run's length it is not lowered by the start (nothing answered yet) nor by the tail
        (connections done, waiting for the last) — which matter when a slice lasts only a few latencies."""
        return sum(n / seconds for n, seconds in self.busy if seconds > 0)


def run(
    label: str,
    ports: list[int],
    requests: Iterable[Request],
    connections: int,
    *,
    duration: float | None = None,
    host: str = "127.0.0.1",
    classify: Callable[[int, bytes], str] = status_only,
) -> Result:
    """Send the requests over `connections` keep-alive connections, connection i to ports[i % len(ports)].

    Without `duration`, every request once (a list); with it, requests keep coming from the iterable
    (`itertools.cycle(list)`, or a generator of unique ones) until `duration` seconds have passed (the
    requests in flight then are still answered). `seconds` is the answers over the rate of _Source.rate.
    """
    result = Result(label)

    async def main():
        started, cpu = time.perf_counter(), time.process_time()
        source = _Source(requests, duration)
        workers = [_connection(host, ports[i % len(ports)], source, result, classify) for i in range(connections)]
        await asyncio.gather(*workers)
        rate = source.rate()
        result.seconds = result.count / rate if rate else time.perf_counter() - started
        result.cpu_seconds, result.exhausted = time.process_time() - cpu, source.exhausted

    asyncio.run(main())
    return result


def merge(label: str, results: list[Result]) -> Result:
    """Several runs of one side as one: answers, windows, latencies and CPU added up."""
    total = Result(label)
    for result in results:
        total.count += result.count
        total.exhausted = total.exhausted or result.exhausted
        total.seconds += result.seconds
        total.cpu_seconds += result.cpu_seconds
        total.server_cpu_seconds += result.server_cpu_seconds
        total.latencies += result.latencies
        for key, n in result.statuses.items():
            total.statuses[key] = total.statuses.get(key, 0) + n
        for port, n in result.per_port.items():
            total.per_port[port] = total.per_port.get(port, 0) + n
    return total


@dataclass
class Side:
    """One side of an alternation: what to call it, where to send, and its requests (an iterator, kept
    across slices, so unique requests are never sent twice)."""

    label: str
    ports: list[int]
    requests: Iterable[Request]
    before: Callable[[], None] | None = None  # called before each of its slices (e.g. resume a consumer)


def alternate(
    sides: list[Side],
    connections: int,
    slices: int,
    seconds: float,
    classify: Callable[[int, bytes], str] = status_only,
    meter: Callable[[], float] | None = None,
) -> list[Result]:
    """Run the sides in turn, `slices` timed slices each — A B, then B A, … — and add each side's slices up.

    On a shared machine other work comes and goes within seconds; slices of a fraction of a second, in
    alternating order, give both sides the same share of that noise, which whole runs one after the other
    do not. Stops early when a side's requests run out. With `meter`
    (CPU seconds of the servers so far), each slice is also charged the server CPU it used.
    """
    streams = [iter(side.requests) for side in sides]
    done: list[list[Result]] = [[] for _ in sides]
    for k in range(slices):
        order = range(len(sides)) if k % 2 == 0 else reversed(range(len(sides)))
        for n in order:
            if sides[n].before is not None:
                sides[n].before()
            cpu = meter() if meter else 0.0
            part = run(sides[n].label, sides[n].ports, streams[n], connections, duration=seconds, classify=classify)
            part.server_cpu_seconds = meter() - cpu if meter else 0.0
            done[n].append(part)
        if any(parts[-1].exhausted for parts in done):
            break
    return [merge(side.label, parts) for side, parts in zip(sides, done, strict=True)]
