"""/admin/jobs with JavaScript on: retry a failed run from its row (HTMX swaps the row)."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from portal.extensions import db
from portal.jobs.models import JobRun
from tests.jobs import sample_tasks


def test_retry_a_failed_job_from_its_row(page, login, sent):
    sample_tasks.reset()
    sample_tasks.flaky("browser-1")
    failed = db.session.scalar(select(JobRun))
    admin = login(page, "admin")
    page.goto("/admin/jobs")
    row = page.locator(f"#job-run-{failed.id}")
    expect(row.locator(".badge")).to_have_text("error")
    row.locator("summary").click()
    expect(row.locator("pre")).to_contain_text("ConnectionError: gateway timed out for browser-1")

    row.get_by_role("button", name="Retry").click()

    expect(row).to_contain_text(f"Retried by {admin.email}")
    expect(row.get_by_role("button", name="Retry")).to_have_count(0)
    assert sent.htmx(), "the retry went through htmx, not the no-JS form"
    sent.assert_csrf_only_in_header()
    db.session.rollback()
    runs = db.session.scalars(select(JobRun).order_by(JobRun.id)).all()
    assert [(r.task_name, r.status) for r in runs] == [("flaky", "error"), ("flaky", "complete")]
    assert sample_tasks.calls == [("flaky", "browser-1")]
    sample_tasks.reset()
