"""A vendor's orders are invoiced in its name (legal name, address, GSTIN, state) and its own number series;
the house's series is unchanged, and the CGST/SGST vs IGST split uses the vendor's state as the seller's."""

import pytest
from sqlalchemy import select

from portal.history.services import Actor
from portal.invoices.models import CreditNote, Invoice
from portal.invoices.services import pdf_bytes
from portal.orders.services import place_order
from portal.payments.services import apply_gateway_payment
from portal.refunds.settlement import apply_gateway_refund
from portal.vendors.services import create_vendor, set_logo
from tests.invoices.conftest import pdf_text

PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2217bc50000000049454e44ae426082"
)


@pytest.fixture
def vendors():
    system = Actor.system("test")
    lens = create_vendor(name="Lens Hire", legal_name="Lens Hire LLP", gstin="27AAPFU0939F1ZV",
                         state="Maharashtra", address="7 Linking Road, Mumbai", invoice_prefix="LH",
                         brand_colour="#1a7f5a", actor=system)  # fmt: skip
    books = create_vendor(name="Kannada Books", legal_name="Kannada Books Pvt Ltd", state="Karnataka",
                          invoice_prefix="KB", actor=system)  # fmt: skip
    return lens, books


@pytest.fixture
def vendor_paid(make, buyer):
    """A paid order of `vendor` (None: the house) for a Karnataka buyer; auto-invoiced."""

    def _paid(vendor, price=100000):
        product = make.product(price=price, vendor_id=vendor.id if vendor else None)
        items = [{"product_id": product.id, "quantity": 1}]
        vendor_id = vendor.id if vendor else None
        order = place_order(buyer(), items, gateway_order_id=f"order_V{product.id:013d}", vendor_id=vendor_id)
        return apply_gateway_payment(make.payment_entity(order), actor=Actor.gateway()).order

    return _paid


def test_two_vendors_orders_are_numbered_in_two_gap_free_series_and_the_house_keeps_its_own(vendors, vendor_paid):
    lens, books = vendors
    orders = [vendor_paid(lens), vendor_paid(books), vendor_paid(lens), vendor_paid(None), vendor_paid(books)]
    numbers = [o.invoice.number.split("/")[0] + "/" + o.invoice.number.split("/")[2] for o in orders]
    assert numbers == ["LH/00001", "KB/00001", "LH/00002", "INV/00001", "KB/00002"]
    assert [o.invoice.series for o in orders] == [f"invoice:{lens.id}", f"invoice:{books.id}",
                                                  f"invoice:{lens.id}", "invoice", f"invoice:{books.id}"]  # fmt: skip


def test_the_vendor_is_the_seller_and_its_state_decides_the_tax_split(vendors, vendor_paid):
    lens, books = vendors
    across = vendor_paid(lens).invoice  # Maharashtra → a Karnataka buyer: IGST
    within = vendor_paid(books).invoice  # Karnataka → Karnataka: CGST + SGST
    assert across.seller["name"] == "Lens Hire LLP" and across.seller["gstin"] == "27AAPFU0939F1ZV"
    assert across.seller["state"] == "Maharashtra"
    assert across.igst == 18000 and across.cgst == across.sgst == 0
    assert within.igst == 0 and within.cgst + within.sgst == 18000


def test_a_vendors_credit_note_is_numbered_in_the_vendors_credit_series(vendors, vendor_paid, db):
    lens, _ = vendors
    order = vendor_paid(lens)
    payment = order.payments[0]
    entity = {"id": f"rfnd_V{payment.id:010d}", "entity": "refund", "amount": 5000, "currency": "INR",
              "payment_id": payment.gateway_payment_id, "status": "processed"}  # fmt: skip
    apply_gateway_refund(entity, actor=Actor.gateway())
    note = db.session.scalar(select(CreditNote))
    assert note.number.startswith("LHC/") and note.number.endswith("/00001") and note.series == f"credit_note:{lens.id}"


def test_the_pdf_carries_the_vendors_name_and_renders_with_its_logo(vendors, vendor_paid, db):
    lens, _ = vendors
    set_logo(lens.id, PNG_1PX, actor=Actor.system("test"))
    invoice = vendor_paid(lens).invoice
    _, data, _ = pdf_bytes(invoice.id)
    text = pdf_text(data)
    assert "Lens Hire LLP" in text and "27AAPFU0939F1ZV" in text and "Trading as Lens Hire" in text
    assert db.session.scalar(select(Invoice.number).where(Invoice.id == invoice.id)) in text


def test_concurrent_issues_for_two_vendors_keep_each_series_gap_free(
    postgres, vendors, vendor_paid, no_auto_invoice, jobs_wait_for_a_worker, db
):
    import itertools

    from portal.invoices.services import issue_invoice
    from tests.helpers import run_together

    lens, books = vendors
    order_ids = [vendor_paid(v).id for v in (lens, books) * 6]
    next_id = itertools.count().__next__  # atomic under the GIL: each thread takes its own order

    results = run_together(postgres, lambda: issue_invoice(order_ids[next_id()], actor=Actor.system("race")).id, 12)
    assert not [r for r in results if isinstance(r, Exception)]
    db.session.expire_all()
    for vendor in vendors:
        numbers = db.session.scalars(
            select(Invoice.sequence_no).where(Invoice.series == f"invoice:{vendor.id}").order_by(Invoice.sequence_no)
        ).all()
        assert numbers == [1, 2, 3, 4, 5, 6]
