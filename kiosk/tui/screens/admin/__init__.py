"""Admin at the kiosk: behind an admin badge and its PIN, one screen per job.

``pin`` (the PIN), ``menu`` (the admin menu), ``page`` (what admin pages share: the
admin visit's deadline, kept by every key or tap), ``enrol``, ``stock_take``,
``failed_alerts``, ``import_csv``, ``records`` (staff and items) and ``form``.
"""
