"""The portal as `gunicorn wsgi:app` serves it, with the API's per-token rate limit raised out of the way.

The benchmark's 16 connections send thousands of requests a minute on a few tokens; at the default
`120 per minute` nearly every answer would be a 429. The limiter still runs (and counts in Redis when
REDIS_URL is set, as in production): only the number it compares with changes.
"""

from __future__ import annotations

import os

from portal import create_app

app = create_app()
app.config["API_RATE_LIMIT"] = os.environ.get("BENCH_API_RATE_LIMIT", "1000000 per minute")
