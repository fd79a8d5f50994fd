"""Money: integer minor units with a currency; Indian digit grouping; one parser for admin input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portal.money import CurrencyMismatch, InvalidAmount, Money, format_money, parse_amount, percent_of


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (12345650, "INR", "₹1,23,456.50"),
        (0, "INR", "₹0.00"),
        (5, "INR", "₹0.05"),
        (99900, "INR", "₹999.00"),
        (100000, "INR", "₹1,000.00"),
        (1234567890, "INR", "₹1,23,45,678.90"),
        (-25000, "INR", "-₹250.00"),
        (123456789, "USD", "$1,234,567.89"),
        (100, "JPY", "JPY 1.00"),
        (None, "INR", "—"),
    ],
)
def test_format_money(amount, currency, text):
    assert format_money(amount, currency) == text


@pytest.mark.parametrize(
    ("text", "paise"),
    [
        ("250.00", 25000),
        ("250", 25000),
        ("250.5", 25050),
        ("1,250.00", 125000),
        ("₹1,23,456.50", 12345650),
        (" 0.01 ", 1),
    ],
)
def test_parse_amount(text, paise):
    assert parse_amount(text) == paise


@pytest.mark.parametrize("text", ["", None, "abc", "-5", "1.234", "1e3", "12.", ".5", "1 000", "NaN"])
def test_parse_amount_refuses_what_is_not_an_amount(text):
    with pytest.raises(InvalidAmount):
        parse_amount(text)


@given(st.integers(min_value=0, max_value=10**13))
def test_formatting_then_parsing_gives_the_same_paise(paise):
    assert parse_amount(format_money(paise, "INR")) == paise


@pytest.mark.parametrize(
    ("text", "paise"),
    [("1,000.00", 100000), ("1,00,000.50", 10000050), ("100,000.50", 10000050), ("12,34,567", 123456700)],
)
def test_parse_amount_accepts_indian_and_international_grouping(text, paise):
    assert parse_amount(text) == paise


@pytest.mark.parametrize(
    "text",
    [
        *["१०", "١٠", "१,०००.००", "１０", "٣.٥٠"],  # digits of other scripts
        *["1,0,00", "1,00", "12,3456", "1,000,00", ",100", "100,", "1,,000", "0,100"],  # malformed grouping
    ],
)
def test_parse_amount_refuses_other_digits_and_malformed_grouping_and_says_what_is_accepted(text):
    with pytest.raises(InvalidAmount, match="digits 0–9, with commas only between digit groups"):
        parse_amount(text)


def _international(digits: str) -> str:
    return f"{int(digits):,}"


def _indian(digits: str) -> str:
    return format_money(int(digits) * 100, "INR")[1:-3]  # "₹1,23,456.00" → "1,23,456"


def _well_grouped(whole: str) -> bool:
    """An independent statement of the rule: no commas, or every group right for one of the two styles."""
    if "," not in whole:
        return whole.isascii() and whole.isdigit()
    digits = whole.replace(",", "")
    return digits.isascii() and digits.isdigit() and whole in {_international(digits), _indian(digits)}


@given(st.integers(min_value=0, max_value=10**12 - 1), st.integers(min_value=0, max_value=99))
def test_both_groupings_and_none_parse_to_the_same_paise(rupees, paise):
    for whole in (str(rupees), _international(str(rupees)), _indian(str(rupees))):
        assert parse_amount(f"{whole}.{paise:02d}") == rupees * 100 + paise


@given(st.from_regex(r"[0-9]{1,10}", fullmatch=True), st.lists(st.integers(min_value=0, max_value=10), max_size=4))
def test_commas_anywhere_else_are_refused(digits, positions):
    whole = digits
    for position in sorted(set(positions), reverse=True):
        whole = whole[:position] + "," + whole[position:]
    if _well_grouped(whole):
        assert parse_amount(whole) == int(digits) * 100
    else:
        with pytest.raises(InvalidAmount):
            parse_amount(whole)


@given(
    st.integers(min_value=0, max_value=10**6),
    st.characters(categories=["Nd"]).filter(lambda c: not c.isascii()),
    st.integers(min_value=0, max_value=7),
)
def test_a_digit_of_any_other_script_is_refused(rupees, digit, position):
    text = str(rupees)
    position = min(position, len(text))
    with pytest.raises(InvalidAmount):
        parse_amount(text[:position] + digit + text[position:])


def test_money_refuses_floats_and_bools():
    with pytest.raises(TypeError):
        Money(250.0, "INR")
    with pytest.raises(TypeError):
        Money(True, "INR")


def test_money_needs_an_iso_currency_code():
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(100, "inr")


def test_money_adds_and_subtracts_only_the_same_currency():
    assert Money(100, "INR") + Money(250, "INR") == Money(350, "INR")
    assert Money(100, "INR") - Money(250, "INR") == Money(-150, "INR")
    with pytest.raises(CurrencyMismatch):
        Money(100, "INR") + Money(100, "USD")


def test_money_prints_formatted():
    assert str(Money(12345650, "INR")) == "₹1,23,456.50"


@pytest.mark.parametrize(
    ("amount", "bp", "tax"),
    [(100000, 1800, 18000), (99900, 1800, 17982), (1, 1800, 0), (3, 1800, 1), (25, 1800, 5), (0, 1800, 0)],
)
def test_percent_of_rounds_half_up_to_the_paisa(amount, bp, tax):
    assert percent_of(amount, bp) == tax


def test_money_filter_in_templates(app):
    template = app.jinja_env.from_string("{{ 12345650|money }}")
    assert template.render() == "₹1,23,456.50"
