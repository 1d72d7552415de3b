"""What the kiosk remembers between taps, in memory, on the monotonic clock.

Four small things, each its own object: who is signed in (the badge session), an
admin's visit to admin after the PIN, which tags were just seen (double taps, a
badge held on the reader), and the last action that can still be undone. They
belong to this kiosk's screen, not to the database: a restart forgets them, which
is what a person at the kiosk expects.
None of them locks: ``LoanService`` runs every operation under its one lock.

Deadlines are monotonic times of the service's clock, so that the screen's
countdowns and the service's decisions agree (the screen reads them from here).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

#: How many UIDs the double-tap memory holds before old ones are forgotten.
SEEN_LIMIT = 512


@dataclass
class Session:
    """A badge tapped: who, and until when (each tap keeps it open)."""

    staff_id: int
    until: float


class Sessions:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._current: Session | None = None

    def current(self, mono: float) -> Session | None:
        """The open session at monotonic time ``mono`` (an expired one is forgotten)."""
        if self._current is not None and mono > self._current.until:
            self._current = None
        return self._current

    def start(self, staff_id: int, mono: float) -> Session:
        self._current = Session(staff_id, mono + self.seconds)
        return self._current

    def keep(self, mono: float) -> None:
        """Someone is still using it (a tap, a button): it stays open ``seconds`` more."""
        if self.current(mono) is not None and self._current is not None:
            self._current.until = mono + self.seconds

    def end(self, staff_id: int | None = None) -> None:
        """End the session (of ``staff_id`` only, when given)."""
        if staff_id is None or (self._current and self._current.staff_id == staff_id):
            self._current = None

    def saved(self) -> Session | None:
        """A copy of the session as it is, for ``restore`` (a tap that was not recorded)."""
        return replace(self._current) if self._current is not None else None

    def restore(self, saved: Session | None) -> None:
        self._current = saved


class Visit:
    """An admin's time in admin after the PIN: until when, kept open by every key or tap."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._until: float | None = None

    def until(self, mono: float) -> float | None:
        if self._until is not None and mono > self._until:
            self._until = None
        return self._until

    def start(self, mono: float) -> float:
        self._until = mono + self.seconds
        return self._until

    def keep(self, mono: float) -> float | None:
        if self.until(mono) is not None:
            self._until = mono + self.seconds
        return self._until

    def end(self) -> None:
        self._until = None


class TapMemory:
    """The same tag again within ``window`` seconds is one tap (a double tap, a held badge)."""

    def __init__(self, window: float) -> None:
        self.window = window
        self._seen: dict[str, float] = {}

    def repeated(self, uid: str, mono: float) -> bool:
        last = self._seen.get(uid)
        self._seen[uid] = mono
        if len(self._seen) > SEEN_LIMIT:
            self._seen = {u: t for u, t in self._seen.items() if mono - t < self.window}
        return last is not None and mono - last < self.window

    def last_seen(self, uid: str) -> float | None:
        return self._seen.get(uid)

    def restore(self, uid: str, last: float | None) -> None:
        """Forget a sighting (a tap that was not recorded): tapping again is a new tap."""
        if last is None:
            self._seen.pop(uid, None)
        else:
            self._seen[uid] = last


@dataclass(frozen=True)
class Undoable:
    """The last sign-out, return or hand-over, and until when it can be undone."""

    action: str  # sign_out | return | hand_over
    loan_id: int
    item_id: int
    previous_loan_id: int | None
    until: float


class UndoSlot:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._last: Undoable | None = None

    def offer(
        self, action: str, loan_id: int, item_id: int, mono: float, previous: int | None = None
    ) -> Undoable:
        self._last = Undoable(action, loan_id, item_id, previous, mono + self.seconds)
        return self._last

    def take(self, mono: float) -> Undoable | None:
        """The action to undo now, or None if there is none or it is too late (it is used up)."""
        last, self._last = self._last, None
        return last if last is not None and mono <= last.until else None

    def available(self, mono: float) -> bool:
        return self._last is not None and mono <= self._last.until

    def saved(self) -> Undoable | None:
        return self._last

    def restore(self, saved: Undoable | None) -> None:
        self._last = saved

    def settle(self, *, item_id: int | None = None, loan_id: int | None = None) -> None:
        """A later action on the same item or loan settles it: it can no longer be undone."""
        last = self._last
        if last is not None and (last.item_id == item_id or last.loan_id == loan_id):
            self._last = None
