"""Messages to customers and staff through a transactional outbox (see docs/notifications.md)."""
