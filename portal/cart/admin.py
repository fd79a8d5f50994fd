"""/admin/checkouts: the checkouts list and detail. Owner: storefront stream."""

from __future__ import annotations


def init_app(app) -> None:
    """Placeholder: the owning stream fills it in (blueprint, CLI group, jobs)."""
