"""Helpers for the invoice tests: paid orders with chosen buyers and lines, and PDF text."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from portal.history.services import Actor
from portal.orders.services import place_order
from portal.payments.services import apply_gateway_payment


@pytest.fixture
def no_auto_invoice(app, monkeypatch):
    """Paid orders stay without an invoice, so a test can issue it itself."""
    monkeypatch.setitem(app.config, "AUTO_INVOICE", False)


@pytest.fixture
def buyer(make):
    """A registered business buyer in Karnataka (the demo seller's state)."""

    def _buyer(state: str = "Karnataka", gstin: str | None = "29AAACB1234C1Z5", **fields):
        return make.customer(
            name=fields.pop("name", "Bharat Tools Pvt Ltd"),
            billing_address=fields.pop("billing_address", "4 Residency Road, Bengaluru 560025"),
            billing_state=state,
            gstin=gstin,
            **fields,
        )

    return _buyer


@pytest.fixture
def paid(make, buyer):
    """`paid(state=..., prices=[(price, qty, rate_bp), ...])` → a paid order (auto-invoiced unless disabled)."""

    def _paid(state: str = "Karnataka", prices=((100000, 1, 1800),), customer=None, **buyer_fields):
        customer = customer or buyer(state=state, **buyer_fields)
        products = [make.product(price=price, tax_rate_bp=rate, title=f"Course {i + 1}") for i, (price, _q, rate) in
                    enumerate(prices)]  # fmt: skip
        items = [{"product_id": p.id, "quantity": q} for p, (_, q, _r) in zip(products, prices, strict=True)]
        order = place_order(customer, items, gateway_order_id=f"order_M{products[0].id:013d}")
        outcome = apply_gateway_payment(make.payment_entity(order), actor=Actor.gateway())
        return outcome.order

    return _paid


def pdf_text(data: bytes) -> str:
    """All the text pypdf extracts from a PDF (what an accountant's tools read)."""
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)
