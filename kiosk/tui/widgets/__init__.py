"""Widgets shared by several screens, grouped by what they show.

- ``tables``: tables of loans (boards, my items) and histories.
- ``status``: the status line, and console-safe scroll bars.
- ``tag_entry``: the box where a tag number is typed (the keyboard reader).
- ``choices``: a return time in one press, and yes/no questions.
"""
