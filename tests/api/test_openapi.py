"""The OpenAPI description is generated from the validating schemas, and the API keeps to it.

schemathesis generates requests from /api/v1/openapi.json (authenticated) and checks every answer:
no 5xx, documented status codes and content types, bodies that match their schemas.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import experimental

from portal.auth.services import issue_token

experimental.OPEN_API_3_1.enable()


def test_openapi_describes_every_route_with_auth_and_examples(client):
    spec = client.get("/api/v1/openapi.json").get_json()

    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) >= {
        "/api/v1/auth/token",
        "/api/v1/orders",
        "/api/v1/orders/available-courses",
        "/api/v1/orders/my-orders",
        "/api/v1/orders/statistics",
        "/api/v1/orders/{order_id}",
        "/api/v1/orders/{order_id}/cancel",
        "/api/v1/orders/{order_id}/payment-link",
        "/api/v1/orders/{order_id}/invoice",
        "/api/v1/orders/verify-payment",
    }
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert spec["paths"]["/api/v1/auth/token"]["post"]["security"] == []
    assert spec["components"]["schemas"]["VerifyPaymentRequest"]["examples"]
    create = spec["paths"]["/api/v1/orders"]["post"]
    assert "201" in create["responses"] and "409" in create["responses"]
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])


@pytest.fixture
def api_schema(app, make, sandbox):
    make.product(price=99900)
    make.product(kind="physical", price=49900, stock=5)
    return schemathesis.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.from_pytest_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_keeps_to_its_openapi_description(case, customer, make):
    token, _ = issue_token(customer)  # fresh each time: DELETE /auth/token may revoke the last one
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
    case.call_and_validate()
