"""/admin/jobs: admins only; the run log with its filters, the schedule, and retry of a failed run."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.jobs.models import JobRun
from tests.helpers import extract_csrf
from tests.jobs import sample_tasks


def _runs():
    return list(db.session.scalars(select(JobRun).order_by(JobRun.id)))


@pytest.mark.parametrize("role", ["viewer", "finance"])
def test_the_jobs_page_is_for_admins_only(client, auth, role):
    auth.login_as(role)
    assert client.get("/admin/jobs").status_code == 403


def test_the_jobs_page_needs_a_sign_in(client):
    assert client.get("/admin/jobs").status_code in (302, 401)


def test_the_page_shows_runs_failures_and_the_schedule(client, auth):
    sample_tasks.remember(5)
    sample_tasks.always_fails(6)
    auth.login_as("admin")
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "purge_job_runs" in page and "17 3 * * *" in page  # the schedule
    assert "ValueError: boom 6" in page and "<details>" in page and "Traceback" in page
    assert 'href="/admin/jobs"' in page  # the nav link
    assert "0</strong> queued" in page


def test_the_run_log_filters_by_status_and_task(client, auth):
    sample_tasks.remember(5)
    sample_tasks.always_fails(6)
    auth.login_as("admin")
    failed = client.get("/admin/jobs?status=error", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert failed.startswith('<div id="job-runs"') and "always_fails" in failed and "remember" not in failed
    by_task = client.get("/admin/jobs?task=remember").get_data(as_text=True)
    assert "ValueError: boom 6" not in by_task and "remember" in by_task
    assert client.get("/admin/jobs?status=nonsense&before=abc").status_code == 200


def test_the_nav_link_is_only_shown_to_admins(client, auth):
    auth.login_as("finance")
    assert 'href="/admin/jobs"' not in client.get("/admin/orders").get_data(as_text=True)


def test_retrying_a_failed_run_enqueues_its_task_again_with_its_arguments(client, auth, caplog):
    sample_tasks.flaky("order-9")
    (failed,) = _runs()
    admin = auth.login_as("admin")
    token = extract_csrf(client.get("/admin/jobs").get_data(as_text=True))

    with caplog.at_level("INFO", logger="portal.jobs"):
        response = client.post(f"/admin/jobs/{failed.id}/retry", data={"csrf_token": token})

    assert response.status_code == 302
    assert sample_tasks.calls == [("flaky", "order-9")]
    first, again = _runs()
    assert (again.task_name, again.args, again.status) == ("flaky", ["order-9"], "complete")
    assert first.retried_by == admin.email and first.retried_at is not None
    assert f"{admin.email} retried job run {failed.id}" in caplog.text
    assert "enqueued again" in client.get("/admin/jobs").get_data(as_text=True)


def test_a_retry_from_htmx_answers_the_rows_partial(client, auth):
    sample_tasks.flaky("order-10")
    (failed,) = _runs()
    auth.login_as("admin")
    token = extract_csrf(client.get("/admin/jobs").get_data(as_text=True))
    response = client.post(f"/admin/jobs/{failed.id}/retry", headers={"HX-Request": "true", "X-CSRFToken": token})
    row = response.get_data(as_text=True)
    assert response.status_code == 200 and row.startswith(f'<tr id="job-run-{failed.id}"')
    assert "Retried by" in row and "Retry</button>" not in row


def test_a_run_is_retried_once_and_only_failed_runs_are(client, auth):
    sample_tasks.flaky("order-11")
    sample_tasks.remember(1)
    failed, done = _runs()
    auth.login_as("admin")
    token = extract_csrf(client.get("/admin/jobs").get_data(as_text=True))
    client.post(f"/admin/jobs/{failed.id}/retry", data={"csrf_token": token})
    htmx = {"HX-Request": "true", "X-CSRFToken": token}
    assert client.post(f"/admin/jobs/{failed.id}/retry", headers=htmx).status_code == 409
    assert client.post(f"/admin/jobs/{done.id}/retry", headers=htmx).status_code == 409
    assert client.post("/admin/jobs/999999/retry", headers=htmx).status_code == 404
    refused = client.post(f"/admin/jobs/{done.id}/retry", data={"csrf_token": token}, follow_redirects=True)
    assert "only failed runs can be retried" in refused.get_data(as_text=True)
    assert len(_runs()) == 3


def test_retry_without_a_csrf_token_is_refused(client, auth):
    sample_tasks.always_fails(1)
    (failed,) = _runs()
    auth.login_as("admin")
    assert client.post(f"/admin/jobs/{failed.id}/retry").status_code == 400
    assert db.session.get(JobRun, failed.id).retried_at is None


def test_retry_is_for_admins_only(client, auth):
    sample_tasks.always_fails(1)
    (failed,) = _runs()
    auth.login_as("finance")
    token = extract_csrf(client.get("/admin/orders").get_data(as_text=True))
    assert client.post(f"/admin/jobs/{failed.id}/retry", data={"csrf_token": token}).status_code == 403
