"""The office board in a browser (``kiosk web``): routes, templates, static files.

Read-only: pages read through the loan package's queries (``reads.Reads``, the one
object the app holds as ``app.state.board``) on a read-only connection to the kiosk's
database; the only file it writes is the web accounts file (``kiosk.accounts``). The web
framework is imported only by ``kiosk.web.app`` and only by the ``kiosk web`` command, so
this package's ``__init__`` imports nothing.
"""
