"""The customer's cart and checkout API (/api/v1/cart…, /api/v1/checkout…). Owner: checkout stream."""

from __future__ import annotations


def init_app(app) -> None:
    """Placeholder: the owning stream fills it in (blueprint, CLI group, jobs)."""
