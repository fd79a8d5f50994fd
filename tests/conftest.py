"""Shared fixtures: app, db, client, runner, auth, factories.

The database is real: SQLite by default, PostgreSQL when TEST_DATABASE_URL points at one (CI).
Tables are created once per session and emptied after every test, so tests may commit and may
use threads; nothing is mocked.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text

from portal import create_app
from portal.config import TestingConfig, normalise_database_url
from portal.extensions import db as _db
from portal.sandbox.testing import sandbox  # noqa: F401  (the `sandbox` fixture: the Razorpay sandbox, reset per test)
from tests import factories

TMP = Path(tempfile.mkdtemp(prefix="portal-tests-"))


def database_url() -> str:
    return normalise_database_url(os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{TMP / 'test.sqlite'}")


def is_postgres_url(url: str) -> bool:
    return url.startswith("postgresql")


@pytest.fixture(scope="session")
def app():
    application = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=database_url(),
        SANDBOX_DATABASE_URL=f"sqlite:///{TMP / 'sandbox.sqlite'}",
        RATELIMIT_ENABLED=False,
    )
    with application.app_context():
        _db.drop_all()
        _reset_alembic(application)
        _db.create_all()
    yield application
    with application.app_context():
        _db.session.remove()
        _db.engine.dispose()


def _reset_alembic(application):
    with _db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(autouse=True)
def _app_context(app):
    with app.app_context():
        yield
        _db.session.rollback()
        _db.session.remove()
        empty_tables()


def empty_tables() -> None:
    tables = [t.name for t in reversed(_db.metadata.sorted_tables)]
    with _db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
            # Like RESTART IDENTITY: AUTOINCREMENT tables start again from 1 in the next test.
            conn.execute(text("DELETE FROM sqlite_sequence"))


@pytest.fixture
def db(app):
    return _db


@pytest.fixture
def postgres(app):
    """Skip unless the suite runs on PostgreSQL (CI always does)."""
    if not is_postgres_url(app.config["SQLALCHEMY_DATABASE_URI"]):
        pytest.skip("needs PostgreSQL: set TEST_DATABASE_URL=postgresql://... (CI does)")
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make():
    return factories


class AuthActions:
    """Sign in through the real login form (CSRF token and all)."""

    def __init__(self, client):
        self.client = client

    def csrf_token(self, path: str = "/login") -> str:
        from tests.helpers import extract_csrf

        return extract_csrf(self.client.get(path).get_data(as_text=True))

    def login(self, email: str, password: str = factories.PASSWORD):
        token = self.csrf_token()
        return self.client.post("/login", data={"email": email, "password": password, "csrf_token": token})

    def login_as(self, role: str = "admin"):
        user = factories.staff(role=role)
        response = self.login(user.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return user


@pytest.fixture
def auth(client):
    return AuthActions(client)


@pytest.fixture
def jobs_wait_for_a_worker():
    """Background jobs are queued (in memory) and not run, as before a worker picks them up. For tests of what a
    request or command does by itself: in immediate mode the outbox's send jobs (which render and store the PDFs
    they attach) would run inside it."""
    from portal.jobs import huey

    huey.immediate = False
    yield huey
    huey.immediate = True
