"""A vendor's figures: revenue is its orders' captured allocations minus their processed refunds."""

from sqlalchemy import update

from portal.extensions import db
from portal.history.services import Actor
from portal.orders.models import Order
from portal.orders.services import place_order
from portal.orders.status import FulfilmentStatus
from portal.payments.services import apply_gateway_payment
from portal.refunds.settlement import apply_gateway_refund
from portal.vendors.queries import figures
from portal.vendors.services import create_vendor


def _paid(make, vendor_id, price):
    product = make.product(price=price, vendor_id=vendor_id)
    items = [{"product_id": product.id, "quantity": 1}]
    order = place_order(make.customer(), items, gateway_order_id=f"order_F{product.id:013d}", vendor_id=vendor_id)
    return apply_gateway_payment(make.payment_entity(order), actor=Actor.gateway()).order


def test_revenue_is_paid_minus_refunded_and_pending_approvals_are_counted(make, sandbox):
    vendor = create_vendor(name="Lens Hire", actor=Actor.system("test"))
    first, second = _paid(make, vendor.id, 100000), _paid(make, vendor.id, 50000)
    _paid(make, None, 70000)  # the house's: not the vendor's revenue
    make.order(products=[make.product(vendor_id=vendor.id)], vendor_id=vendor.id)  # unpaid: no revenue
    payment = first.payments[0]
    entity = {"id": f"rfnd_F{payment.id:010d}", "entity": "refund", "amount": 20000, "currency": "INR",
              "payment_id": payment.gateway_payment_id, "status": "processed"}  # fmt: skip
    apply_gateway_refund(entity, actor=Actor.gateway())
    # Setting up a waiting order directly: the approval flow itself is the fulfilment stream's.
    db.session.execute(
        update(Order).where(Order.id == second.id).values(fulfilment_status=FulfilmentStatus.AWAITING_VENDOR)
    )
    db.session.commit()
    shown = figures(vendor.id)
    assert shown["paid"] == {"INR": 118000 + 59000}
    assert shown["refunded"] == {"INR": 20000}
    assert shown["revenue"] == {"INR": 118000 + 59000 - 20000}
    assert (shown["orders"], shown["pending_approvals"]) == (3, 1)
