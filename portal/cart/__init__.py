"""The customer's cart and the multi-vendor checkout: one payment, one order and invoice per vendor."""

from __future__ import annotations


def init_app(app) -> None:
    from portal.cart import admin, api

    api.init_app(app)
    admin.init_app(app)
