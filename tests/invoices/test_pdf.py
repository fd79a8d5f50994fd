"""The PDFs themselves, opened with pypdf: what the customer's accountant will read."""

import re

import pytest

from portal.history.services import Actor
from portal.invoices import services
from portal.invoices.credit_notes import credit_note_pdf, issue_credit_note
from portal.invoices.documents import render_invoice
from portal.invoices.figures import amount_in_words
from portal.invoices.pdf import PdfUnavailable, font_dir, render_pdf
from portal.money import format_money
from tests.invoices.conftest import pdf_text

FINANCE = Actor("user", "finance@staff.test")
LINES = ((149900, 2, 1800), (50050, 1, 1200), (999, 3, 500))


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_invoice_pdf_shows_number_gstins_each_line_and_totals(paid):
    order = paid(prices=LINES)
    invoice = order.invoice
    text = flat(pdf_text(services.pdf_bytes(invoice.id)[1]))
    assert "Tax Invoice" in text
    assert invoice.number in text and order.number in text
    assert "29ABCDE1234F1Z5" in text and "29AAACB1234C1Z5" in text  # seller's and buyer's GSTIN
    assert invoice.payment_reference in text
    for item in order.items:
        assert item.title in text and item.hsn_sac in text
        line = f"{item.quantity} {format_money(item.unit_price)} {format_money(item.taxable_amount)}"
        assert line in text
        assert format_money(item.taxable_amount + item.tax_amount) in text
    assert "CGST" in text and "SGST" in text and "IGST" not in text
    assert f"Total taxable value {format_money(invoice.subtotal)}" in text
    assert f"CGST {format_money(invoice.cgst)}" in text and f"SGST {format_money(invoice.sgst)}" in text
    assert f"Total {format_money(order.total)}" in text
    assert amount_in_words(order.total) in text


def test_the_rupee_sign_is_real_text_not_a_missing_glyph(paid):
    text = pdf_text(services.pdf_bytes(paid().invoice.id)[1])
    assert "₹" in text and "■" not in text


def test_inter_state_invoice_prints_igst_and_an_unregistered_buyer(paid):
    invoice = paid(state="Maharashtra", gstin=None).invoice
    text = flat(pdf_text(services.pdf_bytes(invoice.id)[1]))
    assert f"IGST {format_money(invoice.igst)}" in text and "CGST" not in text
    assert "Unregistered" in text and "Place of supply: Maharashtra" in text


def test_edited_billing_details_appear_after_regeneration(paid):
    invoice = paid().invoice
    services.pdf_bytes(invoice.id)
    services.edit_billing(invoice.id, dict(invoice.buyer, name="Renamed Buyer LLP"), actor=FINANCE)
    assert "Renamed Buyer LLP" not in pdf_text(services.pdf_bytes(invoice.id)[1])
    services.regenerate_pdf(invoice.id, actor=FINANCE)
    assert "Renamed Buyer LLP" in pdf_text(services.pdf_bytes(invoice.id)[1])


def test_void_and_draft_pdfs_say_so(paid, no_auto_invoice):
    order = paid()
    draft = services.create_invoice(order.id, actor=FINANCE, issue=False)
    assert "DRAFT — not a tax invoice" in pdf_text(services.pdf_bytes(draft.id)[1])
    issued = services.issue_draft(draft.id, actor=FINANCE)
    services.void_invoice(issued.id, actor=FINANCE, reason="wrong customer")
    text = pdf_text(services.pdf_bytes(issued.id)[1])
    assert "VOID — wrong customer" in text and issued.number in text


def test_buyer_markup_is_text_not_html(paid):
    invoice = paid(name='<img src="http://169.254.169.254/x"> & Co').invoice
    text = pdf_text(services.pdf_bytes(invoice.id)[1])
    assert '<img src="http://169.254.169.254/x"> & Co' in text


def test_credit_note_pdf_links_the_invoice_and_shows_the_amount(paid, make, db):
    order = paid(state="Kerala", gstin="32AAACB1234C1Z2")
    refund = make_processed_refund(db, order, amount=order.total // 2)
    note = issue_credit_note(refund.id, actor=FINANCE)
    name, data, checksum = credit_note_pdf(note.id)
    text = flat(pdf_text(data))
    assert name == note.number.replace("/", "-") + ".pdf" and len(checksum) == 64
    assert "Credit Note" in text and note.number in text and order.invoice.number in text
    assert f"Total credited {format_money(note.amount)}" in text
    assert f"IGST {format_money(note.tax)}" in text
    assert "32AAACB1234C1Z2" in text and "₹" in text


def test_a_missing_font_is_a_clear_error(app, monkeypatch, tmp_path):
    monkeypatch.setattr("portal.invoices.pdf.SYSTEM_FONT_DIRS", ())
    monkeypatch.setitem(app.config, "INVOICE_FONT_DIR", str(tmp_path))
    monkeypatch.setattr(app, "static_folder", str(tmp_path))
    with pytest.raises(PdfUnavailable, match="fonts-dejavu-core"):
        render_pdf("invoices/pdf/invoice.html")


def test_the_font_comes_from_the_system_package():
    assert (font_dir() / "DejaVuSans.ttf").is_file()


def make_processed_refund(db, order, amount):
    """A refund recorded the way the gateway reports it (the real refunds service)."""
    from portal.refunds.settlement import apply_gateway_refund

    payment = order.payments[0]
    entity = {"id": f"rfnd_T{payment.id:010d}{amount}", "entity": "refund", "amount": amount, "currency": "INR",
              "payment_id": payment.gateway_payment_id, "status": "processed", "created_at": 1767225600}  # fmt: skip
    return apply_gateway_refund(entity, actor=Actor.gateway())


def _header_cells(data: bytes) -> list[tuple[str, float, float]]:
    """(text, left x, right x) of each bold column heading of the line table on page 1, measured with the
    embedded font's own glyph widths (reportlab, which xhtml2pdf draws with)."""
    import io

    from pypdf import PdfReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    with_bold = font_dir() / "DejaVuSans-Bold.ttf"
    pdfmetrics.registerFont(TTFont("h5-bold", str(with_bold)))
    cells = []

    def visit(text, cm, tm, font, size):
        name = str((font or {}).get("/BaseFont", ""))
        if text.strip() and name.endswith("DejaVuSans-Bold") and text.strip() in {"HSN/SAC", "Qty", "Description"}:
            left = tm[4] * cm[0] + cm[4]
            cells.append((text.strip(), left, left + pdfmetrics.stringWidth(text.strip(), "h5-bold", size)))

    PdfReader(io.BytesIO(data)).pages[0].extract_text(visitor_text=visit)
    return cells


def test_line_table_headings_hsn_sac_and_qty_do_not_run_together(paid):
    if not (font_dir() / "DejaVuSans-Bold.ttf").is_file():
        pytest.skip("needs DejaVuSans-Bold.ttf to measure the headings")
    cells = {text: (left, right) for text, left, right in _header_cells(services.pdf_bytes(paid().invoice.id)[1])}
    assert {"Description", "HSN/SAC", "Qty"} <= set(cells)
    gap = cells["Qty"][0] - cells["HSN/SAC"][1]
    assert gap >= 6, f"'HSN/SAC' ends {gap:.1f}pt before 'Qty' starts"


def test_a_render_reads_no_font_file_once_the_fonts_are_registered(paid, monkeypatch):
    """Fonts are parsed once per process; a render only subsets glyphs already in memory (an @font-face made
    every render read and hash both font files again)."""
    import builtins

    invoice = paid().invoice
    render_invoice(invoice)  # registers the fonts in this process, if no earlier test did
    opened, real_open = [], builtins.open

    def recording_open(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", recording_open)
    data = render_invoice(invoice)
    monkeypatch.undo()
    assert [name for name in opened if name.endswith(".ttf")] == []
    assert "₹" in pdf_text(data)


def _layout(data: bytes) -> bytes:
    """The pages' drawing operators, font resource names left out (they number the fonts in order of use)."""
    import io

    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(data)).pages
    return re.sub(rb"/F\d+(\+\d+)?", b"/F", b"".join(page.get_contents().get_data() for page in pages))


@pytest.mark.parametrize("state", ["Karnataka", "Maharashtra"])
def test_the_lean_default_stylesheet_lays_pages_out_as_the_full_default(app, paid, no_auto_invoice, state):
    """LEAN_DEFAULT_CSS keeps the rules of xhtml2pdf's default that our templates use: a template that starts
    using an element it has no rule for fails here instead of changing the invoice's look unnoticed."""
    from flask import render_template
    from xhtml2pdf.default import DEFAULT_CSS

    from portal.invoices.documents import invoice_context
    from portal.invoices.pdf import html_to_pdf, register_fonts

    order = paid(state=state, prices=LINES)
    draft = services.create_invoice(order.id, actor=FINANCE, issue=False)  # the DRAFT stamp is drawn too
    directory = font_dir()
    html = render_template("invoices/pdf/invoice.html", font_family=register_fonts(directory), **invoice_context(draft))
    lean, full = html_to_pdf(html, directory), html_to_pdf(html, directory, default_css=DEFAULT_CSS)
    assert _layout(lean) == _layout(full)


def _money_cells(data: bytes) -> list[tuple[str, float, float, float]]:
    """(text, left x, right x, y) of each amount (₹…) drawn on page 1 in the regular face."""
    import io

    from pypdf import PdfReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont("h4-regular", str(font_dir() / "DejaVuSans.ttf")))
    cells = []

    def visit(text, cm, tm, font, size):
        name = str((font or {}).get("/BaseFont", ""))
        if text.strip().startswith("₹") and name.endswith("DejaVuSans"):
            left, y = tm[4] * cm[0] + cm[4], tm[5] * cm[3] + cm[5]
            cells.append((text.strip(), left, left + pdfmetrics.stringWidth(text.strip(), "h4-regular", size), y))

    PdfReader(io.BytesIO(data)).pages[0].extract_text(visitor_text=visit)
    return cells


def test_line_amounts_are_right_aligned_in_their_columns(paid):
    """The line cells are aligned by attribute (one cascade per row instead of three, docs/performance.md):
    amounts of different widths in one column end at the same x."""
    data = services.pdf_bytes(paid(prices=LINES).invoice.id)[1]
    rows: dict[float, list] = {}
    for text, left, right, y in _money_cells(data):
        rows.setdefault(round(y, 1), []).append((left, right, text))
    lines = [sorted(cells) for cells in rows.values() if len(cells) == 5]  # unit price, taxable, CGST, SGST, total
    assert len(lines) == len(LINES)
    for column in range(5):
        cells = [row[column] for row in lines]
        assert len({round(left, 1) for left, _, _ in cells}) == len(LINES), cells  # different widths...
        assert len({round(right, 1) for _, right, _ in cells}) == 1, cells  # ...ending at one x


def test_warm_up_freezes_the_start_up_heap_out_of_the_garbage_collector(app):
    """Bulk workers call warm_up at start: the objects they hold by then are no longer walked by every full
    collection a render triggers (~15% of a 100-line render, docs/performance.md)."""
    import gc

    from portal.invoices.pdf import warm_up

    gc.unfreeze()  # whatever an earlier test froze goes back to the collector
    try:
        warm_up()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
