"""Failed sign-ins are throttled per account and per address; successes never count (OWASP ASVS 2.2.1).

The session app runs with RATELIMIT_ENABLED=False, so these tests build their own app (same database)
with the limits on, on in-process memory and, when a Redis server answers, on Redis (db 6).
"""

from __future__ import annotations

import re

import pytest
import redis

from portal import create_app
from portal.auth.throttle import LoginThrottle, wait_in_words
from portal.config import TestingConfig
from portal.extensions import limiter
from tests.factories import PASSWORD
from tests.helpers import extract_csrf

REDIS_URL = "redis://127.0.0.1:6379/6"
OFFICE, HOME = "203.0.113.7", "198.51.100.20"


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


STORAGES = [
    "memory://",
    pytest.param(REDIS_URL, marks=pytest.mark.skipif(not _redis_answers(), reason="no Redis at " + REDIS_URL)),
]


@pytest.fixture(params=STORAGES)
def limited(request, app):
    """An app with the throttle on (the defaults of Config unless a test overrides them)."""
    made = []

    def build(**overrides):
        enabled = limiter.enabled
        limited_app = create_app(
            TestingConfig,
            SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
            SANDBOX_DATABASE_URL=app.config["SANDBOX_DATABASE_URL"],
            RATELIMIT_ENABLED=True,
            RATELIMIT_STORAGE_URI=request.param,
            **overrides,
        )
        limiter.enabled = enabled  # one Limiter object serves every app: leave the session app's switch alone
        made.append(limited_app)
        return limited_app

    yield build
    for limited_app in made:
        limited_app.extensions["login_throttle"].limiter.storage.reset()


class Browser:
    """A test client signing in through the real form from one client address."""

    def __init__(self, app, address: str = OFFICE):
        self.client = app.test_client()
        self.address = address

    def sign_in(self, email: str, password: str = PASSWORD):
        environ = {"REMOTE_ADDR": self.address}
        token = extract_csrf(self.client.get("/login", environ_base=environ).get_data(as_text=True))
        data = {"email": email, "password": password, "csrf_token": token}
        response = self.client.post("/login", data=data, environ_base=environ)
        if response.status_code == 302:
            self.client.post("/logout", data={"csrf_token": token}, environ_base=environ)
        return response


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one_and_the_page_says_when(limited, make):
    user = make.staff("admin")
    browser = Browser(limited())
    statuses = [browser.sign_in(user.email, "wrong-password").status_code for _ in range(5)]
    locked = browser.sign_in(user.email)  # the right password: not even checked while locked

    assert statuses == [422] * 5
    assert locked.status_code == 429
    html = locked.get_data(as_text=True)
    assert re.search(r"Too many failed sign-ins\. Try again in 15 minutes \(after \d\d:\d\d UTC\)\.", html)
    assert 'name="email"' in html  # the form, not a bare "50 per 1 hour" page that leads back to login
    assert 1 <= int(locked.headers["Retry-After"]) <= 15 * 60


def test_successful_sign_ins_never_count(limited, make):
    user = make.staff("viewer")
    browser = Browser(limited())
    assert {browser.sign_in(user.email).status_code for _ in range(12)} == {302}


def test_a_colleague_at_the_same_address_signs_in_while_one_account_is_being_guessed(limited, make):
    guessed, colleague = make.staff("admin"), make.staff("finance")
    app = limited()
    guesses = [Browser(app).sign_in(guessed.email, f"guess-{n}").status_code for n in range(12)]

    assert guesses == [422] * 5 + [429] * 7
    assert Browser(app).sign_in(colleague.email).status_code == 302


def test_the_account_lock_holds_from_any_address_and_the_email_is_normalised(limited, make):
    user = make.staff("admin")
    app = limited()
    for _ in range(5):
        Browser(app, OFFICE).sign_in(f"  {user.email.upper()} ", "wrong-password")
    assert Browser(app, HOME).sign_in(user.email).status_code == 429


def test_many_accounts_guessed_from_one_address_lock_that_address_only(limited, make):
    app = limited(LOGIN_FAILURES_PER_ADDRESS="4 per 15 minutes")
    user = make.staff("viewer")
    office, home = Browser(app, OFFICE), Browser(app, HOME)
    sprayed = [office.sign_in(f"nobody{n}@staff.test", "guess").status_code for n in range(4)]

    assert sprayed == [422] * 4
    assert office.sign_in(user.email).status_code == 429
    assert home.sign_in(user.email).status_code == 302


def test_the_api_token_endpoint_shares_the_throttle_and_says_when_in_json(limited, make):
    customer = make.customer()
    client = limited().test_client()
    body = {"email": customer.email, "password": "wrong-password"}
    statuses = [client.post("/api/v1/auth/token", json=body).status_code for _ in range(5)]
    locked = client.post("/api/v1/auth/token", json={**body, "password": PASSWORD})

    assert statuses == [401] * 5
    assert locked.status_code == 429
    error = locked.get_json()["error"]
    assert error["code"] == "too_many_requests" and "Try again in 15 minutes" in error["message"]
    assert error["details"]["retry_after"] == int(locked.headers["Retry-After"])


def test_the_session_app_has_the_throttle_switched_off(app):
    throttle = app.extensions["login_throttle"]
    assert isinstance(throttle, LoginThrottle) and throttle.limiter is None


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(1, "1 second"), (45, "45 seconds"), (60, "1 minute"), (61, "2 minutes"), (900, "15 minutes"), (7200, "2 hours")],
)
def test_the_wait_is_said_in_words(seconds, words):
    assert wait_in_words(seconds) == words
