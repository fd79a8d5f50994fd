"""The clock every service reads: real time, unless `clock_at` moves it (the demo seed plays the past with it)."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from portal.gateway import get_gateway
from portal.timeutil import clock_at, from_unix, set_clock, unix_now, utcnow, with_this_clock

PAST = datetime(2026, 10, 2, 9, 30)


def test_clock_at_moves_every_reading_of_now_and_then_restores_real_time():
    real = utcnow()
    with clock_at(PAST):
        assert PAST <= utcnow() < PAST + timedelta(seconds=5)  # it keeps ticking from there
        assert abs(from_unix(int(unix_now())) - PAST) < timedelta(seconds=5)
        set_clock(PAST + timedelta(days=3))
        assert utcnow() >= PAST + timedelta(days=3)
    assert utcnow() >= real


def test_set_clock_outside_clock_at_is_refused():
    with pytest.raises(RuntimeError):
        set_clock(PAST)


def test_the_clock_does_not_leak_into_other_threads_unless_carried():
    seen = {}

    def read(key):
        seen[key] = utcnow()

    with clock_at(PAST):
        plain = threading.Thread(target=read, args=("plain",))
        carried = threading.Thread(target=with_this_clock(read), args=("carried",))
        for thread in (plain, carried):
            thread.start()
            thread.join()
    assert seen["carried"] < PAST + timedelta(minutes=1)
    assert seen["plain"] > PAST + timedelta(days=30)


def test_the_in_process_sandbox_stamps_its_entities_by_the_clock(sandbox):
    with clock_at(PAST):
        order = get_gateway().create_order(amount=50000, currency="INR", receipt="r", notes={})
    assert abs(from_unix(order["created_at"]) - PAST) < timedelta(seconds=5)
