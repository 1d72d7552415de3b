"""What staff call a kind ("Trolley key") is as good as its name in the settings."""

from __future__ import annotations

import pytest

from kiosk.records import parse_item

KINDS = {"trolley_key": "Trolley key", "camera": "Class camera", "other": "Item"}


@pytest.mark.parametrize("typed", ["trolley_key", "Trolley key", "TROLLEY KEY", "trolley key"])
def test_a_kind_is_read_by_its_name_or_its_label(typed: str) -> None:
    record = parse_item({"asset_tag": "K1", "name": "iPad trolley", "kind": typed}, KINDS)
    assert record.kind == "trolley_key"


def test_an_unknown_kind_lists_labels_and_names() -> None:
    with pytest.raises(
        ValueError, match=r"is not one of Trolley key \(trolley_key\), Class camera"
    ):
        parse_item({"asset_tag": "K1", "name": "Drone", "kind": "drone"}, KINDS)
