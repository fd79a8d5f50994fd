"""`/api/v1/me/preferences`: a customer reads and sets their opt-out through the API (bearer token, one error shape)."""

from __future__ import annotations

from portal.auth.models import User
from portal.extensions import db
from tests.api.conftest import ApiClient


def test_a_customer_opts_out_and_back_in_through_the_api(client, make):
    api = ApiClient(client, make.customer())
    assert api.get("/api/v1/me/preferences").get_json()["data"] == {"updates": True, "updates_opted_out_at": None}
    answer = api.patch("/api/v1/me/preferences", json={"updates": False})
    assert answer.status_code == 200
    data = answer.get_json()["data"]
    assert data["updates"] is False and data["updates_opted_out_at"].endswith(("Z", "+00:00"))
    db.session.expire_all()
    assert db.session.get(User, api.user.id).updates_opted_out_at is not None
    assert api.patch("/api/v1/me/preferences", json={"updates": True}).get_json()["data"]["updates"] is True


def test_bad_bodies_get_the_apis_error_shape(client, make):
    api = ApiClient(client, make.customer())
    for body in ({}, {"updates": "no"}, {"updates": 0}, {"updates": False, "extra": 1}):
        answer = api.patch("/api/v1/me/preferences", json=body)
        assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "validation_failed", body
    form = api.patch("/api/v1/me/preferences", data="updates=false", headers={"Content-Type": "text/plain"})
    assert form.status_code == 415


def test_preferences_need_a_customer_token(client, make):
    assert client.get("/api/v1/me/preferences").status_code == 401
    staff = ApiClient(client, make.staff("admin"))
    assert staff.get("/api/v1/me/preferences").status_code == 403


def test_the_openapi_description_lists_the_preferences(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "patch"} <= set(paths["/api/v1/me/preferences"])
