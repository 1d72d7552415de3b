"""Alerts: the rules that decide which exist, and their delivery from the outbox.

- ``rules``: time-based alerts (overdue, escalation, end-of-day summary).
- ``delivery``: routes each alert to its channels and sends it, at least once,
  with leases, back-off and per-loan order.
- ``channels``: signed webhook, Microsoft Teams (Workflows), email.
- ``signing``: Standard Webhooks signatures, and ``verify`` for the receiving side.
- ``status``: the "last delivered, waiting, failed" line and "retry failed alerts".
- ``runner``: one pass, and the loop ``kiosk sync`` runs.
"""
