"""What can go wrong with a cart or a checkout: each error carries its API status, code and details."""

from __future__ import annotations


class CartError(Exception):
    """Base: `status`, `code` and `details` become the API's error body (portal/cart/api.py)."""

    status = 422
    code = "invalid_cart"

    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.message, self.details = message, details or {}


class InvalidLine(CartError):
    code = "invalid_line"


class UnknownProduct(CartError):
    code = "unknown_product"


class LineNotFound(CartError):
    status, code = 404, "cart_line_not_found"


class InvalidDiscount(CartError):
    code = "invalid_discount"


class CartNotReady(CartError):
    """The cart has problems that stop a checkout (details: problems)."""

    code = "cart_not_ready"


class UnsupportedPaymentMethod(CartError):
    code = "unsupported_payment_method"


class OutOfStock(CartError):
    status, code = 409, "out_of_stock"


class CheckoutNotFound(CartError):
    status, code = 404, "checkout_not_found"


class CheckoutConflict(CartError):
    """An Idempotency-Key reused with another body."""

    status, code = 409, "idempotency_conflict"


class CheckoutExpired(CartError):
    """The money came after the checkout expired: refunded in full."""

    status, code = 409, "checkout_expired"


class CheckoutNotPayable(CartError):
    status, code = 409, "checkout_not_payable"


class CheckoutRefunded(CartError):
    """The money came but the orders could not be created: refunded in full."""

    status, code = 409, "checkout_refunded"


class PaymentMismatch(CartError):
    code = "payment_mismatch"


class PaymentFailed(CartError):
    code = "payment_failed"


class PaymentIncomplete(CartError):
    status, code = 409, "payment_incomplete"
