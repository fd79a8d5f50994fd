"""Gateway fixtures: the sandbox driver and the raw SDK client, shared with tests/sandbox."""

from tests.sandbox.conftest import rzp, sdk_client  # noqa: F401  (pytest fixtures)
