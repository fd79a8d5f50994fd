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
