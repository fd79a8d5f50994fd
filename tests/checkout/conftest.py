"""Checkout callback fixtures."""
