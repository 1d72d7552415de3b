"""Replication of every kiosk's journal to the trust's PostgreSQL, and the trust's view.

A multi-academy trust wants one view of all its schools; each kiosk stays
offline-first on its own SQLite and sends what changed when it can.

- ``tables``: which tables and columns leave the kiosk (an explicit list per
  table; UIDs, PIN hashes, emails and free text stay behind). No psycopg.
- ``changes``: the kiosk's change journal (SQLite triggers, ``kiosk.db`` schema 6)
  read without a write lock. No psycopg.
- ``connect``: the credentials file and its checks (mode, TLS), connecting with time-outs.
- ``push``: ``Pusher``, run by ``kiosk sync`` after delivery: journal order, at least
  once, idempotent upserts keyed on (kiosk id, row id), full reconcile after a restore.
- ``schema``: versioned SQL migrations (``migrations/*.sql``) and the commands that add
  schools, kiosk roles and readers (``kiosk trust ...``).
- ``view``: the read API for the trust's pages (``TrustView``), plain frozen results.

Only ``connect``, ``push``, ``schema`` and ``view`` import psycopg, and only ``kiosk sync`` (with
``[trust]`` set), ``kiosk trust`` and the web's trust pages import those.
"""
