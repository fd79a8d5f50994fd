"""`flask users ...` through the real CLI runner."""

from __future__ import annotations

from portal.auth.services import authenticate, find_user, resolve_token


def test_create_admin_creates_then_updates(runner):
    result = runner.invoke(args=["users", "create-admin", "Boss@Example.test", "--password", "long-enough-1"])
    assert result.exit_code == 0, result.output
    assert "created admin boss@example.test" in result.output
    result = runner.invoke(
        args=["users", "create-admin", "boss@example.test", "--role", "viewer", "--password", "other-pass-2"]
    )
    assert result.exit_code == 0, result.output
    assert "updated viewer boss@example.test" in result.output
    assert authenticate("boss@example.test", "other-pass-2", staff=True).role == "viewer"


def test_create_admin_prompts_for_the_password(runner):
    result = runner.invoke(args=["users", "create-admin", "ops@example.test"], input="prompted-pw-1\nprompted-pw-1\n")
    assert result.exit_code == 0, result.output
    assert authenticate("ops@example.test", "prompted-pw-1").is_staff


def test_create_admin_refuses_a_short_password_and_an_unknown_role(runner):
    short = runner.invoke(args=["users", "create-admin", "a@example.test", "--password", "short"])
    assert short.exit_code != 0 and "at least 8" in short.output
    role = runner.invoke(args=["users", "create-admin", "a@example.test", "--role", "god", "--password", "long-enough"])
    assert role.exit_code != 0
    assert find_user("a@example.test") is None


def test_create_customer_and_issue_a_token_that_resolves(runner):
    created = runner.invoke(args=["users", "create-customer", "buyer@example.test", "--password", "buyer-pass-1"])
    assert created.exit_code == 0, created.output
    assert "created customer buyer@example.test" in created.output
    result = runner.invoke(args=["users", "token", "buyer@example.test"])
    assert result.exit_code == 0, result.output
    token = result.output.split()[-1]
    record = resolve_token(token)
    assert record is not None and record.user.email == "buyer@example.test"


def test_token_is_only_for_customers(runner, make):
    staff = make.staff("admin")
    result = runner.invoke(args=["users", "token", staff.email])
    assert result.exit_code != 0
    assert "no customer" in result.output
    assert runner.invoke(args=["users", "token", "nobody@example.test"]).exit_code != 0


def test_create_admin_with_role_vendor_makes_a_staff_user_of_that_vendor(runner, make):
    from portal.history.services import Actor
    from portal.vendors.services import create_vendor

    vendor = create_vendor(name="Lens Hire", actor=Actor.system())
    args = [
        "users",
        "create-admin",
        "desk@lens.test",
        "--role",
        "vendor",
        "--vendor",
        "lens hire",
        "--password",
        "x" * 10,
    ]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "created vendor of Lens Hire desk@lens.test" in result.output
    user = find_user("desk@lens.test")
    assert user.is_vendor and user.vendor_id == vendor.id and user.is_staff and not user.has_role("viewer")


def test_create_admin_refuses_an_unknown_vendor_or_a_vendor_role_without_one(runner):
    unknown = runner.invoke(
        args=["users", "create-admin", "a@x.test", "--role", "vendor", "--vendor", "Nobody", "--password", "x" * 10]
    )
    assert unknown.exit_code != 0 and "no vendor named 'Nobody'" in unknown.output
    missing = runner.invoke(args=["users", "create-admin", "a@x.test", "--role", "vendor", "--password", "x" * 10])
    assert missing.exit_code != 0 and "--vendor NAME" in missing.output
    assert find_user("a@x.test") is None
