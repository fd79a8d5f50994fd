"""flask checkout release-expired [--dry-run] and the release schedule. Owner: checkout stream."""

from __future__ import annotations


def init_app(app) -> None:
    """Placeholder: the owning stream fills it in (blueprint, CLI group, jobs)."""
