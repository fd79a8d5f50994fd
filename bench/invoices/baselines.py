"""The two yardsticks the invoice PDF is measured against, drawing the same content as the product.

- `plain_xhtml2pdf`: what anyone gets from xhtml2pdf with default settings — a minimal HTML page with the same
  header, party blocks, line table (same columns, same cell text, header repeated on every page) and totals; no
  stylesheet, no embedded font (so ₹ prints as a missing glyph: that page would not be acceptable, it only
  shows what the library costs out of the box).
- `reportlab_floor`: the same content laid out directly with ReportLab's platypus (which xhtml2pdf drives), in
  DejaVu Sans: a Paragraph where text may wrap (description), plain strings in the other cells. No HTML, no CSS:
  the floor under any HTML-to-PDF route through ReportLab.
"""

from __future__ import annotations

import functools
import io
import logging
from html import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from xhtml2pdf import pisa

HEADINGS = ["#", "Description", "HSN/SAC", "Qty", "Unit price", "Taxable value", "Tax rate", "CGST", "SGST", "Amount"]
WIDTHS = [4, 22, 11, 6, 11, 11, 7, 9, 9, 10]  # percent, as in templates/invoices/pdf/invoice.html


def rows(context: dict, money) -> list[list[str]]:
    """The line table's cells as text, from the product's own render context."""
    currency = context["currency"]
    return [
        [str(i), line.description, line.hsn_sac, str(line.quantity), money(line.unit_price, currency),
         money(line.taxable, currency), context["rate"](line.rate_bp), money(line.split.cgst, currency),
         money(line.split.sgst, currency), money(line.total, currency)]
        for i, line in enumerate(context["figures"].lines, 1)
    ]  # fmt: skip


def _parties(context: dict) -> tuple[str, str]:
    seller, buyer = context["seller"], context["buyer"]
    return (
        f"Seller<br/><b>{escape(seller['name'])}</b><br/>{escape(seller['address'])}<br/>State: {seller['state']}"
        f"<br/>GSTIN: {seller['gstin']}",
        f"Bill to<br/><b>{escape(buyer['name'])}</b><br/>{escape(buyer['address'])}<br/>State: {buyer['state']}"
        f"<br/>GSTIN: {buyer['gstin']}",
    )


def plain_html(context: dict, cells: list[list[str]], totals: list[tuple[str, str]]) -> str:
    seller, buyer = _parties(context)
    head = "".join(f"<th>{h}</th>" for h in HEADINGS)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in cells)
    sums = "".join(f"<tr><td></td><td>{label}</td><td>{value}</td></tr>" for label, value in totals)
    return (
        f"<html><body><h1>Tax Invoice</h1><p>Invoice no.: {context['number']}<br/>Date: {context['document_date']}"
        f"<br/>Order: {context['order_number']}</p><table><tr><td>{seller}</td><td>{buyer}</td></tr></table>"
        f"<p>Place of supply: {context['place_of_supply']}</p><table repeat='1'><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table><table>{sums}</table><p>Amount in words: {context['words']}</p>"
        "</body></html>"
    )


def plain_xhtml2pdf(html: str) -> bytes:
    out = io.BytesIO()
    logging.getLogger("xhtml2pdf").setLevel(logging.ERROR)  # it warns, rightly, that ₹ has no glyph
    pisa.CreatePDF(html, dest=out)
    return out.getvalue()


@functools.cache
def _font(directory: str) -> str:
    pdfmetrics.registerFont(TTFont("FloorSans", f"{directory}/DejaVuSans.ttf"))
    pdfmetrics.registerFont(TTFont("FloorSans-Bold", f"{directory}/DejaVuSans-Bold.ttf"))
    pdfmetrics.registerFontFamily("FloorSans", normal="FloorSans", bold="FloorSans-Bold")
    return "FloorSans"


def reportlab_floor(context: dict, cells: list[list[str]], totals: list[tuple[str, str]], font_dir: str) -> bytes:
    font = _font(font_dir)
    text = ParagraphStyle("text", fontName=font, fontSize=8.5, leading=12)
    title = ParagraphStyle("title", parent=text, fontName=f"{font}-Bold", fontSize=15, leading=18)
    width = A4[0] - 2.8 * cm
    seller, buyer = _parties(context)
    lines = [HEADINGS] + [[c[0], Paragraph(escape(c[1]), text), *c[2:]] for c in cells]
    line_table = Table(lines, colWidths=[width * w / 100 for w in WIDTHS], repeatRows=1)
    line_table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), font, 8.5), ("FONT", (0, 0), (-1, 0), f"{font}-Bold", 8.5),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")), ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")), ("ALIGN", (4, 0), (-1, -1), "RIGHT"),
    ]))  # fmt: skip
    sums = Table([["", label, value] for label, value in totals], colWidths=[width * 0.55, width * 0.27, None])
    sums.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), font, 8.5), ("ALIGN", (2, 0), (2, -1), "RIGHT")]))
    story = [
        Paragraph("Tax Invoice", title),
        Paragraph(f"Invoice no.: {context['number']}<br/>Date: {context['document_date']}", text),
        Table([[Paragraph(seller, text), Paragraph(buyer, text)]], colWidths=[width / 2, width / 2]),
        Paragraph(f"Place of supply: {context['place_of_supply']}", text),
        line_table,
        Spacer(1, 8),
        sums,
        Paragraph(f"Amount in words: {context['words']}", text),
    ]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, leftMargin=1.4 * cm, rightMargin=1.4 * cm).build(story)
    return out.getvalue()
