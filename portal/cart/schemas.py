"""Request and response schemas of the cart and checkout API (pydantic; they also make its OpenAPI paths)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from portal.api.schemas import GATEWAY_ID, ID
from portal.orders.pricing import MAX_QUANTITY


def _examples(*examples: dict) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


# --- requests -------------------------------------------------------------------------------------


class AddItemRequest(BaseModel):
    # Unknown fields (a client-sent "price") are ignored: prices come from the catalogue only.
    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {"product_id": 1, "quantity": 2, "options": ["gift_wrap"]},
                {"product_id": 7, "quantity": 1, "rental_start": "2026-12-20", "rental_end": "2026-12-22"},
            ]
        },
    )
    product_id: int = ID
    quantity: int = Field(default=1, ge=1, le=MAX_QUANTITY)
    rental_start: date | None = None
    rental_end: date | None = None
    options: list[str] = Field(default_factory=list, max_length=20)


class UpdateItemRequest(BaseModel):
    model_config = _examples({"quantity": 3})
    quantity: int = Field(ge=0, le=MAX_QUANTITY, description="0 removes the line")


class DiscountRequest(BaseModel):
    model_config = _examples({"code": "DIWALI10"})
    code: str = Field(min_length=1, max_length=40)


class StartCheckoutRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", json_schema_extra={"examples": [{"payment_method": "razorpay"}]})
    payment_method: str = Field(default="razorpay", min_length=1, max_length=20)
    wallet_amount: int | None = Field(default=None, ge=0, le=10**12)


class VerifyCheckoutRequest(BaseModel):
    razorpay_order_id: str = GATEWAY_ID
    razorpay_payment_id: str = GATEWAY_ID
    razorpay_signature: str = Field(min_length=1, max_length=128)


# --- the cart -------------------------------------------------------------------------------------


class CartOptionOut(BaseModel):
    code: str
    label: str
    price: int


class CartLineOut(BaseModel):
    id: int
    product_id: int
    title: str
    kind: str
    vendor_id: int | None
    quantity: int
    options: list[CartOptionOut]
    rental_start: date | None
    rental_end: date | None
    days: int | None
    unit_price: int = Field(description="per unit, options included; a rental's daily price × days; before tax")
    taxable: int
    tax: int
    deposit: int = Field(description="a rental's refundable security deposit (no GST), beside line_total")
    line_total: int = Field(description="taxable + per-line options + GST")
    currency: str


class CartVendor(BaseModel):
    id: int | None
    name: str


class CartVendorGroup(BaseModel):
    vendor: CartVendor | None
    line_ids: list[int]
    subtotal: int = Field(description="everything this vendor's order will total: lines, GST and deposits")


class CartProblem(BaseModel):
    line_id: int | None = None
    code: str
    message: str


class CartOut(BaseModel):
    id: int
    lines: list[CartLineOut]
    vendors: list[CartVendorGroup]
    subtotal: int
    discount: int
    discount_code: str | None
    tax: int
    deposits: int
    total: int
    currency: str
    problems: list[CartProblem]


class CartResponse(BaseModel):
    data: CartOut


# --- checkouts ------------------------------------------------------------------------------------


class CheckoutVendorShare(BaseModel):
    vendor: CartVendor | None
    amount: int


class CheckoutOrder(BaseModel):
    id: int
    number: str
    vendor: CartVendor | None
    amount: int
    currency: str
    status: str
    fulfilment_status: str


class StartedCheckout(BaseModel):
    id: int
    number: str
    status: str
    amount: int
    currency: str
    expires_at: datetime
    key_id: str | None
    gateway_order_id: str | None
    vendors: list[CheckoutVendorShare]


class StartedCheckoutResponse(BaseModel):
    data: StartedCheckout


class CheckoutDetail(BaseModel):
    id: int
    number: str
    status: str
    amount: int
    currency: str
    expires_at: datetime
    paid_at: datetime | None
    gateway_order_id: str | None
    failure_reason: str | None
    vendors: list[CheckoutVendorShare]
    orders: list[CheckoutOrder]


class CheckoutDetailResponse(BaseModel):
    data: CheckoutDetail


class VerifiedCheckout(BaseModel):
    checkout: CheckoutDetail
    orders: list[CheckoutOrder]
    total_amount: int


class VerifiedCheckoutResponse(BaseModel):
    data: VerifiedCheckout
