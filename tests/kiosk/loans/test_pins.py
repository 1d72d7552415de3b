"""Admin PINs: the lockout after wrong ones, never for a non-admin."""

from __future__ import annotations

import pytest

from kiosk.db import Staff
from kiosk.errors import Refused


def test_admin_pin_locks_after_five_wrong_tries(service, clock, school):
    service.set_pin(school.admin.id, "2468")
    assert service.check_admin_pin(school.admin.id, "2468") is True
    for _ in range(4):
        assert service.check_admin_pin(school.admin.id, "0000") is False
    with pytest.raises(Refused, match="locked for 5 minutes"):
        service.check_admin_pin(school.admin.id, "0000")
    with pytest.raises(Refused, match="locked"):
        service.check_admin_pin(school.admin.id, "2468")
    clock.advance(301)
    assert service.check_admin_pin(school.admin.id, "2468") is True


def test_pin_of_a_non_admin_never_opens_admin(service, clock, school):
    Staff.update(pin_hash=Staff.get_by_id(school.admin.id).pin_hash).execute()
    assert service.check_admin_pin(school.khan.id, "1234") is False
