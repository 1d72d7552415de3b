"""What keeps a tap's redraw short, and that it changes nothing a person can see.

- The screens of a tap are built once the idle screen is up (``warm_up``), not by the
  first tap of each kind; taps afterwards show exactly what they show without it.
- A screen coming back to the front is not restyled whole unless the app's styles have
  changed (a theme set meanwhile still reaches it).
- The garbage collector is kept out of taps: what lives on is frozen at rest, and looked
  at again in full once it has grown.
- A table of loans given the loans it shows already is left as it is (the idle board is
  read again each time the kiosk goes back to it); any change rebuilds it.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.color import Color
from textual.pilot import Pilot
from textual.screen import Screen
from textual.theme import Theme
from textual.widgets import Static

from hardware.base import KeyboardReader, NullFeedback
from kiosk.clock import ManualClock
from kiosk.db import open_database
from kiosk.loans import LoanService
from kiosk.settings import Settings
from kiosk.tui import app as app_module
from kiosk.tui import router
from kiosk.tui.app import KioskApp, build_app, collect_at_rest
from kiosk.tui.screens.checklist import ChecklistScreen
from kiosk.tui.screens.done import DoneScreen
from kiosk.tui.screens.idle import IdleScreen
from kiosk.tui.screens.session import SessionScreen
from kiosk.tui.widgets.tables import LoanTable
from sync.status import AlertDesk
from tests.kiosk.tui.conftest import _SEEDED
from tests.kiosk.tui.tui_helpers import MONDAY_9AM, later, screen_text, settle, tap

KHAN = "B0000014"  # Ms Khan, 5B
CAMERA_5B = "CA00005B"
TRIP_PHONE_1 = "F0000001"
TRIP_PHONE_2_OUT = "F0000002"  # out: tapped alone, it comes back with a checklist
IPAD_A_OUT = "AD00000A"  # out with Mrs Clarke: its return counts the iPads
IPAD_B = "AD00000B"  # in the office


def warm_app(service: LoanService, **kwargs: Any) -> KioskApp:
    return build_app(
        service,
        [KeyboardReader()],
        NullFeedback(),
        alerts=AlertDesk(service.clock),
        console_colours=False,
        warm_up=True,
        **kwargs,
    )


async def warmed(pilot: Pilot[Any]) -> None:
    """Wait (on the app's own flag, a bounded number of turns) until warm-up is done."""
    app = pilot.app
    assert isinstance(app, KioskApp)
    for _ in range(2000):
        if app.warmed:
            break
        await pilot.pause(0.005)
    assert app.warmed, "the screens of a tap were never built"
    await settle(pilot)


@pytest.fixture
def gc_restored() -> Iterator[None]:
    """The collector is process-wide: put it back as it was (nothing frozen)."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    gc.enable()


# --- the screens of a tap, built ahead -------------------------------------------------


@pytest.mark.asyncio
async def test_warm_up_builds_every_screen_a_tap_shows_behind_the_idle_screen(
    demo_service: LoanService,
) -> None:
    app = warm_app(demo_service)
    async with app.run_test(size=(100, 30)) as pilot:
        await warmed(pilot)
        assert isinstance(app.screen, IdleScreen) and len(app.screen_stack) == 1
        kept = {type(s) for s in app._reusable.values()}
        assert {SessionScreen, DoneScreen, ChecklistScreen} <= kept
        assert all(s.is_mounted for s in app._reusable.values())
        # Built, not shown: no screen was counted as drawn but the idle screen.
        assert app.screens_drawn == 1
        checklists = demo_service.return_checklists()
        built = {key for (cls, key) in app._reusable if cls is ChecklistScreen}
        assert built == set(checklists)


@pytest.mark.asyncio
async def test_every_return_of_the_demo_school_finds_its_checklist_screen_built(
    demo_service: LoanService,
) -> None:
    """The keys warm-up builds are the keys a return asks for (router.present)."""
    keys = set(demo_service.return_checklists())
    for item in demo_service.find_items():
        if item.status in ("retired", "lost"):
            continue
        checks = tuple(demo_service.settings.kind(item.kind).checklist)
        if checks:
            assert (checks, item.contents) in keys, item.name
    screens = router.tap_screens(list(keys))
    assert [cls for cls, _, _ in screens[:2]] == [SessionScreen, DoneScreen]


async def _taps_seen(app: KioskApp, pilot: Pilot[Any]) -> list[str]:
    seen = []
    for uid, wait in [
        (KHAN, 3),
        (CAMERA_5B, 40),  # signed out; the session ends
        (CAMERA_5B, 3),  # back: the camera's checklist
        (KHAN, 3),
        (TRIP_PHONE_1, 3),  # when will you be back
        (IPAD_A_OUT, 3),  # someone else's trolley, back: counts
        (TRIP_PHONE_2_OUT, 3),
        ("04FFFFFF", 3),  # not a tag the kiosk knows
    ]:
        await tap(pilot, uid)
        seen.append(f"{type(app.screen).__name__}\n{screen_text(app)}")
        await later(pilot, wait)
    return seen


@pytest.mark.asyncio
async def test_taps_show_the_same_with_and_without_warm_up(
    demo_service: LoanService, settings: Settings, tmp_path: Path
) -> None:
    plain = build_app(
        demo_service,
        [KeyboardReader()],
        NullFeedback(),
        alerts=AlertDesk(demo_service.clock),
        console_colours=False,
    )
    async with plain.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        expected = await _taps_seen(plain, pilot)
    # The same school again, untouched, on a clock at the same Monday morning.
    second = tmp_path / "again.db"
    second.write_bytes(_SEEDED["db"])
    db = open_database(second)
    try:
        again = LoanService(settings, ManualClock(wall=MONDAY_9AM))
        warm = warm_app(again)
        async with warm.run_test(size=(100, 30)) as pilot:
            await warmed(pilot)
            built = dict(warm._reusable)
            assert await _taps_seen(warm, pilot) == expected
            assert warm._reusable == built, "a tap had to build a screen of its own"
    finally:
        db.close()


@pytest.mark.asyncio
async def test_a_tap_while_the_screens_are_being_built_is_shown(
    demo_service: LoanService,
) -> None:
    app = warm_app(demo_service)
    async with app.run_test(size=(100, 30)) as pilot:
        while not app.ready:
            await pilot.pause(0.001)
        assert not app.warmed  # building has only just started
        await tap(pilot, KHAN)
        assert isinstance(app.screen, SessionScreen)
        assert "Ms Khan" in screen_text(app)
        await warmed(pilot)
        assert isinstance(app.screen, SessionScreen)  # building never takes the front
        await tap(pilot, CAMERA_5B)
        assert isinstance(app.screen, DoneScreen)


# --- a screen shown again is not restyled whole -----------------------------------------


@pytest.mark.asyncio
async def test_a_kept_screen_shown_again_is_not_restyled_whole(app: KioskApp) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await tap(pilot, KHAN)
        session = app.screen
        assert isinstance(session, SessionScreen)
        await later(pilot, 40)  # back to idle
        assert isinstance(app.screen, IdleScreen)
        restyled: list[object] = []
        update = app.update_styles

        def counting(node: Any, animate: bool = True) -> None:
            restyled.append(node)
            update(node, animate=animate)

        app.update_styles = counting  # type: ignore[method-assign]
        await tap(pilot, KHAN)
        assert app.screen is session
        assert session not in restyled, "the whole screen was restyled on its way back"


async def _message_colour(app: KioskApp, pilot: Pilot[Any], item: str) -> tuple[Color, ...]:
    """The confirmation's colours after Ms Khan signs ``item`` out: its words, their
    background and the screen's."""
    await tap(pilot, KHAN)
    await tap(pilot, item)
    screen = app.screen
    assert isinstance(screen, DoneScreen)
    message = screen.query_one("#message", Static).styles
    colours = (message.color, message.background, screen.styles.background)
    await later(pilot, 40)
    return colours


@pytest.mark.asyncio
async def test_a_theme_set_while_a_screen_was_away_reaches_it(
    demo_service: LoanService, settings: Settings, tmp_path: Path
) -> None:
    app = warm_app(demo_service)
    async with app.run_test(size=(100, 30)) as pilot:
        await warmed(pilot)
        dark = await _message_colour(app, pilot, CAMERA_5B)
        app.theme = "textual-light"
        await settle(pilot)
        light = await _message_colour(app, pilot, IPAD_B)
    assert light != dark
    # What a kiosk started with that theme shows.
    second = tmp_path / "again.db"
    second.write_bytes(_SEEDED["db"])
    db = open_database(second)
    try:
        fresh = warm_app(LoanService(settings, ManualClock(wall=MONDAY_9AM)))
        async with fresh.run_test(size=(100, 30)) as pilot:
            fresh.theme = "textual-light"
            await warmed(pilot)
            assert await _message_colour(fresh, pilot, IPAD_B) == light
    finally:
        db.close()


@pytest.mark.asyncio
async def test_theme_lookups_follow_registered_themes(app: KioskApp) -> None:
    assert app.get_theme("kiosk-test") is None
    theme = Theme(name="kiosk-test", primary="#004578")
    app.register_theme(theme)
    assert app.get_theme("kiosk-test") is theme
    app.unregister_theme("kiosk-test")
    assert app.get_theme("kiosk-test") is None


# --- the garbage collector --------------------------------------------------------------


class _Node:
    """An object in a reference cycle: only the collector can free it."""

    def __init__(self) -> None:
        self.me = self


def test_what_is_frozen_at_rest_is_looked_at_again_once_it_has_grown(
    gc_restored: None,
) -> None:
    after_full = collect_at_rest(0)  # nothing counted yet: a full look
    assert after_full == gc.get_freeze_count() > 0
    node = _Node()
    gone = weakref.ref(node)
    assert collect_at_rest(after_full) == after_full  # the node is alive: frozen with the rest
    del node
    collect_at_rest(gc.get_freeze_count())
    assert gone() is not None, "frozen cyclic garbage is not looked at before the growth"
    # Once the frozen objects have grown past REFREEZE_GROWTH times the last full count,
    # all of them are looked at again.
    small = int(gc.get_freeze_count() / app_module.REFREEZE_GROWTH) - 1
    assert collect_at_rest(small) == gc.get_freeze_count()
    assert gone() is None


@pytest.mark.asyncio
async def test_the_kiosk_process_freezes_what_start_up_and_warm_up_built(
    demo_service: LoanService, gc_restored: None
) -> None:
    gc.disable()  # as ``kiosk run`` starts (kiosk.launch, kiosk.commands.run)
    app = warm_app(demo_service, tune_gc=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await warmed(pilot)
        assert gc.isenabled(), "the collector stayed off after the screens were built"
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold()[2] == app_module.FULL_GC_EVERY
        session = app._reusable[(SessionScreen, None)]
        # Frozen: no collection (during a tap or at rest) looks at the screens built ahead.
        assert not any(o is session for o in gc.get_objects())


def test_kept_screens_are_the_ones_the_router_shows() -> None:
    screens = router.tap_screens([(("damage",), ())])
    classes = [cls for cls, _, _ in screens]
    assert classes[-1] is ChecklistScreen
    make = screens[-1][2]
    assert make is not None
    made = make()
    assert isinstance(made, Screen) and isinstance(made, ChecklistScreen)
    assert made.checks == ("damage",)


@pytest.mark.asyncio
async def test_the_board_read_again_unchanged_is_left_as_it_is_and_a_change_is_shown(
    app: KioskApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, IdleScreen)
        table = app.screen.query_one(LoanTable)
        board = list(table.loans)
        assert board and table.row_count == len(board)
        shown: list[int] = []
        cleared: list[int] = []
        show, clear = table.show, table.clear

        def counted_show(loans: Any) -> None:
            shown.append(1)
            show(loans)

        def counted_clear(columns: bool = False) -> LoanTable:
            cleared.append(1)
            return clear(columns)

        monkeypatch.setattr(table, "show", counted_show)
        monkeypatch.setattr(table, "clear", counted_clear)
        await tap(pilot, KHAN)
        app.go_idle()
        await settle(pilot)
        assert isinstance(app.screen, IdleScreen)
        assert shown and not cleared  # read again: the same loans, nothing rebuilt
        assert table.loans == board and table.row_count == len(board)

        late = board[-1]._replace(overdue=True)
        table.show([late, *board[:-1]])
        await settle(pilot)
        assert cleared == [1] and table.loans[0] == late
        assert f"OVERDUE {late.item.name}" in screen_text(app)
