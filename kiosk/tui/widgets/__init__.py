"""Widgets shared by several screens, grouped by what they show.

- ``tables``: tables of loans (boards, my items) and histories.
- ``status``: the status line, and console-safe scroll bars.
- ``tag_entry``: the box where a tag number is typed (the keyboard reader).
- ``choices``: a return time in one press, and yes/no questions.
- ``people``: find a person by typing a few letters of their name.
- ``more``: the line under a search's list when more match than it lists.
"""
