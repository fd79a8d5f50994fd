"""CPU time the servers under test spend: their gunicorn processes and their PostgreSQL backends (Linux).

Throughput on a shared machine depends on how much CPU the other tenants leave; the CPU time a request
costs hardly does. Read from /proc/<pid>/stat (user + system time of all the process's threads, in clock
ticks — 10 ms here, so one slice is coarse, but the rounding errors of many slices average out). The
backends are found by database name in pg_stat_activity, leaving out connections whose application_name
is `bench` (the benchmark's own checks, and the webhook consumer, which is not part of answering).
"""

from __future__ import annotations

import os
from pathlib import Path

import psycopg

EXCLUDED_APPLICATION = "bench"


TICK = os.sysconf("SC_CLK_TCK")


def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # the process ended meanwhile
        return 0
    return int(fields[11]) + int(fields[12])  # utime, stime


def _tree(pid: int) -> list[int]:
    """The process and its descendants (a gunicorn master and its worker)."""
    found = [pid]
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            for child in children.read_text().split():
                found += _tree(int(child))
        except OSError:
            continue
    return found


class Meter:
    """`seconds()`: CPU seconds used so far by the given processes' trees and the database's backends."""

    def __init__(self, roots: list[int], database_url: str):
        self.roots = roots
        url = database_url.replace("postgresql+psycopg://", "postgresql://")
        self.name = url.rsplit("/", 1)[-1].split("?")[0]
        self.conn = psycopg.connect(url, autocommit=True, application_name=EXCLUDED_APPLICATION)

    def _backends(self) -> list[int]:
        rows = self.conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name <> %s",
            (self.name, EXCLUDED_APPLICATION),
        ).fetchall()
        return [pid for (pid,) in rows]

    def seconds(self) -> float:
        pids = [pid for root in self.roots for pid in _tree(root)] + self._backends()
        return sum(_ticks(pid) for pid in pids) / TICK

    def close(self) -> None:
        self.conn.close()
