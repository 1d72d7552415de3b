"""The school always keeps an active admin with a PIN (kiosk.admins)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.admins import NoAdminLeft, admin_losses, keep_an_admin
from kiosk.db import Staff
from kiosk.loans import LoanService
from kiosk.settings import Settings, load_settings
from tests.conftest import TinySchool


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndb = "{tmp_path / "kiosk.db"}"\n', encoding="utf-8")
    return load_settings(path, env={})


@pytest.fixture
def admin(service: LoanService, tiny_school: TinySchool) -> Staff:
    service.set_pin(tiny_school.admin.id, "2580")
    return Staff.get_by_id(tiny_school.admin.id)


def test_untouched_admin_means_no_loss(admin: Staff, tiny_school: TinySchool) -> None:
    assert admin_losses({tiny_school.khan.id: {"role": "staff", "active": False}}) == []
    keep_an_admin({admin.id: {"name": "Zoe Clarke"}})  # not a field that matters


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"role": "office"}, "would no longer be an admin (role office)"),
        ({"active": False}, "would be switched off (inactive)"),
        ({"pin_hash": ""}, "would have no PIN"),
    ],
)
def test_each_way_of_losing_the_last_admin_is_named(
    admin: Staff, change: dict[str, object], why: str
) -> None:
    (loss,) = admin_losses({admin.id: change})
    assert str(loss) == f"Zoë Clarke (S4) {why}"
    with pytest.raises(NoAdminLeft) as info:
        keep_an_admin({admin.id: change})
    assert str(info.value).startswith(
        f"This would leave no active admin with a PIN: Zoë Clarke (S4) {why}. "
    )
    assert "kiosk set-pin" in str(info.value)


def test_an_admin_switched_back_on_in_the_same_change_counts(
    service: LoanService, admin: Staff, tiny_school: TinySchool
) -> None:
    tiny_school.office.role = "admin"
    tiny_school.office.active = False
    tiny_school.office.save()
    service.set_pin(tiny_school.office.id, "1357")
    assert (
        admin_losses({admin.id: {"active": False}, tiny_school.office.id: {"active": True}}) == []
    )
    assert len(admin_losses({admin.id: {"active": False}})) == 1


def test_no_admin_with_a_pin_yet_refuses_nothing(tiny_school: TinySchool) -> None:
    assert admin_losses({tiny_school.admin.id: {"role": "staff"}}) == []
