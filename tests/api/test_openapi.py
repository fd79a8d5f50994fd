"""The OpenAPI description is generated from the validating schemas, and the API keeps to it.

schemathesis generates requests from /api/v1/openapi.json (authenticated) and checks every answer:
no 5xx, documented status codes and content types, bodies that match their schemas.
"""

from __future__ import annotations

import os
import time

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import DataGenerationMethod, checks, experimental

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
    make.product(kind="good", price=49900, stock=5)
    return schemathesis.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.from_pytest_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_keeps_to_its_openapi_description(case, customer, make):
    token, _ = issue_token(customer)  # fresh each time: DELETE /auth/token may revoke the last one
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
    case.call_and_validate()


# The big run: ≥ 1,000 generated requests, valid and invalid (schemathesis' negative data: wrong types, missing
# and extra fields, out-of-range numbers), in one test so that the total is counted and checked. It runs in the
# PostgreSQL pass only (where out-of-range integers and NUL become errors); API_FUZZ_EXAMPLES scales it.
# Rate limits: the API's (API_RATE_LIMIT, and LOGIN_RATE_LIMIT on /auth/token) are Flask-Limiter limits, and
# the test app runs with RATELIMIT_ENABLED=False, so no 429 can cut the run short; the API has no other limit.
BIG_RUN_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "130"))  # valid cases per cheap operation
NEGATIVE_EXAMPLES = int(os.environ.get("API_FUZZ_NEGATIVE_EXAMPLES", "12"))  # invalid cases per operation
BIG_RUN_MIN_CASES = int(os.environ.get("API_FUZZ_MIN_CASES", "1000"))
# The share of BIG_RUN_EXAMPLES an operation gets: checking a password (by design slow), placing an order (a
# gateway order in the sandbox) cost ten times a lookup; an operation without parameters has few distinct cases.
WEIGHTS = {
    "POST /api/v1/auth/token": 0.15,
    "DELETE /api/v1/auth/token": 0.15,
    "POST /api/v1/orders": 0.3,
    "GET /api/v1/orders/available-courses": 0.25,
    "GET /api/v1/orders/statistics": 0.25,
    "GET /api/v1/orders/my-orders": 0.5,
    "POST /api/v1/orders/verify-payment": 0.5,
}


@pytest.mark.slow
def test_the_api_survives_a_thousand_generated_requests(postgres, app, make, sandbox, customer):
    from portal.extensions import limiter

    assert app.config["RATELIMIT_ENABLED"] is False and not limiter.enabled  # the rate limit is lifted
    make.product(price=99900)
    make.product(kind="good", price=49900, stock=5)
    schema = schemathesis.from_wsgi(
        "/api/v1/openapi.json",
        app,
        data_generation_methods=[DataGenerationMethod.positive, DataGenerationMethod.negative],
    )
    cases = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for method in (DataGenerationMethod.positive, DataGenerationMethod.negative):
            started = time.monotonic()
            examples = NEGATIVE_EXAMPLES if method == DataGenerationMethod.negative else BIG_RUN_EXAMPLES
            examples = max(1, round(examples * WEIGHTS.get(operation.verbose_name, 1)))
            ran = _run_operation(operation, method, customer, examples)
            cases += ran
            print(f"{operation.verbose_name} {method.name}: {ran} cases in {time.monotonic() - started:.1f} s")
    assert cases >= BIG_RUN_MIN_CASES, f"only {cases} cases were generated"


# Invalid data is held to what matters for it — never a 5xx, only documented statuses, content types and bodies —
# not to "it must be refused": a mutated optional field that the API ignores is accepted by design.
NEGATIVE_CHECKS = (
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
)


def _run_operation(operation, method, customer, examples: int) -> int:
    """Run `operation` with generated cases (no shrinking: a failure is reported as found); how many ran."""
    count = 0
    validate = {"checks": NEGATIVE_CHECKS} if method == DataGenerationMethod.negative else {}

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        phases=[Phase.explicit, Phase.generate],
    )
    @given(case=operation.as_strategy(data_generation_method=method))
    def run(case):
        nonlocal count
        count += 1
        token, _ = issue_token(customer)
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        case.call_and_validate(**validate)

    run()
    return count
