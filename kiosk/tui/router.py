"""Where a tap's result goes: hello, yours, back (and its checklist), a return time, refused,
a count of a trolley passed on, and a warning before a damaged item is lent.

Hello, yours and refused are the screens of almost every tap: one instance of each
is kept and filled in again, so a tap costs an update, not a new screen (the
benchmark's tap-to-screen figure depends on it). A tap on the reader always wins:
whatever is showing is replaced by the new result.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import partial
from typing import Any

from textual.screen import Screen

from kiosk.tui.host import Host
from kiosk.tui.screens.checklist import ChecklistScreen
from kiosk.tui.screens.done import DoneScreen
from kiosk.tui.screens.handover_count import HandoverCountScreen
from kiosk.tui.screens.refusal import RefusalScreen
from kiosk.tui.screens.return_time import ReturnTimeScreen
from kiosk.tui.screens.session import SessionScreen
from kiosk.tui.screens.warning import WarningScreen
from kiosk.views import ContentLine, Outcome, TapResult

#: A return checklist: its questions and the item's contents (one checklist screen each).
ChecklistKey = tuple[tuple[str, ...], tuple[ContentLine, ...]]
#: A kept screen: its class, its key among those of its class, and how to make one.
KeptScreen = tuple[type[Screen[Any]], Hashable, Callable[[], Screen[Any]] | None]


def tap_screens(checklists: list[ChecklistKey]) -> list[KeptScreen]:
    """The kept screens a tap can show, most used first (built before the first tap)."""
    screens: list[KeptScreen] = [
        (SessionScreen, None, None),
        (DoneScreen, None, None),
        (RefusalScreen, None, None),
        (ReturnTimeScreen, None, None),
        (WarningScreen, None, None),
    ]
    for key in checklists:
        screens.append((ChecklistScreen, key, partial(ChecklistScreen, *key)))
    # A trolley passed on without coming back asks the next teacher to count its contents.
    for contents in dict.fromkeys(contents for _, contents in checklists if contents):
        screens.append((HandoverCountScreen, contents, partial(HandoverCountScreen, contents)))
    return screens


def present(host: Host, result: TapResult) -> bool:
    """Show a tap's result; False for a tap that needs no answer (a badge held on the reader)."""
    o = result.outcome
    if o is Outcome.IGNORED:
        return False
    if o is Outcome.SESSION_STARTED and result.staff is not None:
        session = host.reusable(SessionScreen)
        session.present(result)
        host.show(session)
    elif o is Outcome.WARNING:
        warning = host.reusable(WarningScreen)
        warning.present(result)
        host.show(warning)
    elif o is Outcome.HANDED_OVER and "count" in result.checklist and result.loan:
        contents = result.loan.item.contents
        count = host.reusable(HandoverCountScreen, contents, lambda: HandoverCountScreen(contents))
        count.present(result)
        host.show(count)
    elif o in (Outcome.SIGNED_OUT, Outcome.HANDED_OVER) and result.asks_return_time and result.loan:
        when_back = host.reusable(ReturnTimeScreen)
        when_back.present(result)
        host.show(when_back)
    elif o is Outcome.RETURNED and result.checklist and result.loan:
        key = (result.checklist, result.loan.item.contents)
        checklist = host.reusable(ChecklistScreen, key, lambda: ChecklistScreen(*key))
        checklist.present(result)
        host.show(checklist)
    elif result.refused:
        refuse(host, result.message, result.detail)
    else:
        undoable = o in (Outcome.SIGNED_OUT, Outcome.HANDED_OVER, Outcome.RETURNED)
        done(
            host, result.message, result.detail, undo_until=result.undo_until if undoable else None
        )
    return True


def done(
    host: Host,
    message: str,
    detail: str = "",
    *,
    undo_until: float | None = None,
    warnings: tuple[str, ...] = (),
) -> None:
    screen = host.reusable(DoneScreen)
    screen.present(message, detail, undo_until=undo_until, warnings=warnings)
    host.show(screen)


def refuse(host: Host, message: str, detail: str) -> None:
    screen = host.reusable(RefusalScreen)
    screen.present(message, detail)
    host.show(screen)
