"""Razorpay's error body, raised anywhere in the sandbox and rendered by the API blueprint."""

from __future__ import annotations


class ApiError(Exception):
    """`{"error": {"code", "description", "source", "step", "reason", "metadata", "field"}}` with a status."""

    def __init__(
        self,
        description: str,
        *,
        status: int = 400,
        code: str = "BAD_REQUEST_ERROR",
        field: str | None = None,
        source: str = "business",
        step: str = "payment_initiation",
        reason: str = "input_validation_failed",
        metadata: dict | None = None,
        minimal: bool = False,
    ):
        super().__init__(description)
        self.minimal = minimal
        self.status, self.description, self.code, self.field = status, description, code, field
        self.source, self.step, self.reason, self.metadata = source, step, reason, metadata or {}

    def body(self) -> dict:
        if self.minimal:  # the 401 body has only these two keys
            return {"error": {"code": self.code, "description": self.description}}
        error = {
            "code": self.code,
            "description": self.description,
            "source": self.source,
            "step": self.step,
            "reason": self.reason,
            "metadata": self.metadata,
        }
        if self.field:
            error["field"] = self.field
        return {"error": error}


def not_found(_id: str | None = None) -> ApiError:
    return ApiError("The id provided does not exist", source="NA", step="NA", reason="NA")


def no_route() -> ApiError:
    return ApiError("The requested URL was not found on the server.", source="NA", step="NA", reason="NA")


def auth_failed() -> ApiError:
    return ApiError("Authentication failed", status=401, minimal=True)


def server_error() -> ApiError:
    return ApiError(
        "The server encountered an error. The incident has been reported to admins.",
        status=500,
        code="SERVER_ERROR",
        source="NA",
        step="NA",
        reason="NA",
    )


def gateway_error() -> ApiError:
    """What Razorpay answers when the bank or wallet behind it failed or timed out (the SDK's test vector)."""
    return ApiError(
        "Payment processing failed due to error at bank/wallet gateway",
        status=504,
        code="GATEWAY_ERROR",
        source="NA",
        step="NA",
        reason="NA",
    )


def rate_limited() -> ApiError:
    """Razorpay's throttling answer (429; the description is as third-party clients report it)."""
    return ApiError("Too many requests", status=429, source="NA", step="NA", reason="NA")
