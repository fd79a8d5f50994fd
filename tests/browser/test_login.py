"""Signing in through a real browser."""

import re

from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in


def test_admin_signs_in_and_sees_the_dashboard(page, login):
    user = login(page, "admin")
    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    expect(page.get_by_text(user.email)).to_be_visible()
    assert screenshot(page, "dashboard").stat().st_size > 0


def test_wrong_password_shows_the_form_error(page, make):
    user = make.staff("admin")
    sign_in(page, user.email, "not-the-password")
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    expect(page.get_by_role("heading", name="Dashboard")).to_have_count(0)


def test_signing_out_returns_to_the_login_page(page, login):
    login(page, "viewer")
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    expect(page.get_by_text("You are signed out.")).to_be_visible()
