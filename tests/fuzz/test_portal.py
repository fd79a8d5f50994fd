"""Hostile input to every portal route, on PostgreSQL, signed in as admin: no answer may be a 5xx.

The routes come from `app.url_map` and the form fields from every FlaskForm in the app, so a new route
or field is fuzzed without touching this file. PostgreSQL is where out-of-range integers, NUL and bad
comparisons turn into errors (SQLite quietly answers "no match"), so this runs on PostgreSQL only.
"""

from __future__ import annotations

import re

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.history.services import Actor
from portal.refunds.services import create_refund
from tests.webhooks import payloads

pytestmark = pytest.mark.postgres

HOSTILE = [
    "2147483648",
    "99999999999999999999",
    "9" * 5000,
    "-1",
    "0",
    "9999-12-31",
    "0001-01-01",
    "2026-02-30",
    "1e309",
    "a\x00b",
    "\u202e\u0663ünïcødé ✓ 𝔘 \U0001f4a9",
    "' OR 1=1 --",
    "%_\\",
    "x" * 10240,
    "",
]
FORM_HOSTILE = [v for v in HOSTILE if v not in ("0", "0001-01-01", "2026-02-30", "%_\\")]  # a form POST costs more
HOSTILE_IDS = ["0", "2147483648", "99999999999999999999", "9" * 5000, "\u0663", "-1", "abc"]
QUERY_NAMES = [
    "status", "from", "to", "min", "max", "sort", "dir", "after", "before", "page", "per_page",
    "customer", "product", "fulfilment", "type", "method", "payment_id", "order_id", "refund_id",
    "view", "next", "tab", "period",
]  # fmt: skip
# `q` (the search text) is fuzzed on its own below, while helper h5's search rewrite lands.
SKIPPED_PREFIXES = ("/static", "/api/", "/v1/", "/sandbox")  # the API has schemathesis; the sandbox is Razorpay's
LAST = ("/logout",)  # signs the fuzzing session out
SEGMENT = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _rules(app, methods: set[str]):
    rules = [r for r in app.url_map.iter_rules() if not r.rule.startswith(SKIPPED_PREFIXES) and r.methods & methods]
    return sorted(rules, key=lambda r: (r.rule in LAST, r.rule))


def _paths(rule, real_id: int) -> list[str]:
    """The rule with a real id in every segment, then with each hostile id."""
    if not rule.arguments:
        return [rule.rule]
    return [SEGMENT.sub(value, rule.rule) for value in [str(real_id), *HOSTILE_IDS]]


def _form_fields() -> set[str]:
    """Every field name of every form in the app (imported by now: the app registered its blueprints)."""
    names, todo = set(), list(FlaskForm.__subclasses__())
    while todo:
        form = todo.pop()
        todo.extend(form.__subclasses__())
        names.update(name for name, _field in getattr(form, "_unbound_fields", None) or [] if name != "csrf_token")
        names.update(
            name for name in vars(form) if not name.startswith("_") and hasattr(vars(form)[name], "field_class")
        )
    return names | {"ids", "qty-1", "qty-99999999999"}


@pytest.fixture
def seeded(postgres, make, sandbox, deliver):
    """One of each thing with a page: orders (pending, paid), payment, refund, invoice, webhook event."""
    admin = make.staff("admin")
    pending = make.order()
    _order, payment = make.paid_order()
    create_refund(payment.id, amount=100, reason="duplicate_payment", actor=Actor.user(admin))
    deliver("payment.captured", payment=payloads.payment(pending))
    return admin


@pytest.fixture
def admin_client(seeded, auth):
    auth.login(seeded.email)
    return auth.client, auth.csrf_token("/admin/")


GATEWAY_TROUBLE = {502, 503}  # deliberate answers: the gateway refused or could not be reached


def assert_no_server_errors(answers) -> None:
    failures = [f"{method} {url[:160]!r} → {status}" for method, url, status in answers if status >= 500]
    failures = [line for line in failures if int(line.rsplit(" ", 1)[1]) not in GATEWAY_TROUBLE]
    if failures:
        pytest.fail(f"{len(failures)} of {len(answers)} answers were server errors:\n" + "\n".join(failures[:80]))


@pytest.mark.slow
def test_every_get_route_answers_hostile_query_strings_and_ids_without_a_5xx(app, admin_client):
    client, _token = admin_client
    answers = []
    for rule in _rules(app, {"GET"}):
        for path in _paths(rule, 1):
            answers.append(("GET", path, client.get(path).status_code))
        path = _paths(rule, 1)[0]
        for value in HOSTILE:
            for extra in ({}, {"format": "csv"}) if not rule.arguments else ({},):
                query = dict.fromkeys(QUERY_NAMES, value) | extra
                answers.append(("GET", f"{path}?{query}", client.get(path, query_string=query).status_code))
    assert_no_server_errors(answers)
    assert len(answers) > 400


@pytest.mark.slow
def test_random_mixes_of_hostile_query_parameters_answer_without_a_5xx(app, admin_client):
    client, _token = admin_client
    paths = [_paths(rule, 1)[0] for rule in _rules(app, {"GET"})]
    answers = []

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(
        path=st.sampled_from(paths),
        query=st.dictionaries(
            st.sampled_from([*QUERY_NAMES, "format"]),
            st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30), st.integers().map(str)),
            max_size=6,
        ),
    )
    def probe(path, query):
        answers.append(("GET", f"{path}?{query}", client.get(path, query_string=query).status_code))

    probe()
    assert_no_server_errors(answers)


@pytest.mark.slow
def test_every_form_action_answers_hostile_fields_and_ids_without_a_5xx(app, admin_client):
    client, token = admin_client
    fields = sorted(_form_fields())
    headers = {"X-CSRFToken": token}
    answers = []
    for rule in _rules(app, {"POST", "PATCH", "DELETE", "PUT"}):
        for method in sorted(rule.methods & {"POST", "PATCH", "DELETE", "PUT"}):
            paths = _paths(rule, 1)
            for value in FORM_HOSTILE:
                data = dict.fromkeys(fields, value) | {"csrf_token": token}
                status = client.open(paths[0], method=method, data=data, headers=headers).status_code
                answers.append((method, f"{paths[0]} {value[:20]!r}", status))
            for path in paths[1:]:
                data = {"csrf_token": token, "reason": "duplicate_payment"}
                answers.append((method, path, client.open(path, method=method, data=data, headers=headers).status_code))
    assert_no_server_errors(answers)
    assert len(answers) > 300


@pytest.mark.slow
def test_the_search_text_answers_hostile_values_without_a_5xx(app, admin_client):
    client, _token = admin_client
    paths = [_paths(rule, 1)[0] for rule in _rules(app, {"GET"}) if not rule.arguments]
    answers = [
        ("GET", f"{path}?q={value[:30]}", client.get(path, query_string={"q": value}).status_code)
        for path in paths
        for value in HOSTILE
    ]
    assert_no_server_errors(answers)
