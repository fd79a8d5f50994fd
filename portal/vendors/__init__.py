"""Vendors of the marketplace: who sells each product, issues its invoices and approves its orders."""

from __future__ import annotations


def init_app(app) -> None:
    from portal.vendors import routes

    routes.init_app(app)
