import pytest

from portal.history.services import Actor


@pytest.fixture
def actor(make):
    return Actor.user(make.staff("admin"))
