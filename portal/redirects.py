"""The one check for every redirect target that comes from the request (`next`, a form's hidden field)."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

# Percent-decoding more than this many times is no longer a URL anyone typed.
_MAX_DECODES = 3


def safe_next(target: str | None) -> str | None:
    """`target` when it is a path on this site ("/admin/orders?status=paid"), else None.

    Browsers are lenient where a naive check is strict: they drop tabs and newlines ("/\\t/evil" is
    "//evil"), read "\\" as "/" ("/\\evil" is "//evil"), and some proxies decode "%2F" before routing. So
    a target is refused when it, or any percent-decoding of it, is not a plain absolute path: a control
    character or a backslash anywhere, a second leading slash, a scheme or a host.
    """
    if not target:
        return None
    text = target
    for _ in range(_MAX_DECODES):
        if not _is_local_path(text):
            return None
        decoded = unquote(text)
        if decoded == text:
            return target
        text = decoded
    return None


def _is_local_path(text: str) -> bool:
    if any(ord(char) < 0x20 or ord(char) == 0x7F or char == "\\" for char in text):
        return False
    if not text.startswith("/") or text.startswith("//"):
        return False
    parts = urlsplit(text)
    return not parts.scheme and not parts.netloc
