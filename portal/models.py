"""Import every model so that metadata (and Alembic) sees the whole schema."""

from portal.auth.models import ApiToken, Role, User
from portal.cart.models import Cart, CartLine, Checkout
from portal.catalog.models import Product, ProductKind, ProductOption
from portal.history.models import HistoryEvent
from portal.invoices.models import CreditNote, DocumentSequence, Invoice
from portal.jobs.models import JobRun
from portal.notifications.models import OutboxMessage
from portal.orders.models import Order, OrderItem
from portal.payments.models import Dispute, Payment, PaymentAllocation
from portal.refunds.models import Refund
from portal.stock.models import Reservation, ReservationStatus
from portal.vendors.models import Vendor
from portal.webhooks.models import WebhookEvent, WebhookRejection

__all__ = [
    "ApiToken",
    "Cart",
    "CartLine",
    "Checkout",
    "CreditNote",
    "Dispute",
    "DocumentSequence",
    "HistoryEvent",
    "Invoice",
    "JobRun",
    "Order",
    "OrderItem",
    "OutboxMessage",
    "Payment",
    "PaymentAllocation",
    "Product",
    "ProductKind",
    "ProductOption",
    "Refund",
    "Reservation",
    "ReservationStatus",
    "Role",
    "User",
    "Vendor",
    "WebhookEvent",
    "WebhookRejection",
]
