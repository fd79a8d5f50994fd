"""`flask demo seed`: a believable shop whose money adds up, whose gateway agrees with it and whose times
tell one story, built once through the real services, the sandbox and its webhooks."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.auth.models import User
from portal.auth.services import authenticate
from portal.cart.models import Checkout
from portal.catalog.models import Product
from portal.demo import seed as demo
from portal.extensions import db
from portal.history.models import HistoryEvent
from portal.history.services import Actor
from portal.invoices.models import Invoice
from portal.orders.checkout import expire_overdue_orders
from portal.orders.models import CaptureMode, Order
from portal.orders.status import OrderStatus
from portal.payments.models import Payment
from portal.payments.reconcile import sync_order
from portal.payments.services import capture_payment
from portal.refunds.models import Refund
from portal.refunds.services import create_refund
from portal.timeutil import utcnow
from portal.webhooks.models import WebhookEvent

ORDERS = 30


@pytest.fixture
def seeded(runner, sandbox):
    result = runner.invoke(args=["demo", "seed", "--customers", "8", "--orders", str(ORDERS), "--days", "30"])
    assert result.exit_code == 0, result.output
    return result


def test_seed_builds_a_shop_whose_money_adds_up(seeded):
    """One seed, many checks: seeding hashes passwords and walks every order through the services (slow)."""
    check_orders_cover_every_status_even_in_a_small_seed()
    check_every_paid_order_has_a_captured_payment_of_its_total()
    check_refunded_totals_match_order_status()
    check_orders_that_were_never_paid_hold_no_captured_money()
    check_payment_and_refund_amounts_are_positive_integers()
    check_every_order_has_history_from_its_creation()
    check_invoices_are_dated_when_their_orders_were_paid()
    check_each_orders_history_runs_forward_from_its_creation()
    check_the_webhook_log_holds_what_the_sandbox_delivered()
    check_pending_orders_are_not_long_expired_and_expired_ones_expired_on_time()
    check_nothing_is_stamped_in_the_future()
    check_the_expiry_job_expires_exactly_the_overdue_order()
    check_the_marketplace_shows_every_state_of_a_checkout_and_a_vendor_order()
    check_each_checkouts_history_runs_forward_and_ends_before_now()


def check_the_marketplace_shows_every_state_of_a_checkout_and_a_vendor_order():
    from portal.demo import marketplace
    from portal.orders.models import LineType
    from portal.vendors.models import Vendor

    vendors = {v.name: v for v in db.session.scalars(select(Vendor))}
    assert {v.auto_approve for v in vendors.values()} == {True, False} and all(v.brand_colour for v in vendors.values())
    kinds = set(db.session.scalars(select(Product.kind).where(Product.vendor_id.is_not(None))))
    assert kinds == {"course", "good", "rental", "service"}
    checkouts = db.session.scalars(select(Checkout)).all()
    assert {c.status for c in checkouts} == {"paid", "expired"}
    assert any(len({o.vendor_id for o in c.orders}) == 2 for c in checkouts)  # one payment, two vendors' orders
    expired = [c for c in checkouts if c.status == "expired"]
    assert expired and all(r.status == "released" for c in expired for r in c.reservations) and not expired[0].orders
    orders = [o for c in checkouts for o in c.orders]
    states = {o.fulfilment_status for o in orders}
    assert {"awaiting_vendor", "shipped", "delivered", "unfulfilled"} <= states
    shipped = next(o for o in orders if o.fulfilment_status == "shipped")
    assert shipped.carrier and shipped.tracking_number
    rental = [o for o in orders if any(i.line_type == LineType.RENTAL for i in o.items)]
    assert rental and any(i.line_type == LineType.DEPOSIT for i in rental[0].items)
    series = {o.invoice.number.split("/")[0] for o in orders if o.invoice}
    assert series == {vendors[marketplace.LOOM].invoice_prefix, vendors[marketplace.TRAIL].invoice_prefix}


def check_each_checkouts_history_runs_forward_and_ends_before_now():
    now = utcnow()
    for checkout in db.session.scalars(select(Checkout)):
        rows = db.session.scalars(
            select(HistoryEvent.created_at)
            .where(HistoryEvent.entity_type == "checkout", HistoryEvent.entity_id == checkout.id)
            .order_by(HistoryEvent.id)
        ).all()
        assert rows == sorted(rows) and checkout.created_at <= rows[0] and rows[-1] <= now, checkout.number
        assert all(checkout.created_at <= o.created_at <= now for o in checkout.orders), checkout.number


def test_the_printed_demo_logins_work(seeded):
    assert f"{ORDERS} orders" in seeded.output
    assert "admin@demo.test" in seeded.output and demo.DEMO_PASSWORD in seeded.output
    for email, role in demo.DEMO_STAFF:
        assert authenticate(email, demo.DEMO_PASSWORD, staff=True).role == role
    assert authenticate(demo.DEMO_CUSTOMER, demo.DEMO_PASSWORD, staff=False).is_customer
    vendor_email, vendor_name = demo.marketplace.VENDOR_USER
    assert f"vendor {vendor_email} ({vendor_name})" in seeded.output
    vendor_user = authenticate(vendor_email, demo.DEMO_PASSWORD, staff=True)
    assert vendor_user.is_vendor and vendor_user.vendor.name == vendor_name


SINGLE = Order.checkout_id.is_(None)  # the single-order stories; the marketplace's come from checkouts


def check_orders_cover_every_status_even_in_a_small_seed():
    statuses = Counter(db.session.scalars(select(Order.status).where(SINGLE)))
    assert sum(statuses.values()) == ORDERS
    assert set(statuses) == set(OrderStatus)
    late = db.session.scalars(select(Refund).where(Refund.reason == "late_payment")).all()
    assert late and all(r.order.status == "cancelled" and r.status == "processed" for r in late)  # auto-refunded
    waiting = db.session.scalars(select(Payment).where(Payment.status == "authorized")).all()
    assert waiting and all(p.order.capture_mode == CaptureMode.MANUAL for p in waiting)  # left for Capture


def check_every_paid_order_has_a_captured_payment_of_its_total():
    paid_like = ("paid", "partially_refunded", "refunded")
    for order in db.session.scalars(select(Order).where(Order.status.in_(paid_like))):
        captured = [p for p in order.payments if p.status in ("captured", "partially_refunded", "refunded")]
        assert len(captured) == 1, order.number
        share = sum(a.amount for a in order.allocations if a.payment_id == captured[0].id)
        assert share == order.total, order.number  # a checkout's payment pays each vendor order its share
        assert order.paid_at is not None


def check_refunded_totals_match_order_status():
    for order in db.session.scalars(select(Order)):
        refunded = sum(r.amount for r in order.refunds if r.status == "processed")
        if order.status == "refunded":
            assert refunded == order.total, order.number
        elif order.status == "partially_refunded":
            assert 0 < refunded < order.total, order.number
        else:
            late = all(r.reason == "late_payment" for r in order.refunds)
            assert refunded == 0 or (late and order.status == "cancelled"), order.number


def check_orders_that_were_never_paid_hold_no_captured_money():
    for order in db.session.scalars(select(Order).where(Order.status.in_(("pending", "failed", "expired")))):
        assert not [p for p in order.payments if p.status == "captured"], order.number


def check_payment_and_refund_amounts_are_positive_integers():
    assert db.session.scalar(select(func.count()).select_from(Payment).where(Payment.amount <= 0)) == 0
    assert db.session.scalar(select(func.count()).select_from(Refund).where(Refund.amount <= 0)) == 0


def check_every_order_has_history_from_its_creation():
    created = db.session.scalar(
        select(func.count())
        .select_from(HistoryEvent)
        .where(HistoryEvent.entity_type == "order", HistoryEvent.action == "create")
    )
    assert created == db.session.scalar(select(func.count(Order.id)))


def check_invoices_are_dated_when_their_orders_were_paid():
    invoices = db.session.scalars(select(Invoice)).all()
    assert invoices
    for invoice in invoices:
        paid_at = invoice.order.paid_at
        assert paid_at <= invoice.issued_at <= paid_at + timedelta(minutes=5), invoice.number
    assert len({i.issued_at.date() for i in invoices}) > 5  # spread over the weeks, not all issued today


def check_each_orders_history_runs_forward_from_its_creation():
    for order in db.session.scalars(select(Order)):
        rows = db.session.scalars(
            select(HistoryEvent)
            .where(HistoryEvent.entity_type == "order", HistoryEvent.entity_id == order.id)
            .order_by(HistoryEvent.id)
        ).all()
        stamps = [row.created_at for row in rows]
        assert stamps == sorted(stamps), order.number
        assert order.created_at <= stamps[0] <= order.created_at + timedelta(seconds=1), order.number
        assert order.updated_at >= stamps[-1] - timedelta(seconds=1), order.number
        started = order.checkout.created_at if order.checkout else order.created_at
        for payment in order.payments:
            assert started <= payment.created_at, order.number
            assert payment.captured_at is None or payment.authorized_at <= payment.captured_at, order.number
        for refund in order.refunds:
            assert refund.created_at >= (order.paid_at or refund.payment.created_at), order.number
            assert refund.processed_at is None or refund.processed_at >= refund.created_at, order.number


def check_the_webhook_log_holds_what_the_sandbox_delivered():
    events = db.session.scalars(select(WebhookEvent)).all()
    assert {"payment.authorized", "payment.captured", "payment.failed", "order.paid"} <= {e.event_type for e in events}
    assert {"refund.processed"} <= {e.event_type for e in events}
    assert all(e.status == "processed" for e in events), Counter((e.event_type, e.status) for e in events)
    for event in events:
        if event.order_id is None:  # a checkout's payment before its orders existed (a failed attempt)
            checkout = db.session.scalar(select(Checkout).where(Checkout.gateway_order_id == event.gateway_order_id))
            assert checkout is not None and checkout.created_at <= event.received_at <= utcnow(), event.event_id
            continue
        order = db.session.get(Order, event.order_id)
        started = order.checkout.created_at if order.checkout else order.created_at  # a checkout's come early
        assert started <= event.received_at <= utcnow(), event.event_id


def check_pending_orders_are_not_long_expired_and_expired_ones_expired_on_time():
    """The demo's timeline ends now: one pending order's window ran out within the last minutes (the job
    worker expires it by itself under `make run`); every other pending order is still payable."""
    now = utcnow()
    pending = db.session.scalars(select(Order).where(Order.status == "pending")).all()
    overdue = [o for o in pending if o.expires_at <= now]
    assert len(overdue) == 1, [(o.number, o.expires_at) for o in overdue]
    assert now - timedelta(minutes=15) < overdue[0].expires_at, overdue[0].expires_at  # just run out, not long ago
    assert len(pending) > len(overdue)
    for order in db.session.scalars(select(Order).where(Order.status == "expired")):
        expired = db.session.scalar(
            select(HistoryEvent.created_at).where(
                HistoryEvent.entity_type == "order",
                HistoryEvent.entity_id == order.id,
                HistoryEvent.to_state == "expired",
            )
        )
        assert order.expires_at <= expired <= order.expires_at + timedelta(hours=1), order.number


def check_nothing_is_stamped_in_the_future():
    now = utcnow()
    for model, column in (
        (Order, Order.created_at),
        (Order, Order.updated_at),
        (HistoryEvent, HistoryEvent.created_at),
        (Invoice, Invoice.issued_at),
        (WebhookEvent, WebhookEvent.received_at),
        (Payment, Payment.created_at),
        (Refund, Refund.created_at),
    ):
        assert db.session.scalar(select(func.max(column))) <= now, (model.__name__, column)


def check_the_expiry_job_expires_exactly_the_overdue_order():
    """What the worker's expire_unpaid_orders schedule does a minute after `make run` seeds."""
    (number,) = demo.overdue_orders()
    summary = expire_overdue_orders()
    db.session.expire_all()
    assert db.session.scalar(select(Order.status).where(Order.number == number)) == "expired"
    assert demo.overdue_orders() == [] and summary is not None
    assert db.session.scalar(select(func.count()).select_from(Order).where(Order.status == "pending")) > 0


def test_the_seed_names_the_overdue_order(seeded):
    (number,) = demo.overdue_orders()
    assert f"order {number} is unpaid past its payment window" in seeded.output


def test_reconcile_finds_the_seeded_gateway_and_books_in_agreement(seeded, runner):
    result = runner.invoke(args=["payments", "reconcile", "--dry-run", "--since", "90d"])

    assert result.exit_code == 0, result.output
    assert f"checked {ORDERS} order(s): 0 drifted, would repair 0 record(s), 0 failed" in result.output


def test_gateway_actions_work_on_seeded_orders(seeded, sandbox):
    finance = Actor.user(db.session.scalar(select(User).where(User.email == "finance@demo.test")))
    waiting = db.session.scalar(select(Payment).where(Payment.status == "authorized"))
    paid = db.session.scalar(select(Payment).join(Order).where(Order.status == "paid", Payment.status == "captured"))

    captured = capture_payment(waiting.id, actor=finance)
    refund = create_refund(paid.id, amount=None, reason="requested_by_customer", actor=finance)
    sandbox.deliver()

    assert captured.status == "captured" and captured.order.status == "paid"
    assert sandbox.payment(captured.gateway_payment_id)["status"] == "captured"
    assert refund.status == "processed" and sandbox.refund(refund.gateway_refund_id)["status"] == "processed"
    for order_id in db.session.scalars(select(Order.id).where(Order.gateway_order_id.is_not(None))):
        report = sync_order(order_id, actor=finance)
        assert report.in_sync, report.lines()


def test_a_second_run_changes_nothing(seeded, runner):
    counts = _counts()
    again = runner.invoke(args=["demo", "seed", "--customers", "8", "--orders", str(ORDERS)])
    assert again.exit_code == 0, again.output
    assert "nothing changed" in again.output
    assert _counts() == counts


def _counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (User, Order, Payment, Refund))


def test_make_run_prints_the_real_demo_login():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert f"admin@demo.test / {demo.DEMO_PASSWORD}" in makefile


def test_seed_works_beside_a_catalogue_someone_already_started(runner, make):
    make.product(sku="MY-1", title="Our own course")
    result = runner.invoke(args=["demo", "seed", "--customers", "3", "--orders", "12"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert db.session.scalar(select(func.count()).select_from(Order).where(SINGLE)) == 12
    skus = set(db.session.scalars(select(Product.sku)))
    assert "MY-1" in skus and {sku for sku, *_ in demo.COURSES + demo.GOODS} <= skus


def test_seed_refuses_a_real_gateway_and_writes_nothing(tmp_path):
    from portal import create_app
    from portal.config import TestingConfig

    app = create_app(
        TestingConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'real.sqlite'}", PAYMENT_GATEWAY="razorpay"
    )
    with app.app_context():
        db.create_all()
        result = app.test_cli_runner().invoke(args=["demo", "seed", "--orders", "3"])
        assert result.exit_code != 0 and "needs PAYMENT_GATEWAY=sandbox" in result.output
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        db.engine.dispose()
