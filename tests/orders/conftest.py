"""Order service and CLI fixtures."""
