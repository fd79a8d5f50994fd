"""The customer's cart: lines merged by (product, options, rental dates) under the cart row's lock.

Prices are never stored in the cart: `cart_view` prices it from today's catalogue (portal/cart/view.py).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.cart.errors import InvalidLine, LineNotFound, UnknownProduct
from portal.cart.models import Cart, CartLine
from portal.cart.pricing import MAX_RENTAL_DAYS, rental_days
from portal.catalog.models import Product
from portal.dbutil import for_update
from portal.extensions import db
from portal.orders.pricing import MAX_LINES, MAX_QUANTITY
from portal.timeutil import local_today


def get_cart(customer) -> Cart:
    """The customer's cart (created empty on first use). Commits when it creates one."""
    cart = db.session.scalar(select(Cart).where(Cart.customer_id == customer.id))
    if cart is not None:
        return cart
    try:
        cart = Cart(customer_id=customer.id)
        db.session.add(cart)
        db.session.commit()
    except IntegrityError:  # a concurrent first request created it
        db.session.rollback()
        cart = db.session.scalar(select(Cart).where(Cart.customer_id == customer.id))
    return cart


def cart_view(customer):
    """The customer's cart priced from today's catalogue, grouped by vendor, with its problems (CartView)."""
    from portal.cart.view import view_of

    return view_of(get_cart(customer))


def lock_cart(customer) -> Cart:
    """The customer's cart, row-locked (created first if need be): every change of its lines runs under it."""
    cart_id = get_cart(customer).id
    return db.session.scalar(for_update(select(Cart).where(Cart.id == cart_id), of=Cart))


def _check_quantity(quantity) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidLine(f"The quantity must be a whole number from 1 to {MAX_QUANTITY}.", {"quantity": quantity})
    return quantity


def _product(product_id) -> Product:
    product = db.session.get(Product, product_id) if isinstance(product_id, int) and product_id > 0 else None
    if product is None or not product.active:
        raise UnknownProduct("That product is not sold here.", {"product_id": product_id})
    return product


def _clean_options(product: Product, options) -> list[str]:
    codes = sorted(set(options or ()))
    offered = {o.code for o in product.options if o.active}
    unknown = [c for c in codes if c not in offered]
    if unknown:
        raise InvalidLine(f"{product.title} has no option {', '.join(unknown)}.", {"options": unknown})
    return codes


def check_dates(product: Product, start: date | None, end: date | None) -> None:
    """A rental needs dates from today on, end ≥ start, at most MAX_RENTAL_DAYS; anything else has none."""
    if not product.is_rental:
        if start is not None or end is not None:
            raise InvalidLine(f"{product.title} is not rented: leave out the rental dates.")
        return
    if start is None or end is None:
        raise InvalidLine(f"Choose the dates you want to rent {product.title} for (rental_start, rental_end).")
    if start < local_today():
        raise InvalidLine("The rental cannot start in the past.", {"rental_start": start.isoformat()})
    if end < start:
        raise InvalidLine("The rental must end on or after the day it starts.", {"rental_end": end.isoformat()})
    if rental_days(start, end) > MAX_RENTAL_DAYS:
        raise InvalidLine(f"A rental can last at most {MAX_RENTAL_DAYS} days.")


def _same_line(cart: Cart, product_id: int, key: str, start, end) -> CartLine | None:
    return next(
        (
            line
            for line in cart.lines
            if (line.product_id, line.option_key, line.rental_start, line.rental_end) == (product_id, key, start, end)
        ),
        None,
    )


def add_line(customer, product_id, quantity, *, options=(), rental_start=None, rental_end=None) -> Cart:
    """Add `quantity` of a product (with option codes; a rental with its dates) to the customer's cart;
    a line with the same product, options and dates grows instead. Commits; raises CartError."""
    quantity = _check_quantity(quantity)
    try:
        product = _product(product_id)
        codes = _clean_options(product, options)
        check_dates(product, rental_start, rental_end)
        cart = lock_cart(customer)
        key = ",".join(codes)
        line = _same_line(cart, product.id, key, rental_start, rental_end)
        if line is not None:
            line.quantity = _check_quantity(line.quantity + quantity)
        elif len(cart.lines) >= MAX_LINES:
            raise InvalidLine(f"A cart can have at most {MAX_LINES} lines.")
        else:
            cart.lines.append(
                CartLine(
                    product_id=product.id,
                    quantity=quantity,
                    options=codes,
                    option_key=key,
                    rental_start=rental_start,
                    rental_end=rental_end,
                )
            )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return cart


def _own_line(cart: Cart, line_id: int) -> CartLine:
    line = next((line for line in cart.lines if line.id == line_id), None)
    if line is None:  # another customer's line answers exactly like an unknown one
        raise LineNotFound("No such line in your cart.")
    return line


def set_quantity(customer, line_id: int, quantity) -> Cart:
    """Change a line's quantity (0 removes it). Commits; raises LineNotFound for a line not in this cart."""
    if quantity != 0:
        quantity = _check_quantity(quantity)
    try:
        cart = lock_cart(customer)
        line = _own_line(cart, line_id)
        if quantity == 0:
            cart.lines.remove(line)
        else:
            line.quantity = quantity
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return cart


def remove_line(customer, line_id: int) -> Cart:
    """Remove a line from the customer's cart. Commits."""
    return set_quantity(customer, line_id, 0)


def remove_checked_out(cart_id: int, lines: list[dict]) -> None:
    """Take the checked-out lines out of the cart (in the caller's transaction, under its locks): each snapshot
    line removes its quantity from the matching cart line; lines added after the checkout stay."""
    cart = db.session.scalar(for_update(select(Cart).where(Cart.id == cart_id), of=Cart))
    if cart is None:
        return
    for snap in lines:
        start, end = _date(snap.get("rental_start")), _date(snap.get("rental_end"))
        line = _same_line(cart, snap["product_id"], ",".join(snap.get("option_codes", [])), start, end)
        if line is None:
            continue
        if line.quantity <= snap["quantity"]:
            cart.lines.remove(line)
        else:
            line.quantity -= snap["quantity"]


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def clear_discount(customer) -> Cart:
    """Remove the cart's discount code. Commits."""
    try:
        cart = lock_cart(customer)
        cart.discount_code = None
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return cart
