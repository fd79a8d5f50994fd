"""Leases: named locks that lapse on their own (a TTL), held in the queue's own storage.

Huey's `lock_task` passes its TTL to the storage, and neither Huey's SQLite storage nor its Redis storage
below Redis 7.4 (hash-field TTL) accepts one: they raise NotImplementedError. A lock without a TTL stays
held for ever when a worker dies inside it. So the schedule's overlap guard and the single-scheduler
claim use these instead: one atomic check-and-set per backend, the value naming its holder and (SQLite,
memory) its expiry.

- Redis: `SET key owner PX ttl` inside a Lua script that only takes a free key or renews its own;
- SQLite: a row in Huey's own `kv` table, read and written inside one `BEGIN EXCLUSIVE` transaction;
- memory (immediate mode, tests): a dict on the storage, under its lock.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass

from huey.storage import MemoryStorage, RedisStorage, SqliteStorage

PREFIX = "lease:"

_ACQUIRE_LUA = """
local v = redis.call('get', KEYS[1])
if v == false or v == ARGV[1] then
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE_LUA = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class LeaseUnsupported(RuntimeError):
    """The queue's storage has no lease implementation here (only SQLite, Redis and memory do)."""


@dataclass(frozen=True)
class Holder:
    name: str
    owner: str
    expires_in: float  # seconds


def new_owner() -> str:
    """host:pid:random — who holds a lease, readable in `flask jobs status`."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """`acquire()` takes the lease if it is free or already ours (which renews it); `release()` frees it
    only if it is still ours. `with Lease(...)` raises LeaseHeld when another holder has it."""

    def __init__(self, huey, name: str, ttl: float, owner: str | None = None):
        self.huey, self.name, self.ttl = huey, name, float(ttl)
        self.owner = owner or new_owner()
        self.backend = _backend(huey.storage)

    def acquire(self) -> bool:
        return self.backend.acquire(PREFIX + self.name, self.owner, self.ttl)

    renew = acquire

    def release(self) -> None:
        self.backend.release(PREFIX + self.name, self.owner)

    def holder(self) -> Holder | None:
        found = [h for h in held(self.huey) if h.name == self.name]
        return found[0] if found else None

    def __enter__(self):
        if not self.acquire():
            raise LeaseHeld(self.name)
        return self

    def __exit__(self, *exc):
        self.release()


class LeaseHeld(Exception):
    def __init__(self, name: str):
        super().__init__(f"unable to acquire lock {name}: another run holds it")
        self.name = name


def held(huey) -> list[Holder]:
    """Every lease currently held (not lapsed), by name."""
    return sorted(_backend(huey.storage).held(), key=lambda h: h.name)


def _backend(storage):
    if isinstance(storage, RedisStorage):
        return _RedisLeases(storage)
    if isinstance(storage, SqliteStorage):
        return _SqliteLeases(storage)
    if isinstance(storage, MemoryStorage):
        return _MemoryLeases(storage)
    raise LeaseUnsupported(f"no leases for {type(storage).__name__}")


class _RedisLeases:
    def __init__(self, storage):
        self.conn, self.base = storage.conn, f"huey.lease.{storage.name}."

    def acquire(self, key, owner, ttl):
        script = self.conn.register_script(_ACQUIRE_LUA)
        return bool(script(keys=[self.base + key], args=[owner, int(ttl * 1000)]))

    def release(self, key, owner):
        self.conn.register_script(_RELEASE_LUA)(keys=[self.base + key], args=[owner])

    def held(self):
        found = []
        for raw in self.conn.scan_iter(match=self.base + PREFIX + "*", count=100):
            key = raw.decode()
            owner, ttl_ms = self.conn.get(key), self.conn.pttl(key)
            if owner is not None and ttl_ms and ttl_ms > 0:
                found.append(Holder(key[len(self.base + PREFIX) :], owner.decode(), ttl_ms / 1000))
        return found


class _SqliteLeases:
    """Value: b"<expires unix seconds> <owner>" in Huey's kv table (its queue column is the queue name)."""

    def __init__(self, storage):
        self.storage = storage

    def acquire(self, key, owner, ttl):
        now = time.time()
        with self.storage.db(commit=True) as curs:
            current = self._read(curs, key)
            if current and current[0] > now and current[1] != owner:
                return False
            curs.execute(
                "insert or replace into kv (queue, key, value) values (?, ?, ?)",
                (self.storage.name, key, f"{now + ttl:.3f} {owner}".encode()),
            )
        return True

    def release(self, key, owner):
        with self.storage.db(commit=True) as curs:
            current = self._read(curs, key)
            if current and current[1] == owner:
                curs.execute("delete from kv where queue = ? and key = ?", (self.storage.name, key))

    def held(self):
        now = time.time()
        with self.storage.db() as curs:
            curs.execute("select key, value from kv where queue = ? and key like ?", (self.storage.name, PREFIX + "%"))
            rows = curs.fetchall()
        found = []
        for key, value in rows:
            expires, owner = _parse(value)
            if expires > now:
                found.append(Holder(key[len(PREFIX) :], owner, expires - now))
        return found

    def _read(self, curs, key):
        curs.execute("select value from kv where queue = ? and key = ?", (self.storage.name, key))
        row = curs.fetchone()
        return _parse(row[0]) if row else None


def _parse(value) -> tuple[float, str]:
    expires, _, owner = bytes(value).decode().partition(" ")
    return float(expires), owner


class _MemoryLeases:
    def __init__(self, storage):
        self.lock = storage._lock
        if not hasattr(storage, "_portal_leases"):
            storage._portal_leases = {}
        self.leases = storage._portal_leases

    def acquire(self, key, owner, ttl):
        now = time.time()
        with self.lock:
            current = self.leases.get(key)
            if current and current[0] > now and current[1] != owner:
                return False
            self.leases[key] = (now + ttl, owner)
        return True

    def release(self, key, owner):
        with self.lock:
            if self.leases.get(key, (0, None))[1] == owner:
                del self.leases[key]

    def held(self):
        now = time.time()
        with self.lock:
            items = list(self.leases.items())
        return [Holder(k[len(PREFIX) :], owner, exp - now) for k, (exp, owner) in items if exp > now]
