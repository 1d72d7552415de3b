"""Alerts: the rules that decide which exist, and their delivery from the outbox."""
