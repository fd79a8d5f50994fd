"""Import every model so that metadata (and Alembic) sees the whole schema."""

from portal.auth.models import ApiToken, Role, User
from portal.catalog.models import Product, ProductKind
from portal.history.models import HistoryEvent
from portal.invoices.models import CreditNote, DocumentSequence, Invoice
from portal.jobs.models import JobRun
from portal.notifications.models import OutboxMessage
from portal.orders.models import Order, OrderItem
from portal.payments.models import Dispute, Payment
from portal.refunds.models import Refund
from portal.webhooks.models import WebhookEvent, WebhookRejection

__all__ = [
    "ApiToken",
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
    "Product",
    "ProductKind",
    "Refund",
    "Role",
    "User",
    "WebhookEvent",
    "WebhookRejection",
]
