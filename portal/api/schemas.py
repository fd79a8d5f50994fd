"""Request and response schemas of the customer API (pydantic).

The same classes validate requests, shape responses and generate /api/v1/openapi.json; amounts are
integers in the currency's minor unit (paise) with an ISO 4217 code beside them.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from portal.orders.pricing import MAX_LINES, MAX_QUANTITY

ID = Field(ge=1, le=2**31 - 1)
GATEWAY_ID = Field(min_length=1, max_length=40)


def _examples(*examples: dict) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": list(examples)})


# --- errors ---------------------------------------------------------------------------------------


class ErrorDetail(BaseModel):
    code: str = Field(description="snake_case machine-readable code")
    message: str = Field(description="a sentence for humans")
    details: dict = Field(default_factory=dict)


class ErrorResponse(BaseModel):
    model_config = _examples(
        {"error": {"code": "order_not_found", "message": "No such order.", "details": {}}},
    )
    error: ErrorDetail


# --- auth -----------------------------------------------------------------------------------------


class TokenRequest(BaseModel):
    model_config = _examples({"email": "customer@demo.test", "password": "demo-password-123"})
    email: str = Field(min_length=3, max_length=255)
    password: str = Field(min_length=1, max_length=200)


class TokenOut(BaseModel):
    token: str = Field(description="send as `Authorization: Bearer <token>`")
    expires_at: datetime


class TokenResponse(BaseModel):
    model_config = _examples({"data": {"token": "rpt_3q2…", "expires_at": "2026-05-30T10:00:00Z"}})
    data: TokenOut


class Revoked(BaseModel):
    revoked: bool


class RevokedResponse(BaseModel):
    data: Revoked


# --- catalogue ------------------------------------------------------------------------------------


class ProductOut(BaseModel):
    id: int
    sku: str
    title: str
    description: str
    kind: str = Field(description="course or physical")
    price: int = Field(description="unit price before tax, minor units")
    tax_rate_bp: int = Field(description="tax rate in basis points (1800 = 18 %)")
    tax: int = Field(description="tax on one unit, minor units")
    price_with_tax: int
    currency: str
    in_stock: int | None = Field(description="units left; null when stock is not tracked")


class CatalogueResponse(BaseModel):
    model_config = _examples(
        {
            "data": [
                {
                    "id": 1,
                    "sku": "PY-101",
                    "title": "Python for Everyone",
                    "description": "",
                    "kind": "course",
                    "price": 149900,
                    "tax_rate_bp": 1800,
                    "tax": 26982,
                    "price_with_tax": 176882,
                    "currency": "INR",
                    "in_stock": None,
                }
            ]
        }
    )
    data: list[ProductOut]


# --- orders ---------------------------------------------------------------------------------------


class OrderItemIn(BaseModel):
    # Unknown fields (a client-sent "price", say) are ignored: prices come from the catalogue only.
    model_config = ConfigDict(extra="ignore")
    product_id: int = ID
    quantity: int = Field(default=1, ge=1, le=MAX_QUANTITY)


class CreateOrderRequest(BaseModel):
    model_config = ConfigDict(
        extra="ignore", json_schema_extra={"examples": [{"items": [{"product_id": 1, "quantity": 1}]}]}
    )
    items: list[OrderItemIn] = Field(min_length=1, max_length=MAX_LINES)


class IdempotencyHeaders(BaseModel):
    idempotency_key: str | None = Field(
        default=None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="a key of your choosing; a retry with the same key and body replays the first answer",
    )


class ItemOut(BaseModel):
    product_id: int | None
    sku: str
    title: str
    kind: str
    unit_price: int
    quantity: int
    tax_rate_bp: int
    taxable_amount: int
    tax_amount: int
    amount: int = Field(description="line total with tax")
    line_type: str = Field(default="item", description="`item`, `rental`, `deposit` (refundable, no GST) or `fee`")
    rental_start: date | None = Field(default=None, description="a rental's first day (inclusive)")
    rental_end: date | None = Field(default=None, description="a rental's last day (inclusive)")
    returned_quantity: int = Field(default=0, description="units that came back (restocked)")


class PaymentOut(BaseModel):
    id: int
    status: str
    amount: int
    currency: str
    method: str | None
    gateway_payment_id: str
    created_at: datetime
    captured_at: datetime | None


class RefundOut(BaseModel):
    id: int
    status: str
    amount: int
    currency: str
    reason: str
    created_at: datetime
    processed_at: datetime | None


class VendorRef(BaseModel):
    id: int
    name: str


class Tracking(BaseModel):
    carrier: str
    number: str


class InvoiceLink(BaseModel):
    number: str | None
    url: str


class OrderOut(BaseModel):
    id: int
    number: str
    status: str
    amount: int = Field(description="order total with tax, minor units")
    currency: str
    subtotal: int
    discount: int
    tax: int
    created_at: datetime
    expires_at: datetime | None
    paid_at: datetime | None
    gateway_order_id: str | None
    payment_link_url: str | None
    refund_due: bool = Field(description="a payment arrived after cancellation or expiry and is being refunded")
    fulfilment_status: str = Field(
        description="awaiting_vendor, rejected, not_required, unfulfilled, processing, ready_for_shipment, shipped, "
        "in_transit, delivered or returned"
    )
    vendor: VendorRef | None = Field(description="the vendor selling it; null for the house")
    tracking: Tracking | None = Field(description="the carrier and tracking number, once shipped")
    items: list[ItemOut]
    payments: list[PaymentOut]
    refunds: list[RefundOut]
    invoice: InvoiceLink | None


class CheckoutOut(BaseModel):
    key_id: str = Field(description="Razorpay key id for the checkout widget")
    gateway_order_id: str = Field(description="Razorpay order id (`order_id` in the checkout options)")
    amount: int
    currency: str
    name: str
    description: str
    prefill: dict[str, str]
    callback_url: str = Field(description="where hosted checkout returns the customer")
    checkout_url: str | None = Field(description="a hosted checkout page (sandbox only), else null")


class CheckoutData(BaseModel):
    order: OrderOut
    checkout: CheckoutOut | None
    payment_ready: bool = Field(description="false when the gateway could not be reached yet")
    message: str


class CheckoutResponse(BaseModel):
    data: CheckoutData


class OrderResponse(BaseModel):
    data: OrderOut


class PageQuery(BaseModel):
    page: int = Field(default=1, ge=1, le=100000)
    per_page: int = Field(default=20, ge=1, le=100)


class PageMeta(BaseModel):
    page: int
    per_page: int
    total: int
    pages: int


class OrderListResponse(BaseModel):
    data: list[OrderOut]
    meta: PageMeta


class StatusTotal(BaseModel):
    status: str
    currency: str
    count: int
    amount: int


class CurrencyTotal(BaseModel):
    currency: str
    amount: int


class Statistics(BaseModel):
    orders: int
    by_status: list[StatusTotal]
    spent: list[CurrencyTotal] = Field(description="captured minus refunded, per currency")


class StatisticsResponse(BaseModel):
    model_config = _examples(
        {
            "data": {
                "orders": 3,
                "by_status": [{"status": "paid", "currency": "INR", "count": 2, "amount": 353764}],
                "spent": [{"currency": "INR", "amount": 353764}],
            }
        }
    )
    data: Statistics


class VerifyPaymentRequest(BaseModel):
    model_config = _examples(
        {
            "razorpay_order_id": "order_RB58MiP5SPFYyM",
            "razorpay_payment_id": "pay_G8VQzjPLoAvm6D",
            "razorpay_signature": "b2335e3b0801106b84a7faff035df56ecffde06918c9ddd1f0fafbb37a51cc89",
        }
    )
    razorpay_order_id: str = GATEWAY_ID
    razorpay_payment_id: str = GATEWAY_ID
    razorpay_signature: str = Field(min_length=1, max_length=128)


class VerifiedPayment(BaseModel):
    order: OrderOut
    payment: PaymentOut


class VerifyPaymentResponse(BaseModel):
    data: VerifiedPayment


class PaymentLinkOut(BaseModel):
    order_id: int
    payment_link_id: str
    url: str | None
    expires_at: datetime | None


class PaymentLinkResponse(BaseModel):
    data: PaymentLinkOut
