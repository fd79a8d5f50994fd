"""One line's figures: unit price with options, rentals by the day, GST per line, the deposit apart."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from portal.cart.pricing import OptionPrice, price_line, rental_days
from portal.money import percent_of


def test_per_unit_options_join_the_unit_price_and_per_line_options_are_a_fee():
    wrap = OptionPrice("gift_wrap", "Gift wrap", 5000)
    setup = OptionPrice("setup", "Express setup", 20000, per_line=True)

    figures = price_line(price=50000, tax_rate_bp=1800, quantity=3, options=(wrap, setup))

    assert figures.unit_price == 55000
    assert figures.taxable == 165000 and figures.tax == 29700
    assert figures.fee == 20000 and figures.fee_tax == 3600
    assert figures.line_total == 165000 + 29700 + 20000 + 3600


def test_a_percentage_option_is_a_share_of_the_base_price():
    premium = OptionPrice("premium", "Premium", 0, percent_bp=1000)

    assert price_line(price=12345, tax_rate_bp=0, quantity=1, options=(premium,)).unit_price == 12345 + 1235


def test_a_rental_costs_its_daily_price_for_every_day_and_its_deposit_has_no_gst():
    days = rental_days(date(2026, 12, 20), date(2026, 12, 22))

    figures = price_line(price=30000, tax_rate_bp=1800, quantity=2, days=days, deposit=200000)

    assert days == 3
    assert figures.unit_price == 90000 and figures.taxable == 180000
    assert figures.tax == 32400
    assert figures.deposit == 400000
    assert figures.total_due == 180000 + 32400 + 400000


def test_a_one_day_rental_starts_and_ends_the_same_day():
    assert rental_days(date(2026, 12, 20), date(2026, 12, 20)) == 1


@given(
    price=st.integers(0, 10**8),
    rate=st.integers(0, 10000),
    quantity=st.integers(1, 100),
    days=st.none() | st.integers(1, 90),
)
def test_gst_is_one_rounding_of_the_line_and_the_total_adds_up(price, rate, quantity, days):
    figures = price_line(price=price, tax_rate_bp=rate, quantity=quantity, days=days, deposit=1000)

    assert figures.taxable == price * (days or 1) * quantity
    assert figures.tax == percent_of(figures.taxable, rate)
    assert figures.total_due == figures.taxable + figures.tax + figures.deposit
    assert figures.deposit == (1000 * quantity if days else 0)
