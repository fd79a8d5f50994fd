"""/admin/vendors: vendors (list, create, edit, deactivate, branding) and a vendor's page. Owner: catalogue stream."""

from __future__ import annotations


def init_app(app) -> None:
    """Placeholder: the owning stream fills it in (blueprint, CLI group, jobs)."""
