"""The links customers follow from messages: unsubscribe (confirm, CSRF, bad tokens) and pay (the gateway's link)."""

from __future__ import annotations

from sqlalchemy import select

from portal.auth.models import User
from portal.extensions import db
from portal.gateway import get_gateway
from portal.history.services import Actor
from portal.notifications.catalogue import pay_token
from portal.notifications.models import OutboxMessage
from portal.notifications.preferences import unsubscribe_token, unsubscribe_url, wants_updates
from portal.orders.services import advance_fulfilment, cancel_order
from tests.helpers import extract_csrf


def opted_out(user_id: int) -> bool:
    db.session.expire_all()
    return not wants_updates(db.session.get(User, user_id))


def test_the_unsubscribe_link_asks_first_then_applies_with_csrf(client, make):
    customer = make.customer()
    path = unsubscribe_url(customer).removeprefix(client.application.config["PUBLIC_BASE_URL"])
    page = client.get(path)
    assert page.status_code == 200 and customer.email in page.get_data(as_text=True)
    assert not opted_out(customer.id)  # a mail scanner following the link changes nothing
    done = client.post(path, data={"csrf_token": extract_csrf(page.get_data(as_text=True))})
    assert done.status_code == 200 and "no longer receive" in done.get_data(as_text=True)
    assert opted_out(customer.id)
    again = client.post(path, data={"csrf_token": extract_csrf(client.get(path).get_data(as_text=True))})
    assert again.status_code == 200 and opted_out(customer.id)


def test_an_unsubscribe_post_without_the_csrf_token_is_refused(client, make):
    customer = make.customer()
    response = client.post(f"/notifications/unsubscribe/{unsubscribe_token(customer)}")
    assert response.status_code == 400
    assert not opted_out(customer.id)


def test_bad_unsubscribe_tokens_answer_400_never_500(client, make):
    customer = make.customer()
    good = unsubscribe_token(customer)
    for token in ("nonsense", good[:-3] + "abc", "eyJ1IjoiMSJ9.xx", "%00", "a" * 3000):
        assert client.get(f"/notifications/unsubscribe/{token}").status_code in (400, 404), token
    page = client.get(f"/notifications/unsubscribe/{good}")
    response = client.post(
        "/notifications/unsubscribe/nonsense", data={"csrf_token": extract_csrf(page.get_data(as_text=True))}
    )
    assert response.status_code == 400 and "not valid" in response.get_data(as_text=True)


def test_a_link_stops_working_once_the_address_changes(client, make):
    customer = make.customer()
    token = unsubscribe_token(customer)
    customer.email = "new-address@example.test"
    db.session.commit()
    assert client.get(f"/notifications/unsubscribe/{token}").status_code == 400


def test_opting_out_stops_updates_and_reminders_but_not_transactional_messages(client, make):
    from portal.notifications.preferences import set_updates

    customer = make.customer()
    set_updates(customer.id, False)
    goods = make.product(kind="good")
    order, _ = make.paid_order(customer_user=customer, products=[goods])
    for step in ("processing", "shipped", "delivered"):
        tracking = {"carrier": "BlueDart", "tracking_number": "AWB1"} if step == "shipped" else {}
        advance_fulfilment(order.id, step, actor=Actor.system("test"), **tracking)
    unpaid = make.order(customer_user=customer)
    from portal.payments.services import apply_gateway_payment

    apply_gateway_payment(make.payment_entity(unpaid, "failed"), actor=Actor.gateway())
    cancel_order(unpaid.id, actor=Actor.system("test"))
    kinds = sorted(db.session.scalars(select(OutboxMessage.kind).where(OutboxMessage.customer_id == customer.id)))
    assert kinds == ["order_cancelled", "order_placed", "order_placed", "payment_received"]
    set_updates(customer.id, True)
    assert not opted_out(customer.id)


def test_the_pay_link_opens_the_orders_payment_link_at_the_gateway(client, sandbox, make):
    order = make.order()
    gateway_order = get_gateway().create_order(amount=order.total, currency="INR", receipt=order.number, notes={})
    order.gateway_order_id = gateway_order["id"]
    db.session.commit()
    response = client.get(f"/notifications/pay/{pay_token(order.id)}")
    assert response.status_code == 303
    db.session.expire_all()
    order = db.session.get(type(order), order.id)
    assert order.payment_link_id and response.headers["Location"] == order.payment_link_url
    again = client.get(f"/notifications/pay/{pay_token(order.id)}")  # the open link is reused
    assert again.headers["Location"] == response.headers["Location"]


def test_the_pay_link_of_a_paid_order_says_so_and_bad_tokens_are_400(client, make):
    order, _ = make.paid_order()
    page = client.get(f"/notifications/pay/{pay_token(order.id)}")
    assert page.status_code == 200 and "already paid" in page.get_data(as_text=True)
    assert client.get("/notifications/pay/nonsense").status_code == 400
    assert client.get("/notifications/pay/" + pay_token(order.id)[:-2] + "zz").status_code == 400


def test_the_pay_link_answers_503_when_the_gateway_is_down(client, sandbox, make):
    order = make.order()
    sandbox.set_faults(down=True)
    response = client.get(f"/notifications/pay/{pay_token(order.id)}")
    assert response.status_code == 503 and "try the link again" in response.get_data(as_text=True)
