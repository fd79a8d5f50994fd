"""The one audit trail: every change a person, the gateway or the system makes."""
