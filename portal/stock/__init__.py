"""Stock: reservations that hold units (or rental dates) for a checkout, and availability."""

from __future__ import annotations


def init_app(app) -> None:
    from portal.stock import cli

    cli.init_app(app)
