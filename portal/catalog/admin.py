"""/admin/catalog: products (list, create, edit, deactivate, options). Owner: catalogue stream."""

from __future__ import annotations


def init_app(app) -> None:
    """Placeholder: the owning stream fills it in (blueprint, CLI group, jobs)."""
