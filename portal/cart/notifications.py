"""The checkout's one message kind: `checkout_refunded`, queued (in the checkout's own transaction) when money
arrived for a checkout whose orders could not be created, and was refunded in full."""

from __future__ import annotations

from portal.notifications.catalogue import customer_context
from portal.notifications.kinds import Kind, register
from portal.notifications.models import Audience

CHECKOUT_REFUNDED = register(
    Kind(
        "checkout_refunded",
        Audience.CUSTOMER,
        True,  # a record of money: always sent
        "Checkout refunded (its orders could not be created)",
        context=customer_context,
    )
)
