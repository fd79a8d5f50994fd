"""Browser test harness: the real app on a live port, driven by Debian's Chromium through Playwright.

Usage in tests/browser/test_*.py (every test here is marked `browser` automatically):

    def test_something(live_server, page, login):
        user = login(page, "finance")           # signs in through the real /login form; returns the User
        page.goto("/admin/orders")              # relative URLs resolve against live_server.url
        expect(page.get_by_role("heading", name="Orders")).to_be_visible()
        screenshot(page, "orders-list")         # from tests.browser.conftest import screenshot

Fixtures:
    live_server  the session `app` (tests/conftest.py) served by werkzeug in a background thread on a free
                 127.0.0.1 port; `.url` is its base URL ("http://127.0.0.1:PORT"), `.app` the Flask app.
                 Data you create in the test (factories commit) is visible to it; tables are emptied after
                 every test as usual.
    browser      one headless Chromium (/usr/bin/chromium) per session — Playwright never downloads one.
    page         a fresh browser context + page per test, with base_url = live_server.url. A failing test
                 leaves a screenshot in test-artifacts/ (git-ignored).
    login        `login(page, role="admin", email=None, password=None)`: creates a staff user with that role
                 (unless `email` names an existing one) and signs in through the form.

Without /usr/bin/chromium the tests skip with the reason (install it: `apt-get install -y chromium`);
under CI=true they fail instead. Set PORTAL_SKIP_BROWSER=1 to deselect them (scripts/test.sh does so in the
SQLite pass when the PostgreSQL pass will run them).
"""

from __future__ import annotations

import os
import re
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests import factories

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
# Without the background-networking flags Chromium phones home and the closed network refuses it.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    """Mark every test under tests/browser as `browser`; deselect them when PORTAL_SKIP_BROWSER=1."""
    ours = [item for item in items if HERE in Path(str(item.path)).resolve().parents]
    for item in ours:
        item.add_marker(pytest.mark.browser)
    if os.environ.get("PORTAL_SKIP_BROWSER") == "1" and ours:
        config.hook.pytest_deselected(items=ours)
        items[:] = [item for item in items if item not in ours]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


class LiveServer:
    """The app served over real HTTP from a daemon thread."""

    def __init__(self, app):
        self.app = app
        # threaded: the browser opens several connections at once (page, CSS, JS).
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self._server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="live-server", daemon=True)

    def start(self) -> LiveServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture(scope="session")
def live_server(app):
    """Overrides pytest-flask's multiprocessing live_server: same app object, same test database."""
    server = LiveServer(app).start()
    yield server
    server.stop()


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"needs Chromium at {CHROMIUM} (apt-get install -y chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    _require_chromium()
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=10_000)  # CI has two busy cores; the 5 s default is tight there
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield instance
        instance.close()


@pytest.fixture
def page(request, browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        screenshot(tab, f"FAILED-{request.node.name}")
    context.close()


def screenshot(page, name: str) -> Path:
    """Save a full-page PNG as test-artifacts/<name>.png and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, email: str, password: str = factories.PASSWORD) -> None:
    """Fill and submit the real /login form (its CSRF token comes with the page)."""
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


@pytest.fixture
def login(live_server):
    """`login(page, role)` → the signed-in staff User (created with that role)."""

    def _login(page, role: str = "admin", email: str | None = None, password: str = factories.PASSWORD):
        from portal.auth.services import find_user

        user = find_user(email) if email else None
        user = user or factories.staff(role=role, email=email)
        sign_in(page, user.email, password)
        page.wait_for_url(re.compile(r"/admin/"))
        return user

    return _login


class Sent:
    """The state-changing requests a page sent to the portal (method, url, body, headers), in order."""

    def __init__(self, page):
        self.requests = []
        page.on("request", self._record)

    def _record(self, request) -> None:
        if request.method != "GET" and "/admin/" in request.url:
            self.requests.append(request)

    def htmx(self) -> list:
        return [r for r in self.requests if r.headers.get("hx-request") == "true"]

    def assert_csrf_only_in_header(self) -> None:
        """Every htmx mutation carried X-CSRFToken and no csrf_token parameter (which could reach access logs)."""
        sent = self.htmx()
        assert sent, "no htmx request was sent"
        for request in sent:
            assert request.headers.get("x-csrftoken"), f"{request.method} {request.url} has no X-CSRFToken header"
            assert "csrf_token" not in request.url, f"{request.method} {request.url} puts the token in the URL"
            assert "csrf_token" not in (request.post_data or ""), f"{request.method} {request.url} sends it in the body"


@pytest.fixture
def sent(page):
    """`sent.requests` / `sent.htmx()`: what the page sent; `sent.assert_csrf_only_in_header()` after HTMX actions.
    Also accepts every hx-confirm dialog, as an admin clicking OK would."""
    page.on("dialog", lambda dialog: dialog.accept())
    return Sent(page)
