"""The customer API under concurrent calls, on PostgreSQL (real row locks, real concurrent transactions).

Each thread is its own request through the Flask test client: its own app context, session and connection.
"""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from portal.extensions import db
from portal.gateway import get_gateway
from portal.history.models import HistoryEvent
from portal.orders.models import Order
from portal.payments.models import Payment

PARALLEL = 20


def in_parallel(app, token: str, method: str, path: str, n: int = PARALLEL, **kw) -> list[tuple[int, dict]]:
    """`n` identical requests released at one instant; their (status, JSON body)."""
    barrier, results = threading.Barrier(n), [None] * n
    headers = {"Authorization": f"Bearer {token}", **kw.pop("headers", {})}

    def call(index):
        with app.app_context():
            client = app.test_client()
            barrier.wait()
            try:
                response = client.open(path, method=method, headers=headers, **kw)
                results[index] = (response.status_code, response.get_json())
            except Exception as exc:  # a crash is a result the test asserts on
                results[index] = (None, repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=call, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads)
    return results


def differences(a, b, path="") -> list[str]:
    """Where two JSON bodies differ, as readable paths (a failure message that fits on a screen)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for key in sorted(set(a) | set(b)) for d in differences(a.get(key), b.get(key), f"{path}.{key}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def test_twenty_concurrent_verifications_of_one_authorized_payment_all_answer_200_with_one_body(
    postgres, api, course, sandbox
):
    created = api.post("/api/v1/orders", json={"items": [{"product_id": course.id}]}).get_json()["data"]
    paid = sandbox.pay(created["checkout"]["gateway_order_id"], outcome="authorize")

    results = in_parallel(postgres, api.token, "POST", "/api/v1/orders/verify-payment", json=paid)

    assert [status for status, _ in results] == [200] * PARALLEL, results
    different = [body for _, body in results if body != results[0][1]]
    assert not different, differences(results[0][1], different[0])
    assert results[0][1]["data"]["payment"]["status"] == "captured"
    db.session.expire_all()
    [payment] = db.session.scalars(select(Payment)).all()
    captures = db.session.scalar(
        select(func.count()).where(
            HistoryEvent.entity_type == "payment",
            HistoryEvent.entity_id == payment.id,
            HistoryEvent.to_state == "captured",
        )
    )
    assert captures == 1
    assert sandbox.payment(paid["razorpay_payment_id"])["status"] == "captured"


def test_twenty_concurrent_creates_with_one_idempotency_key_make_one_order_and_one_gateway_order(
    postgres, api, course, sandbox
):
    body = {"items": [{"product_id": course.id}]}

    results = in_parallel(
        postgres, api.token, "POST", "/api/v1/orders", json=body, headers={"Idempotency-Key": "race-key-0001"}
    )

    assert [status for status, _ in results] == [201] * PARALLEL, results
    gateway_ids = {body["data"]["checkout"]["gateway_order_id"] for _, body in results}
    assert len(gateway_ids) == 1 and None not in gateway_ids
    db.session.expire_all()
    [order] = db.session.scalars(select(Order)).all()
    assert order.gateway_order_id in gateway_ids
    assert [o["id"] for o in get_gateway().find_orders_by_receipt(order.receipt)] == [order.gateway_order_id]
