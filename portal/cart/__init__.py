"""The customer's cart and the multi-vendor checkout: one payment, one order and invoice per vendor."""

from __future__ import annotations


def init_app(app) -> None:
    from portal.cart import admin, api, notifications, tasks  # noqa: F401  (notifications, tasks: registered)

    api.init_app(app)
    admin.init_app(app)
