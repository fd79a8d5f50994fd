"""Demo data: a believable shop built through the real services."""
