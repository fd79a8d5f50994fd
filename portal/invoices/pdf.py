"""PDF rendering: a Jinja template turned into a PDF by xhtml2pdf, with an embedded font that prints ₹.

The built-in PDF fonts (Helvetica & co.) have no glyph for ₹ (U+20B9), so the documents are set in DejaVu Sans.
The font comes from Debian's fonts-dejavu-core (/usr/share/fonts/truetype/dejavu), or from the directory named by
INVOICE_FONT_DIR, or from static/fonts/. The render runs under a resource policy that may read that one directory
and nothing else (no network): buyer details are typed by people, and a document must not be able to make the
renderer fetch anything.

What each render no longer does (docs/performance.md, "Invoice PDFs", has the measurements):
- **Fonts are registered once per process** with ReportLab (`register_fonts`), and xhtml2pdf is told the family's
  name through its default font map, instead of an `@font-face` per document — which made every render read and
  MD5 both font files (1.4 MB) to find out that they were registered already.
- **A lean default stylesheet** (`LEAN_DEFAULT_CSS`): xhtml2pdf parses its default CSS on every document (its API
  takes it as text only: `pisaDocument(default_css=...)` builds a fresh context, so a parsed sheet cannot be
  handed over). Ours holds only the rules of the library's default that our templates' elements use, so there
  is less to parse and fewer rules to match for every element.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import io
import logging
from pathlib import Path

from flask import current_app, render_template
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from xhtml2pdf import default as xhtml2pdf_default
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy

FONT_FILE = "DejaVuSans.ttf"
BOLD_FONT_FILE = "DejaVuSans-Bold.ttf"
SYSTEM_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF")

# The rules of xhtml2pdf's DEFAULT_CSS (xhtml2pdf/default.py) that apply to the elements our PDF templates use
# (html, body, div, p, h1, b, span, br, table, thead, tbody, tr, th, td), copied as they are there, so that the
# page is laid out exactly as with the full default. A template that starts using another element (ul, i, a,
# pre, ...) needs that element's default rules added here.
LEAN_DEFAULT_CSS = """
html { font-family: Helvetica; font-size: 10px; font-weight: normal; color: #000000; margin: 0; padding: 0;
       line-height: 150%; border: 1px none; display: inline; width: auto; height: auto; white-space: normal; }
b { font-weight: bold; }
h1 { font-weight: bold; font-size: 138.5%; margin: 1em 0; -pdf-outline: true; -pdf-outline-open: false;
     -pdf-outline-level: 0; }
p { margin: 1em 0; }
body, div, h1, p, table, th, tr, td { display: block; }
tr, th, td { vertical-align: middle; width: auto; }
th { text-align: center; font-weight: bold; }
"""


class PdfUnavailable(RuntimeError):
    """The PDF cannot be rendered here (no font, or the renderer failed); nothing was stored."""


def font_dir() -> Path:
    """The first directory holding DejaVuSans.ttf: INVOICE_FONT_DIR, static/fonts, then the system's."""
    configured = current_app.config.get("INVOICE_FONT_DIR")
    static = Path(current_app.static_folder or "static") / "fonts"
    candidates = [Path(p) for p in (configured, static, *SYSTEM_FONT_DIRS) if p]
    for directory in candidates:
        if (directory / FONT_FILE).is_file():
            return directory.resolve()
    raise PdfUnavailable(
        f"No {FONT_FILE} found (looked in {', '.join(map(str, candidates))}). "
        "Install Debian's fonts-dejavu-core or set INVOICE_FONT_DIR."
    )


@functools.cache
def register_fonts(directory: Path) -> str:
    """Register DejaVu Sans (and its bold, when present) from `directory` once per process; return the family.

    The family is named after the directory, so two apps with different INVOICE_FONT_DIRs in one process (tests)
    each draw with their own files. Parsing a TrueType file costs ~7 ms per face; after this, a render only
    subsets the glyphs it used.
    """
    family = "DocSans-" + hashlib.sha256(str(directory).encode()).hexdigest()[:8]
    regular = directory / FONT_FILE
    bold_file = directory / BOLD_FONT_FILE
    pdfmetrics.registerFont(TTFont(family, str(regular)))
    bold = family
    if bold_file.is_file():
        bold = f"{family}-Bold"
        pdfmetrics.registerFont(TTFont(bold, str(bold_file)))
    pdfmetrics.registerFontFamily(family, normal=family, bold=bold, italic=family, boldItalic=bold)
    # xhtml2pdf copies this map into every document's font list: a CSS font-family it names is then known to
    # the document without an @font-face (which would make each render read and hash the files again).
    xhtml2pdf_default.DEFAULT_FONT[family.lower()] = family
    return family


def warm_up() -> None:
    """Do the once-per-process work now (font files parsed, renderer imported): bulk workers call it at start.

    Then everything the process holds at that point (app, libraries, font tables) is frozen out of the cyclic
    garbage collector (`gc.freeze`, Python's documented hook for long-lived start-up state). A render allocates
    enough to trigger a couple of full collections, and each one walked that whole start-up heap again: ~15% of
    a 100-line render. What a render itself creates is still collected as before.
    """
    register_fonts(font_dir())
    gc.collect()
    gc.freeze()


def render_pdf(template: str, **context) -> bytes:
    """Render `template` (HTML) with `context` to PDF bytes; raise PdfUnavailable on any failure."""
    directory = font_dir()
    html = render_template(template, font_family=register_fonts(directory), **context)
    return html_to_pdf(html, directory, template)


def html_to_pdf(html: str, directory: Path, name: str = "document", default_css: str = LEAN_DEFAULT_CSS) -> bytes:
    """xhtml2pdf on `html`, allowed to read `directory` only; `default_css` replaces the library's default."""
    policy = ResourceAccessPolicy.server(base_dir=directory, allow_remote=False)
    out = io.BytesIO()
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8", resource_policy=policy, default_css=default_css)
    if result.err:
        logging.getLogger(__name__).error("xhtml2pdf failed on %s: %s errors", name, result.err)
        raise PdfUnavailable("The PDF could not be rendered; see the server log.")
    return out.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
