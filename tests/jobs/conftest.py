from __future__ import annotations

import os

import pytest

from portal import create_app
from portal.config import TestingConfig
from portal.jobs.queue import configure
from tests.jobs import sample_tasks

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: every send fails at once


@pytest.fixture(autouse=True)
def _fresh_sample_tasks():
    sample_tasks.reset()
    yield
    sample_tasks.reset()


@pytest.fixture
def queue_app(app):
    """`queue_app(JOBS_BACKEND, immediate=False)`: an app on the same test database whose queue is that
    backend. The queue is a process-wide singleton: the session app's (immediate) is restored after."""
    made = []

    def build(backend: str, *, immediate: bool = False):
        other = create_app(
            TestingConfig,
            SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
            SANDBOX_DATABASE_URL=app.config["SANDBOX_DATABASE_URL"],
            RATELIMIT_ENABLED=False,
        )
        other.config.update(JOBS_BACKEND=backend, JOBS_IMMEDIATE=immediate)
        configure(other)
        made.append(other)
        return other

    yield build
    configure(app)


@pytest.fixture
def redis_url():
    """TEST_REDIS_URL (scripts/test.sh sets it when Redis answers); skip without it, fail under CI."""
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but TEST_REDIS_URL is not set (.ci/run starts Redis)", pytrace=False)
        pytest.skip("needs Redis: set TEST_REDIS_URL=redis://127.0.0.1:6379/N")
    return url
