"""The catalogue: products of every kind (courses, goods, rentals, services), their options and vendors."""

from __future__ import annotations


def init_app(app) -> None:
    from portal.catalog import admin, api, cli

    for part in (admin, api, cli):
        part.init_app(app)
