"""Checks on what an admin types for a vendor: GSTIN (format, state code, check digit), state, prefix, colour, logo."""

from __future__ import annotations

import re

# The states and union territories of the GST system, by the two-digit code a GSTIN starts with.
STATE_CODES = {
    "01": "Jammu and Kashmir", "02": "Himachal Pradesh", "03": "Punjab", "04": "Chandigarh",
    "05": "Uttarakhand", "06": "Haryana", "07": "Delhi", "08": "Rajasthan", "09": "Uttar Pradesh",
    "10": "Bihar", "11": "Sikkim", "12": "Arunachal Pradesh", "13": "Nagaland", "14": "Manipur",
    "15": "Mizoram", "16": "Tripura", "17": "Meghalaya", "18": "Assam", "19": "West Bengal",
    "20": "Jharkhand", "21": "Odisha", "22": "Chhattisgarh", "23": "Madhya Pradesh", "24": "Gujarat",
    "26": "Dadra and Nagar Haveli and Daman and Diu", "27": "Maharashtra", "29": "Karnataka", "30": "Goa",
    "31": "Lakshadweep", "32": "Kerala", "33": "Tamil Nadu", "34": "Puducherry",
    "35": "Andaman and Nicobar Islands", "36": "Telangana", "37": "Andhra Pradesh", "38": "Ladakh",
}  # fmt: skip
STATES = sorted(STATE_CODES.values())

GSTIN_RE = re.compile(r"^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$")
# A vendor's invoices are numbered "LH/26-27/00001" and its credit notes "LHC/26-27/00001": with GST's limit
# of 16 characters (portal.invoices.numbering) the prefix has room for 3.
PREFIX_RE = re.compile(r"^[A-Z0-9]{1,3}$")
COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
LOGO_MAX_BYTES = 256 * 1024
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def gstin_check_digit(first14: str) -> str:
    """The 15th character of a GSTIN: base-36 Luhn over the first 14 (the GSTN's published algorithm)."""
    total = 0
    for position, char in enumerate(first14):
        product = _ALPHABET.index(char) * (2 if position % 2 else 1)
        total += product // 36 + product % 36
    return _ALPHABET[(36 - total % 36) % 36]


def gstin_problem(gstin: str, state: str | None) -> str | None:
    """Why `gstin` is not a valid GSTIN of a business in `state`; None when it is."""
    if not GSTIN_RE.match(gstin):
        return "not a GSTIN: 15 characters such as 29ABCDE1234F1Z5"
    if gstin[:2] not in STATE_CODES:
        return f"{gstin[:2]} is not a state code"
    if gstin[14] != gstin_check_digit(gstin[:14]):
        return "the check digit (last character) does not match: a typing mistake?"
    if state and STATE_CODES[gstin[:2]] != state:
        return f"it is registered in {STATE_CODES[gstin[:2]]}, not {state}"
    return None


def sniff_image(data: bytes) -> str | None:
    """The image type of `data` by its magic bytes (PNG or JPEG only); None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return None
