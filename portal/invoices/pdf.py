"""PDF rendering: a Jinja template turned into a PDF by xhtml2pdf, with an embedded font that prints ₹.

The built-in PDF fonts (Helvetica & co.) have no glyph for ₹ (U+20B9), so the template embeds DejaVu Sans
through @font-face. The font comes from Debian's fonts-dejavu-core (/usr/share/fonts/truetype/dejavu), or from
the directory named by INVOICE_FONT_DIR, or from static/fonts/. The render runs under a resource policy that
may read that one directory and nothing else (no network): buyer details are typed by people, and a document
must not be able to make the renderer fetch anything.
"""

from __future__ import annotations

import hashlib
import io
import logging
from pathlib import Path

from flask import current_app, render_template
from xhtml2pdf import pisa
from xhtml2pdf.config.resources import ResourceAccessPolicy

FONT_FILE = "DejaVuSans.ttf"
BOLD_FONT_FILE = "DejaVuSans-Bold.ttf"
SYSTEM_FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF")


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


def _fonts() -> dict:
    directory = font_dir()
    bold = directory / BOLD_FONT_FILE
    return {"font_regular": str(directory / FONT_FILE), "font_bold": str(bold if bold.is_file() else "")}


def render_pdf(template: str, **context) -> bytes:
    """Render `template` (HTML) with `context` to PDF bytes; raise PdfUnavailable on any failure."""
    fonts = _fonts()
    html = render_template(template, **fonts, **context)
    policy = ResourceAccessPolicy.server(base_dir=Path(fonts["font_regular"]).parent, allow_remote=False)
    out = io.BytesIO()
    result = pisa.CreatePDF(html, dest=out, encoding="utf-8", resource_policy=policy)
    if result.err:
        logging.getLogger(__name__).error("xhtml2pdf failed on %s: %s errors", template, result.err)
        raise PdfUnavailable("The PDF could not be rendered; see the server log.")
    return out.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
