"""API fixtures: a signed-in customer's client, and the real sandbox behind the real adapter."""

from __future__ import annotations

import pytest

from portal.auth.services import issue_token


class ApiClient:
    """The Flask test client, with a customer's bearer token on every request."""

    def __init__(self, client, user):
        self.client, self.user = client, user
        self.token, _ = issue_token(user)

    def _headers(self, headers=None):
        return {"Authorization": f"Bearer {self.token}", **(headers or {})}

    def get(self, path, **kw):
        return self.client.get(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, path, json=None, **kw):
        return self.client.post(path, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def patch(self, path, **kw):
        return self.client.patch(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def delete(self, path, **kw):
        return self.client.delete(path, headers=self._headers(kw.pop("headers", None)), **kw)


@pytest.fixture
def customer(make):
    return make.customer(name="Asha Rao", phone="+919812345678")


@pytest.fixture
def api(client, customer):
    return ApiClient(client, customer)


@pytest.fixture
def other_api(app, make):
    return ApiClient(app.test_client(), make.customer())


@pytest.fixture
def course(make):
    return make.product(price=149900, title="Python for Everyone")
