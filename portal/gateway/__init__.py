"""The gateway port. `get_gateway()` returns the adapter configured for this app."""

from flask import current_app

from portal.gateway.base import Gateway, GatewayError, GatewayRejected, GatewayUnavailable

__all__ = ["Gateway", "GatewayError", "GatewayRejected", "GatewayUnavailable", "get_gateway"]


def get_gateway() -> Gateway:
    return current_app.extensions["gateway"]
