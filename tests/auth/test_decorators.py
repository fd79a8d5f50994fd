"""Roles are checked on the server for every /admin route."""

from __future__ import annotations

import pytest
from flask_login import login_user
from werkzeug.exceptions import Forbidden

from portal.auth.decorators import require_role, role_required

ROLES = ["viewer", "finance", "admin"]


def admin_get_rules(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin") and "GET" in rule.methods:
            yield rule


def fill(rule) -> str:
    """A concrete URL for a rule: every argument set to 1."""
    return rule.build(dict.fromkeys(rule.arguments, 1), append_unknown=False)[1]


def test_anonymous_visitors_are_sent_to_login_from_every_admin_page(app, client):
    rules = list(admin_get_rules(app))
    assert rules, "the dashboard at least"
    for rule in rules:
        url = fill(rule)
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/login?next="), url


def test_a_customer_session_is_not_a_staff_session(app, client, make):
    customer = make.customer()
    with client.session_transaction() as sess:  # even a forged session naming a customer is ignored
        sess["_user_id"] = str(customer.id)
        sess["_fresh"] = True
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize("role", ROLES)
def test_every_staff_role_sees_the_dashboard(auth, client, role):
    auth.login_as(role)
    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize("held", ROLES)
@pytest.mark.parametrize("needed", ROLES)
def test_require_role_follows_viewer_finance_admin_order(app, make, held, needed):
    user = make.staff(held)
    with app.test_request_context():
        login_user(user)
        if ROLES.index(held) >= ROLES.index(needed):
            require_role(needed)
        else:
            with pytest.raises(Forbidden) as raised:
                require_role(needed)
            assert needed in raised.value.description


def test_role_required_decorator_guards_the_view(app, make):
    @role_required("finance")
    def refund_something():
        return "done"

    with app.test_request_context():
        login_user(make.staff("viewer"))
        with pytest.raises(Forbidden):
            refund_something()
    with app.test_request_context():
        login_user(make.staff("finance"))
        assert refund_something() == "done"


def test_a_refused_role_answers_403_with_the_needed_role(app, make):
    with app.test_request_context():
        login_user(make.staff("viewer"))
        with pytest.raises(Forbidden) as raised:
            require_role("admin")
    assert raised.value.code == 403


def test_an_inactive_staff_user_cannot_sign_in(auth, make, db):
    user = make.staff("admin")
    user.active = False
    db.session.commit()
    assert auth.login(user.email).status_code == 422
