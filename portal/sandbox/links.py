"""Payment links: create, fetch, cancel, list, and the customer paying one on the sandbox's link page."""

from __future__ import annotations

import time

from portal.sandbox import entities as ent
from portal.sandbox import validation as v
from portal.sandbox.errors import ApiError


class PaymentLinks:
    """Mixed into `Sandbox`; uses its `store`, `change()`, `_get()` and `_attempt()`."""

    def create_payment_link(self, data: dict) -> dict:
        from portal.sandbox.service import PLINK_FIELDS

        v.reject_unknown(data, PLINK_FIELDS)
        currency = v.currency(data, required=False)
        amount = v.amount(data, currency=currency)
        v.text(data, "description", 2048)
        reference = v.text(data, "reference_id", 40) or None
        _check_expiry(data.get("expire_by"))
        if data.get("callback_url") and data.get("callback_method") != "get":
            raise ApiError("callback_method should be get when callback_url is sent", field="callback_method")
        doc = ent.payment_link(
            data, amount=amount, currency=currency, notes=v.notes(data), base_url=self.public_base_url
        )
        with self.change() as (conn, _):
            if reference and self.store.find_reference(conn, "payment_link", reference):
                raise ApiError("payment link creation with reference ID already attempted", field="reference_id")
            self.store.add(conn, "payment_link", doc, reference=reference)
        return ent.public(doc)

    def fetch_payment_link(self, plink_id: str) -> dict:
        with self.change() as (conn, change):
            plink = self._get(conn, "payment_link", plink_id, lock=True)
            self._expire_if_due(conn, plink, change)
        return ent.public(plink)

    def cancel_payment_link(self, plink_id: str) -> dict:
        with self.change() as (conn, change):
            plink = self._get(conn, "payment_link", plink_id, lock=True)
            self._expire_if_due(conn, plink, change)
            if plink["status"] in ("paid", "partially_paid"):
                raise ApiError("cannot cancel or expire an already paid/partially paid link")
            if plink["status"] == "expired":
                raise ApiError("cannot cancel or expire an expired link")
            if plink["status"] == "cancelled":
                raise ApiError("cannot cancel or expire an already cancelled link")
            plink.update(status="cancelled", cancelled_at=ent.ts(), updated_at=ent.ts())
            self.store.save(conn, plink)
            change.emit("payment_link.cancelled", payment_link=plink)
        return ent.public(plink)

    def list_payment_links(self, params: dict) -> dict:
        links = [ent.public(p) for p in self.store.latest("payment_link", limit=100)]
        if params.get("reference_id"):
            links = [p for p in links if p["reference_id"] == params["reference_id"]]
        if params.get("payment_id"):
            links = [p for p in links if any(x["payment_id"] == params["payment_id"] for x in p["payments"] or [])]
        return {"payment_links": links}

    def pay_payment_link(self, plink_id: str, outcome: str, method: str) -> tuple[dict, dict]:
        """A customer's attempt on the link page; returns (payment, payment link)."""
        from portal.sandbox.service import OUTCOMES

        if outcome not in OUTCOMES or method not in ent.METHODS:
            raise ApiError("The outcome or method is invalid.")
        with self.change() as (conn, change):
            plink = self._get(conn, "payment_link", plink_id, lock=True)
            self._expire_if_due(conn, plink, change)
            if plink["status"] != "created":
                raise ApiError(f"This payment link is {plink['status']} and cannot be paid.")
            order = self._link_order(conn, plink)
            customer = plink.get("customer") or {}
            pay = self._attempt(conn, change, order, outcome, method, customer.get("email"), customer.get("contact"))
            self.store.save(conn, order)
            if pay["status"] == "captured":
                self._mark_link_paid(plink, pay, order, change)
            self.store.save(conn, plink)
        return ent.public(pay), ent.public(plink)

    def _link_order(self, conn, plink: dict) -> dict:
        if plink["order_id"]:
            return self._get(conn, "order", plink["order_id"])
        order = ent.order(
            amount=plink["amount"],
            currency=plink["currency"],
            receipt=None,
            notes=plink["notes"] or [],
            capture="automatic",
            partial=False,
        )
        order["_description"] = plink["description"]
        self.store.add(conn, "order", order)
        plink["order_id"] = order["id"]
        return order

    def _mark_link_paid(self, plink: dict, pay: dict, order: dict, change) -> None:
        now = ent.ts()
        plink.update(amount_paid=pay["amount"], status="paid", updated_at=now)
        plink["payments"] = [
            {
                "amount": pay["amount"],
                "created_at": pay["created_at"],
                "method": pay["method"],
                "payment_id": pay["id"],
                "plink_id": plink["id"],
                "status": "captured",
                "updated_at": now,
            }
        ]
        change.emit("payment_link.paid", payment_link=plink, order=order, payment=pay)

    def _expire_if_due(self, conn, plink: dict, change) -> None:
        if plink["status"] == "created" and plink["expire_by"] and plink["expire_by"] <= time.time():
            plink.update(status="expired", expired_at=ent.ts(), updated_at=ent.ts())
            self.store.save(conn, plink)
            change.emit("payment_link.expired", payment_link=plink)


def _check_expiry(expire_by) -> None:
    if expire_by in (None, 0):
        return
    if not isinstance(expire_by, int) or expire_by < time.time() + 15 * 60:
        raise ApiError("timestamp must be atleast 15 minutes in future", field="expire_by")
