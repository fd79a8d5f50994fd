import pytest

from tests.factories import PASSWORD
from tests.helpers import extract_csrf


def test_login_page_renders_with_csrf_token(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert extract_csrf(response.get_data(as_text=True))


def test_staff_login_reaches_dashboard(auth, client):
    auth.login_as("viewer")
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "Orders by status" in response.get_data(as_text=True)


def test_wrong_password_is_refused_without_revealing_which_part(auth, make):
    user = make.staff("admin")
    response = auth.login(user.email, "wrong-password")
    assert response.status_code == 422
    assert "Wrong email or password." in response.get_data(as_text=True)


def test_customer_cannot_sign_in_to_the_portal(auth, make):
    user = make.customer()
    response = auth.login(user.email)
    assert response.status_code == 422


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "/\\evil.example",
        "/\\/evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "///evil.example",
        "/%2F/evil.example",
        "https://evil.example/admin/",
        "javascript:alert(1)",
        "admin/",
    ],
)
def test_login_never_redirects_off_site(auth, client, make, target):
    user = make.staff("viewer")
    token = auth.csrf_token()
    response = client.post(
        "/login", query_string={"next": target}, data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_login_follows_a_same_site_next(auth, client, make):
    user = make.staff("viewer")
    token = auth.csrf_token()
    response = client.post(
        "/login",
        query_string={"next": "/admin/orders?status=paid"},
        data={"email": user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.headers["Location"] == "/admin/orders?status=paid"


def test_a_signed_in_user_visiting_login_goes_to_the_dashboard(auth, client):
    auth.login_as("viewer")
    response = client.get("/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


def test_sign_in_records_the_time(auth, db):
    user = auth.login_as("finance")
    db.session.refresh(user)
    assert user.last_login_at is not None
