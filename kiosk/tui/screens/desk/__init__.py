"""The office desk at the kiosk: what the office does for people, with an office or admin badge.

``menu`` (Office tasks), ``page`` (what the office's pages share), ``act_for`` (sign out
for someone; lend a class camera once), ``return_for``, ``cards`` (spare cards for the
day), ``badge_off`` (a lost badge), ``problems`` (the open problems list) and
``contents`` (what a trolley holds).
"""
