"""The front door: `/` leads somewhere useful and the browser finds a favicon."""

from __future__ import annotations


def test_the_root_sends_a_signed_out_visitor_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/login"


def test_the_root_sends_staff_to_the_dashboard(auth, client):
    auth.login_as("viewer")
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"] == "/admin/"


def test_every_page_links_the_favicon_and_it_is_served(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml" and b"<svg" in icon.data


def test_favicon_ico_is_answered_with_the_icon(client):
    response = client.get("/favicon.ico", follow_redirects=True)
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
