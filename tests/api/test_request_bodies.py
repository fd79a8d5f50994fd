"""What the API does with bodies it cannot read: a clear 4xx in the one error shape, and nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.auth.models import ApiToken
from portal.extensions import db
from portal.orders.models import Order

BODY_ENDPOINTS = ["/api/v1/orders", "/api/v1/orders/verify-payment", "/api/v1/auth/token"]
DEEP = "[" * 5000 + "]" * 5000


def _rows() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(Order)),
        db.session.scalar(select(func.count()).select_from(ApiToken)),
    )


def _assert_error(response, status: int, code: str):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code


@pytest.mark.parametrize("path", BODY_ENDPOINTS)
def test_a_form_body_is_answered_415_like_curl_dash_d_sends_it(api, course, path):
    before = _rows()
    body = f'{{"items": [{{"product_id": {course.id}}}], "email": "a@b.in", "password": "x"}}'
    response = api.post(path, data=body, content_type="application/x-www-form-urlencoded")
    _assert_error(response, 415, "unsupported_media_type")
    assert _rows() == before


@pytest.mark.parametrize("path", BODY_ENDPOINTS)
def test_a_multipart_body_is_answered_415(api, course, path):
    before = _rows()
    response = api.post(path, data={"product_id": str(course.id)}, content_type="multipart/form-data")
    _assert_error(response, 415, "unsupported_media_type")
    assert response.get_json()["error"]["details"] == {"content_type": "multipart/form-data"}
    assert _rows() == before


def test_an_empty_form_body_is_415_too(api):
    response = api.post("/api/v1/orders", data="", content_type="application/x-www-form-urlencoded")
    _assert_error(response, 415, "unsupported_media_type")


@pytest.mark.parametrize("path", BODY_ENDPOINTS)
def test_json_nested_5000_deep_is_malformed_json(api, path):
    before = _rows()
    _assert_error(api.post(path, data=DEEP, content_type="application/json"), 400, "malformed_json")
    assert _rows() == before


def test_json_nested_within_the_bound_is_read_and_validated(api):
    nested = {"items": [{"product_id": 1, "quantity": 1, "extra": [[[[1]]]]}]}
    assert api.post("/api/v1/orders", json=nested).status_code != 400


def test_a_wrong_method_answers_405_with_allow_in_the_error_shape(api):
    response = api.get("/api/v1/auth/token")
    _assert_error(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) >= {"POST", "DELETE"}
