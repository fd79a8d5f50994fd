"""Order service and CLI fixtures."""

from portal.sandbox.testing import sandbox  # noqa: F401  (pytest fixture)
