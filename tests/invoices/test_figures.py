"""Tax splits and totals: property tests over arbitrary orders, and the amount in words."""

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portal.invoices.documents import credit_note_tax, tax_rate
from portal.invoices.figures import amount_in_words, figures_for_items, number_in_words, same_state, split_tax
from portal.money import percent_of

RATES = st.sampled_from([0, 250, 500, 1200, 1800, 2800]) | st.integers(0, 10000)


@dataclass
class Item:
    """Shaped like portal.orders.models.OrderItem, priced the way portal/orders/pricing.py prices it."""

    unit_price: int
    quantity: int
    tax_rate_bp: int
    title: str = "x"
    hsn_sac: str = "999293"

    @property
    def taxable_amount(self) -> int:
        return self.unit_price * self.quantity

    @property
    def tax_amount(self) -> int:
        return percent_of(self.taxable_amount, self.tax_rate_bp)


ITEMS = st.lists(
    st.builds(Item, unit_price=st.integers(0, 10_000_000), quantity=st.integers(1, 100), tax_rate_bp=RATES),
    min_size=1,
    max_size=50,
)


@given(items=ITEMS, intra=st.booleans())
def test_tax_split_always_adds_up_to_the_order_total(items, intra):
    order_subtotal = sum(i.taxable_amount for i in items)
    order_total = order_subtotal + sum(i.tax_amount for i in items)
    figures = figures_for_items(items, intra)
    split = figures.split
    assert figures.total == order_total
    assert figures.subtotal + split.cgst + split.sgst + split.igst == order_total
    for line in figures.lines:
        assert line.split.total == line.tax
        assert (line.split.igst == 0) if intra else (line.split.cgst == line.split.sgst == 0)
        assert 0 <= line.split.sgst - line.split.cgst <= 1


@given(tax=st.integers(0, 10**12))
def test_cgst_and_sgst_differ_by_at_most_a_paisa(tax):
    split = split_tax(tax, True)
    assert split.cgst + split.sgst == tax and split.sgst - split.cgst in (0, 1)


@given(parts=st.lists(st.integers(1, 10**6), min_size=1, max_size=10), rate=RATES)
def test_credit_notes_for_the_whole_invoice_credit_exactly_its_tax(parts, rate):
    taxable = sum(parts)
    tax = percent_of(taxable, rate)

    @dataclass
    class Inv:
        tax: int
        total: int

    invoice = Inv(tax, taxable + tax)
    amounts = [*parts[:-1], invoice.total - sum(parts[:-1])]
    credited = credited_tax = 0
    for amount in amounts:
        part_tax = credit_note_tax(invoice, credited, credited_tax, amount)
        assert 0 <= part_tax <= amount
        credited, credited_tax = credited + amount, credited_tax + part_tax
    assert (credited, credited_tax) == (invoice.total, invoice.tax)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.tuples(st.integers(1, 5_000_000), st.integers(1, 5), RATES), min_size=1, max_size=4),
       state=st.sampled_from(["Karnataka", "Kerala"]))  # fmt: skip
def test_issued_invoices_of_real_orders_total_the_order_exactly(paid, lines, state):
    order = paid(state=state, prices=lines)
    invoice = order.invoice
    assert invoice.total == order.total
    assert invoice.subtotal + invoice.cgst + invoice.sgst + invoice.igst == order.total


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (0, "Rupees Zero Only"),
        (118050, "Rupees One Thousand One Hundred Eighty and Fifty Paise Only"),
        (100, "Rupees One Only"),
        (
            1234567801,
            "Rupees One Crore Twenty Three Lakh Forty Five Thousand Six Hundred Seventy Eight and One Paise Only",
        ),
    ],
)
def test_amount_in_words_uses_the_indian_system(amount, words):
    assert amount_in_words(amount) == words


def test_large_numbers_in_words():
    assert number_in_words(10**9) == "One Hundred Crore"
    assert number_in_words(100_000) == "One Lakh"


def test_places_of_supply_compare_without_case_or_spaces():
    assert same_state(" KARNATAKA", "Karnataka")
    assert not same_state("", "Karnataka") and not same_state(None, "Karnataka")
    assert not same_state("Kerala", "Karnataka")


def test_tax_rates_print_without_floats():
    assert [tax_rate(bp) for bp in (1800, 250, 0, 1250)] == ["18%", "2.5%", "0%", "12.5%"]
