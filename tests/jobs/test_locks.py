"""Leases on every backend: one holder at a time, renewable by its holder, lapsing after the TTL."""

from __future__ import annotations

import time

import pytest

from portal.jobs import huey
from portal.jobs.locks import Lease, LeaseHeld, held


@pytest.fixture(params=["memory", "sqlite", "redis"])
def backend(request, queue_app, tmp_path):
    if request.param == "sqlite":
        queue_app(f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    elif request.param == "redis":
        queue_app(request.getfixturevalue("redis_url"))
    yield
    huey.storage.flush_all()


def test_a_lease_has_one_holder_at_a_time(backend):
    first, second = Lease(huey, "t:one", 30, owner="a"), Lease(huey, "t:one", 30, owner="b")
    assert first.acquire()
    assert not second.acquire()
    assert first.renew()
    with pytest.raises(LeaseHeld):
        second.__enter__()
    assert [(h.name, h.owner) for h in held(huey)] == [("t:one", "a")]
    second.release()  # not its lease: nothing happens
    assert first.holder().owner == "a"
    first.release()
    assert second.acquire()
    second.release()
    assert held(huey) == []


def test_a_lease_lapses_after_its_ttl(backend):
    assert Lease(huey, "t:ttl", 0.2, owner="dead-worker").acquire()
    time.sleep(0.4)
    assert held(huey) == []
    assert Lease(huey, "t:ttl", 30, owner="b").acquire()
    Lease(huey, "t:ttl", 30, owner="b").release()
