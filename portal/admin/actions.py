"""What every admin action view shares: answering success or refusal alike
for a plain form post (flash + redirect, or the page with its status) and for HTMX (the partial)."""

from __future__ import annotations

from flask import abort, flash, redirect
from flask_login import current_user

from portal.history.services import Actor
from portal.htmx import is_partial, render


def actor() -> Actor:
    return Actor.user(current_user)


def first_error(form) -> str:
    for errors in form.errors.values():
        if errors:
            return errors[0]
    return "The form is not valid."


def answer(page: str, partial: str, *, status: int, message: str, success_url: str, context: dict):
    """Success: flash + redirect (plain post) or the updated partial (HTMX). Refusal: the page or the
    partial with the refusal's status and message, so nothing is ever half-shown."""
    tone = "success" if status < 400 else "error"
    if status < 400 and not is_partial():
        flash(message, tone)
        return redirect(success_url, 303)
    return render(page, partial, status, message=message, tone=tone, **context)


def require_found(entity):
    if entity is None:
        abort(404)
    return entity


def sync_outcome(report) -> tuple[int, str]:
    """(status, message) for a reconcile SyncReport: gateway trouble is reported on it, not raised."""
    if getattr(report, "error", None):
        return 503, f"Could not sync with the gateway; nothing was changed. ({report.error})"
    lines = report.lines() if hasattr(report, "lines") else []
    return 200, " ".join(lines) or "Synced from the gateway."
