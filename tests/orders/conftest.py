"""Order service and CLI fixtures."""

import pytest

from tests.api.conftest import ApiClient


@pytest.fixture
def api(client, make):
    """A customer's API client (bearer token), for the tests that check out through the cart API."""
    return ApiClient(client, make.customer(name="Asha Rao"))
