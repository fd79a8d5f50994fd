from __future__ import annotations

import pytest

from tests.webhooks.conftest import Deliver


@pytest.fixture
def deliver(client, app):
    return Deliver(client, app)
