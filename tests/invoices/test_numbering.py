"""Gapless numbering: financial years, the GST format, and concurrent issuers on PostgreSQL."""

import threading
from datetime import date, datetime

import pytest
from sqlalchemy import select

from portal.history.services import Actor
from portal.invoices.models import DocumentSequence, Invoice
from portal.invoices.numbering import NumberFormatError, financial_year, format_number, next_sequence
from portal.invoices.services import issue_invoice
from portal.timeutil import local_date


@pytest.mark.parametrize(
    ("day", "fy"),
    [(date(2026, 3, 31), "2025-26"), (date(2026, 4, 1), "2026-27"), (date(2027, 3, 31), "2026-27"),
     (date(2099, 12, 31), "2099-00")],
)  # fmt: skip
def test_financial_year_runs_april_to_march(day, fy):
    assert financial_year(day) == fy


def test_the_date_is_taken_in_india_by_default(app):
    # 31 March 2026, 19:00 UTC is already 1 April in India: the new financial year.
    assert local_date(datetime(2026, 3, 31, 19, 0)) == date(2026, 4, 1)
    assert financial_year(local_date(datetime(2026, 3, 31, 18, 29))) == "2025-26"


def test_invoice_numbers_follow_the_business_time_zone(app, monkeypatch, paid, no_auto_invoice):
    # 1 April 2026, 02:00 UTC is 07:30 on 1 April in Kolkata but still 31 March in New York.
    moment = datetime(2026, 4, 1, 2, 0)
    monkeypatch.setitem(app.config, "TIMEZONE", "America/New_York")
    invoice = issue_invoice(paid().id, actor=Actor.system("test"), issued_at=moment)
    assert invoice.issued_at == moment
    assert (invoice.financial_year, invoice.number) == ("2025-26", "INV/25-26/00001")
    monkeypatch.setitem(app.config, "TIMEZONE", "Asia/Kolkata")
    later = issue_invoice(paid().id, actor=Actor.system("test"), issued_at=moment)
    assert (later.financial_year, later.number) == ("2026-27", "INV/26-27/00001")


def test_number_format_and_limits():
    assert format_number("INV", "2026-27", 1) == "INV/26-27/00001"
    assert len(format_number("ABCD", "2026-27", 99999)) == 16
    with pytest.raises(NumberFormatError, match="longer than 16"):
        format_number("ABCD", "2026-27", 100000)
    with pytest.raises(NumberFormatError, match="letters, digits"):
        format_number("IN V", "2026-27", 1)


def test_series_and_years_count_separately(db):
    values = [next_sequence("invoice", "2026-27"), next_sequence("invoice", "2026-27"),
              next_sequence("credit_note", "2026-27"), next_sequence("invoice", "2027-28")]  # fmt: skip
    db.session.commit()
    assert values == [1, 2, 1, 1]
    assert len(db.session.scalars(select(DocumentSequence)).all()) == 3


def test_a_rolled_back_number_is_taken_again(db):
    next_sequence("invoice", "2026-27")
    db.session.commit()
    assert next_sequence("invoice", "2026-27") == 2
    db.session.rollback()
    assert next_sequence("invoice", "2026-27") == 2


def test_twenty_concurrent_issues_get_twenty_consecutive_numbers(
    postgres, paid, no_auto_invoice, jobs_wait_for_a_worker
):
    order_ids = [paid().id for _ in range(20)]
    start, errors = threading.Barrier(20), []

    def issue(order_id):
        with postgres.app_context():
            try:
                start.wait(timeout=30)
                issue_invoice(order_id, actor=Actor.system("race"))
            except Exception as exc:  # collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=issue, args=(oid,)) for oid in order_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    from portal.extensions import db

    db.session.expire_all()
    numbers = db.session.scalars(select(Invoice.sequence_no).order_by(Invoice.sequence_no)).all()
    assert numbers == list(range(1, 21))
    assert len(set(db.session.scalars(select(Invoice.number)))) == 20


def outcomes_number(outcomes) -> str:
    issued = [o for o in outcomes if o.startswith("INV/")]
    assert len(issued) == 1, outcomes
    return issued[0][4:]


def test_concurrent_issues_for_one_order_make_one_invoice(postgres, paid, no_auto_invoice):
    order_id = paid().id
    start, outcomes = threading.Barrier(5), []

    def issue():
        with postgres.app_context():
            start.wait(timeout=30)
            try:
                outcomes.append(issue_invoice(order_id, actor=Actor.system("race")).number)
            except Exception as exc:
                outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=issue) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == sorted(["InvoiceExists"] * 4 + ["INV/" + outcomes_number(outcomes)])
    from portal.extensions import db

    assert db.session.scalars(select(Invoice.sequence_no)).all() == [1]
