"""The kiosk screen: a Textual app on top of the loan service and the tag readers.

Screens call the service (through the app's one service thread) and render the
plain results it returns; they never touch the ORM. ``build_app`` in
``kiosk.tui.app`` is the one way to make the app, for the CLI and the tests.
"""
