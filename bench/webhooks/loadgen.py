"""A small HTTP/1.1 keep-alive load generator on loopback (asyncio, raw sockets: no client library overhead)."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from dataclasses import dataclass, field


@dataclass
class Request:
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass
class Result:
    label: str
    count: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)  # "200 processed" -> n

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(int(len(ordered) * p), len(ordered) - 1)] * 1000 if ordered else 0.0

    def row(self) -> str:
        return (
            f"| {self.label} | {self.count} | {self.rate:,.0f} | {self.percentile(0.50):.1f} | "
            f"{self.percentile(0.99):.1f} | {statistics.mean(self.latencies) * 1000:.1f} |"
        )


def _encode(host: str, request: Request) -> bytes:
    head = [f"POST {request.path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(request.body)}"]
    head += [f"{name}: {value}" for name, value in request.headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + request.body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, body, headers.get("connection", "").lower() == "close"


async def _worker(host: str, port: int, queue: list, result: Result) -> None:
    reader = writer = None
    while queue:
        request = queue.pop()
        for _ in range(3):  # reconnect when the server closed the keep-alive connection
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            started = time.perf_counter()
            try:
                writer.write(_encode(host, request))
                await writer.drain()
                status, body, close = await _read_response(reader)
            except (ConnectionError, asyncio.IncompleteReadError):
                writer.close()
                reader = writer = None
                continue
            result.latencies.append(time.perf_counter() - started)
            try:
                key = f"{status} {json.loads(body).get('status', '')}"
            except ValueError:
                key = f"{status} ?"
            result.statuses[key] = result.statuses.get(key, 0) + 1
            result.count += 1
            if close:
                writer.close()
                reader = writer = None
            break
        else:
            result.statuses["connection failed"] = result.statuses.get("connection failed", 0) + 1
    if writer is not None:
        writer.close()


def run(label: str, host: str, port: int, requests: list[Request], concurrency: int) -> Result:
    """Send every request with `concurrency` connections; returns throughput, latencies and answers."""
    result = Result(label)
    queue = list(reversed(requests))

    async def main():
        started = time.perf_counter()
        await asyncio.gather(*[_worker(host, port, queue, result) for _ in range(concurrency)])
        result.seconds = time.perf_counter() - started

    asyncio.run(main())
    return result
