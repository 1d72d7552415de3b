"""The kiosk app: readers in, service calls on one background thread, screens out.

The app is the ``Host`` screens talk to (``kiosk.tui.host``); where a result goes
is the router's business (``kiosk.tui.router``). Threads and ordering: readers call
``emit`` from their own threads; that only posts a ``ReaderReported`` message. The
UI thread decides where a tag goes (the service, or the screen in front when it
has asked to collect tags, as enrolment and the stock-take do: ``capture_tags``)
and queues a job. Every service call runs on ONE service thread, in the order
it was asked for: a badge tap is always handled before the item tap after it,
and SQLite sees one connection from the app. Results come back as messages
(``TagHandled``, ``ServiceCallFinished``); the UI thread never waits on the
database, so the screen answers even while a slow query runs.

The LEDs and buzzer are answered on the service thread, the moment the service
has decided, before the screen is redrawn.

Time: a few times a second the app ticks the screen in front with the service
clock's monotonic time (``tick``); screens give up at deadlines on that clock,
many of them the service's own (the badge session's end, the undo window, the
admin visit), so the screen and the service never disagree about what is open.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual.app import App
from textual.screen import Screen
from textual.scrollbar import ScrollBar
from textual.theme import Theme

from hardware.base import Feedback, KeyboardReader, Reader
from hardware.events import ReaderBack, ReaderEvent, ReaderLost, TagSeen
from kiosk.clock import Clock
from kiosk.errors import KioskError
from kiosk.loans import LoanService
from kiosk.tui.host import AlertDesk, Status, TagHandler
from kiosk.tui.messages import Job, ReaderReported, ServiceCallFinished, TagHandled
from kiosk.tui.screens.base import KioskScreen
from kiosk.tui.screens.idle import IdleScreen
from kiosk.tui.widgets.status import ConsoleScrollBar
from kiosk.tui.widgets.tag_entry import TagEntry
from kiosk.views import DeliverySummary, Outcome, TapResult

if TYPE_CHECKING:
    # Loaded (with the screens of a tap) once the idle screen is up, by the warm-up or
    # by a tap that comes sooner: not before the kiosk says it is ready.
    from kiosk.tui import router

log = logging.getLogger(__name__)

S = TypeVar("S", bound=Screen[Any])

#: Young collections between two full ones while the app runs (Python's default is 10).
FULL_GC_EVERY = 50

#: Objects frozen at rest may grow to this many times the count after the last full look.
REFREEZE_GROWTH = 2.0

#: How often the idle board and the status line are refreshed with no tap (overdue changes).
REFRESH_SECONDS = 30.0

#: How often the screen in front is told the time (countdowns, deadlines).
TICK_SECONDS = 0.25


class KioskApp(App[None]):
    """The kiosk screen. Build it with ``build_app``."""

    CSS_PATH = "kiosk.tcss"
    ENABLE_COMMAND_PALETTE = False
    TITLE = "Sign-out kiosk"

    def __init__(
        self,
        service: LoanService,
        readers: Sequence[Reader],
        feedback: Feedback,
        *,
        clock: Clock,
        alerts: AlertDesk,
        exit_when_ready: bool = False,
        console_colours: bool = False,
        tune_gc: bool = False,
        warm_up: bool = False,
        on_ready: Callable[[], object] | None = None,
        every_second: Callable[[], object] | None = None,
    ) -> None:
        super().__init__()
        self.service = service
        self.readers = list(readers)
        self.feedback = feedback
        self.clock = clock
        self.calendar = service.calendar
        self.settings = service.settings
        self.alerts = alerts
        self._exit_when_ready = exit_when_ready
        self._console_colours = console_colours
        self._tune_gc = tune_gc
        self._warm_up = warm_up
        #: How many objects were frozen after the last collection that looked at them all.
        self._frozen_after_full = 0
        self._on_ready = on_ready
        self._every_second = every_second
        self.keyboard_reader = next(
            (r for r in self.readers if isinstance(r, KeyboardReader)), None
        )
        self.reader_state: dict[str, tuple[bool, str]] = {r.name: (True, "") for r in readers}
        self._clock_synced = True
        self._delivery: tuple[DeliverySummary | None, str] = (None, "")
        self._capture: tuple[Screen[Any], TagHandler] | None = None
        self._reusable: dict[tuple[type[Screen[Any]], Hashable], Screen[Any]] = {}
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._pending = 0
        #: Taps handed to the service whose result has not been shown yet.
        self._taps_in_flight = 0
        self._stop = threading.Event()
        #: Counts tap results given to a screen (tests and the benchmark wait on it).
        self.taps_shown = 0
        #: Counts result screens drawn (new or filled in again), and when the last one was.
        self.screens_drawn = 0
        self.last_drawn_at = 0.0
        self.ready = False
        #: The screens of a tap have been built (``warm_up``), or there was nothing to build.
        self.warmed = False

    # --- themes -----------------------------------------------------------------------

    #: Themes looked up so far, by name; forgotten when a theme is (un)registered.
    _themes_seen: dict[str, Theme | None] | None = None

    def get_theme(self, theme_name: str) -> Theme | None:
        """Textual's lookup, remembered.

        Textual copies its table of themes on every call, and drawing asks for the
        current theme once per line of every widget drawn: about a tenth of a tap's
        redraw. The answer changes only when a theme is registered or removed.
        """
        if self._themes_seen is None:
            self._themes_seen = {}
        if theme_name not in self._themes_seen:
            self._themes_seen[theme_name] = super().get_theme(theme_name)
        return self._themes_seen[theme_name]

    def register_theme(self, theme: Theme) -> None:
        self._themes_seen = None
        super().register_theme(theme)

    def unregister_theme(self, theme_name: str) -> None:
        self._themes_seen = None
        super().unregister_theme(theme_name)

    # --- start and stop ---------------------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        return IdleScreen()

    @property
    def has_keyboard_reader(self) -> bool:
        return self.keyboard_reader is not None

    @property
    def status(self) -> Status:
        delivery, error = self._delivery
        return Status(dict(self.reader_state), self._clock_synced, delivery, error)

    def on_mount(self) -> None:
        if self._console_colours:
            self.theme = "ansi-dark"
        ScrollBar.renderer = ConsoleScrollBar
        self.run_worker(self._service_loop, thread=True, name="service", exit_on_error=True)
        for reader in self.readers:
            try:
                reader.start(self._emit)
            except Exception as exc:
                # Shown as OFFLINE, not fatal: the office can still read the board. Under
                # systemd the watchdog (every reader alive) then restarts the kiosk to retry.
                log.exception("reader %s did not start", reader.name)
                self.reader_state[reader.name] = (False, str(exc))
                self.feedback.reader_lost()
        self.refresh_status()
        self.set_interval(REFRESH_SECONDS, self.refresh_status)
        self.set_interval(TICK_SECONDS, self.tick)
        if self._every_second is not None:
            # Runs on the UI loop: it stops if the loop freezes (the systemd watchdog's cue).
            self.set_interval(1.0, self._every_second)

    def on_unmount(self) -> None:
        self._stop.set()
        self._jobs.put(None)
        for reader in self.readers:
            try:
                reader.stop()
            except Exception:
                log.exception("reader %s did not stop cleanly", reader.name)
        self.feedback.close()

    def screen_drawn(self) -> None:
        """Called by each screen after its first refresh: the moment a person can read it."""
        self.screens_drawn += 1
        self.last_drawn_at = time.perf_counter()

    def idle_ready(self) -> None:
        """Called by the idle screen once its board is drawn."""
        if not self.ready:
            self.ready = True
            log.info("idle screen ready")
            if self._on_ready is not None:
                self._on_ready()
            if self._exit_when_ready:
                self.exit()
            elif self._warm_up:
                self.call(self.service.return_checklists, self._build_tap_screens)
            else:
                self._warmed_up()

    def _build_tap_screens(self, checklists: list[router.ChecklistKey]) -> None:
        from kiosk.tui import router

        self.run_worker(self._build_screens(router.tap_screens(checklists)), group="warm-up")

    async def _build_screens(self, screens: list[router.KeptScreen]) -> None:
        """Build the screens a tap shows, once the idle screen is up and before anyone taps.

        Building a screen (its widgets, their styles, its first layout) is most of the
        first tap of each kind: 100-200 ms here, three or four times that at a Pi's speed.
        Built now, while the kiosk waits for its first person, each first tap only fills
        its screen in, like every tap after it. One screen at a time, so a tap that comes
        meanwhile is handled between two of them.

        Textual builds a screen when it is first shown; ``_get_screen`` is the step of
        ``push_screen`` that builds it, ``_refresh_layout`` lays it out at the terminal's
        size without drawing it (it draws only the screen in front), and the compositor's
        ``render_update`` renders every widget's lines into its cache without showing
        them (the result is thrown away): the first tap redraws only what it changes.
        """
        for cls, key, make in screens:
            screen = self.reusable(cls, key, make)
            if screen.is_running:
                continue  # a tap has shown it already
            _, mounted = self._get_screen(screen)
            await mounted
            if screen not in self.screen_stack:
                screen._refresh_layout(self.size)
                screen._compositor.render_update(full=True)
            await asyncio.sleep(0)  # a tap waiting is handled before the next screen
        self._warmed_up()

    def _warmed_up(self) -> None:
        self.warmed = True
        if self._tune_gc:
            self._frozen_after_full = keep_gc_out_of_taps()
        # ``kiosk run`` starts with the collector off (``kiosk.launch``): on from now.
        gc.enable()
        log.info("screens of a tap built")

    # --- the service thread -----------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether any service call is queued or running, or its result not yet drawn."""
        return self._pending > 0

    def call(
        self,
        call: Callable[[], Any],
        done: Callable[[Any], None] | None = None,
        failed: Callable[[Exception], None] | None = None,
    ) -> None:
        """Run ``call`` on the service thread; then ``done(value)`` or ``failed(error)`` here."""
        self._pending += 1
        self._jobs.put(Job(call, done, failed))

    def _service_loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self._jobs.get(timeout=0.5)
            except queue.Empty:
                continue
            if job is None:
                return
            try:
                value = job.call()
            except Exception as exc:  # reported on the UI thread, never fatal
                if not isinstance(exc, KioskError):
                    log.exception("service call failed")
                self.post_message(ServiceCallFinished(job, error=exc))
            else:
                self.post_message(ServiceCallFinished(job, value=value))

    def on_service_call_finished(self, message: ServiceCallFinished) -> None:
        self._pending -= 1
        job = message.job
        target = job.failed if message.error is not None else job.done
        owner = getattr(target, "__self__", None)
        if isinstance(owner, Screen) and not owner.is_attached:
            return  # the screen that asked has gone; its answer no longer matters
        if message.error is not None:
            if job.failed is not None:
                job.failed(message.error)
            else:
                self.notify(_explain(message.error), severity="error", timeout=8)
        elif job.done is not None:
            job.done(message.value)

    # --- readers ----------------------------------------------------------------------

    def _emit(self, event: ReaderEvent) -> None:
        """Given to every reader; called from reader threads (or the UI thread)."""
        self.post_message(ReaderReported(event))

    def keyboard_tap(self, text: str) -> None:
        """A tag number typed into a TagEntry box: it goes through the keyboard reader."""
        if self.keyboard_reader is None or not self.keyboard_reader.feed(text):
            self.present(
                TapResult(
                    Outcome.REFUSED,
                    "That is not a tag number.",
                    "Tag numbers are letters A-F and digits, like 04A22B1A.",
                )
            )

    def on_tag_entry_typed(self, message: TagEntry.Typed) -> None:
        self.keyboard_tap(message.text)

    def capture_tags(self, screen: Screen[Any], handler: TagHandler) -> None:
        """While ``screen`` is in front, tags go to ``handler`` instead of the loan service."""
        self._capture = (screen, handler)

    def release_tags(self, screen: Screen[Any]) -> None:
        if self._capture is not None and self._capture[0] is screen:
            self._capture = None

    def on_reader_reported(self, message: ReaderReported) -> None:
        event = message.event
        if isinstance(event, TagSeen):
            if self._capture is not None and self._capture[0] is self.screen:
                self._capture[1](event.uid, event.reader)
                return
            # Counted down by the job's own end (``_tap_finished`` or ``_tap_failed``):
            # exactly one of the two runs for every job, whether the tap worked or not.
            self._taps_in_flight += 1
            self.call(
                lambda: self._tap(event.uid, event.reader),
                done=self._tap_finished,
                failed=self._tap_failed,
            )
        elif isinstance(event, ReaderLost):
            self.reader_state[event.reader] = (False, event.reason)
            self.feedback.reader_lost()
            self._redraw_status()
        elif isinstance(event, ReaderBack):
            self.reader_state[event.reader] = (True, "")
            if all(ok for ok, _ in self.reader_state.values()):
                self.feedback.reader_back()
            self._redraw_status()

    def _tap(self, uid: str, reader: str) -> None:
        """On the service thread: decide, commit, and answer with light and sound at once."""
        result = self.service.tap(uid, reader)
        if result.accepted:
            self.feedback.accepted()
        elif result.refused or result.asks_first:  # a warning: stop and read the screen
            self.feedback.refused()
        # Posted before the job's ServiceCallFinished, so it is drawn before the app is idle.
        self.post_message(TagHandled(result))

    def _tap_finished(self, _: None) -> None:
        self._taps_in_flight -= 1

    def _tap_failed(self, error: Exception) -> None:
        self._taps_in_flight -= 1
        self.feedback.refused()
        self.present(
            TapResult(
                Outcome.REFUSED, "That tap was not recorded.", _explain(error) + " Tap again."
            )
        )

    def on_tag_handled(self, message: TagHandled) -> None:
        self.present(message.result)

    # --- where a result goes ----------------------------------------------------------

    def present(self, result: TapResult) -> None:
        """Show a tap's result through the router."""
        from kiosk.tui import router

        if router.present(self, result):  # IGNORED (a badge held on the reader) shows nothing
            self.taps_shown += 1

    def done(
        self,
        message: str,
        detail: str = "",
        *,
        undo_until: float | None = None,
        warnings: tuple[str, ...] = (),
    ) -> None:
        from kiosk.tui import router

        router.done(self, message, detail, undo_until=undo_until, warnings=warnings)

    def refuse(self, message: str, detail: str = "") -> None:
        from kiosk.tui import router

        router.refuse(self, message, detail)

    def reusable(
        self, cls: type[S], key: Hashable = None, make: Callable[[], S] | None = None
    ) -> S:
        """The one kept instance of a screen (per ``key``) that is filled in again per tap."""
        screen = self._reusable.get((cls, key))
        if screen is None:
            screen = make() if make is not None else cls()
            self.install_screen(screen, f"reusable-{cls.__name__}-{len(self._reusable)}")
            self._reusable[(cls, key)] = screen
        return cast(S, screen)

    def show(self, screen: Screen[Any]) -> None:
        """Replace whatever is above the idle screen with ``screen``.

        The top screen is switched, not popped, so the idle screen underneath is
        not woken (and does not reload its board) for every tap.
        """
        while len(self.screen_stack) > 2 and self.screen is not screen:
            self.pop_screen()
        if self.screen is screen:
            return  # already showing: it has been filled in again
        if len(self.screen_stack) == 2:
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def open(self, screen: Screen[Any], then: Callable[[Any], None] | None = None) -> None:
        """Put ``screen`` on top of the current one (Back returns to it)."""
        self.push_screen(screen, callback=then)

    def go_idle(self) -> None:
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.call(self.service.end_session)
        # Back at rest: a good moment to re-read the alert counts (a loss or damage
        # reported just now shows as "waiting" at once), and to collect garbage.
        self.refresh_status()
        self.set_timer(1.0, self._collect_at_rest)

    def _collect_at_rest(self) -> None:
        if len(self.screen_stack) == 1:  # still idle: nobody is waiting for the screen
            if self._tune_gc and self.warmed:
                self._frozen_after_full = collect_at_rest(self._frozen_after_full)
            else:
                gc.collect()
            # Its own thread, not the service thread: a tap arriving now is not queued
            # behind the checkpoint (see kiosk.db.SCREEN_WAL_AUTOCHECKPOINT).
            self.run_worker(
                self.service.checkpoint, thread=True, group="checkpoint", exclusive=True
            )

    # --- status line ------------------------------------------------------------------

    def refresh_status(self) -> None:
        def read() -> tuple[bool, DeliverySummary | None, str, bool]:
            synced = self.clock.synchronised()
            # The clock has just been set: times taken before are corrected at once.
            corrected = synced and self.service.correct_times() is not None
            try:
                return synced, self.alerts.summary(), "", corrected
            except Exception as exc:  # the outbox is someone else's table: show, don't crash
                log.warning("cannot read alert delivery state: %s", exc)
                return synced, None, str(exc), corrected

        self.call(read, self._status_read)

    def _status_read(self, info: tuple[bool, DeliverySummary | None, str, bool]) -> None:
        self._clock_synced, delivery, error, corrected = info
        self._delivery = (delivery, error)
        self._redraw_status()
        if corrected:
            for screen in self.screen_stack:
                if isinstance(screen, IdleScreen):
                    screen.refresh_board()

    def _redraw_status(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, KioskScreen):
                screen.draw_status()

    # --- time -------------------------------------------------------------------------

    def tick(self) -> None:
        """Tell the screen in front the time; it gives up at its deadline.

        Not while a tap is being handled: its result replaces the screen in a moment, and
        a screen giving up now would go back to idle, end the session and rebuild the
        board under the tap (the slowest taps measured were those). A tap is handled
        until its service call has ended, worked or failed; a deadline that passed
        meanwhile is met at the next tick. A tag a screen collects (``capture_tags``)
        is not a tap: the screen's deadlines run on.
        """
        if not self.screen_stack or self._taps_in_flight:
            return  # the app is closing, or a tap's result is on its way
        screen = self.screen
        if isinstance(screen, KioskScreen) and screen.is_mounted:
            screen.tick(self.clock.monotonic())

    # --- formatting helpers for screens -----------------------------------------------

    def local_time(self, instant: datetime, now: datetime | None = None) -> str:
        """ "14:02" today, "Mon 24 Nov 14:02" otherwise, in the school's time zone."""
        now = now or self.clock.now()
        local = self.calendar.local(instant)
        if local.date() == self.calendar.local(now).date():
            return local.strftime("%H:%M")
        return f"{local.strftime('%a')} {local.day} {local.strftime('%b %H:%M')}"


def keep_gc_out_of_taps() -> int:
    """Tune the garbage collector for a process that is the kiosk (process-wide).

    Everything loaded by start-up (Textual, the screens of a tap, the settings) lives
    as long as the app: ``gc.freeze`` moves it out of the collector's sight, so that a
    collection during a tap looks only at what taps made. Without it a full collection
    looked at every screen's widgets: 70 ms here, half a second at a Pi's speed, in the
    middle of a tap. Full collections are made rarer while people tap, and the app
    collects when it is back at rest (``collect_at_rest``). Returns how many objects
    are frozen.
    """
    gc.collect()  # what start-up threw away is not kept for ever
    gc.freeze()
    gen0, gen1, _ = gc.get_threshold()
    gc.set_threshold(gen0, gen1, FULL_GC_EVERY)
    return gc.get_freeze_count()


def collect_at_rest(frozen_after_full: int) -> int:
    """Collect while nobody waits, and freeze what survives: it lives on (caches, screens).

    A frozen object is never looked at again, so one that later becomes garbage in a
    reference cycle stays; once the frozen objects have grown to ``REFREEZE_GROWTH``
    times what there was after the last look at all of them, they are all looked at
    again (a full collection at rest, the cost the freeze keeps out of taps). Returns
    the new count after a full look, else ``frozen_after_full``.
    """
    if gc.get_freeze_count() >= REFREEZE_GROWTH * frozen_after_full:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        return gc.get_freeze_count()
    gc.collect()
    gc.freeze()
    return frozen_after_full


def _explain(error: Exception) -> str:
    if isinstance(error, KioskError):
        return str(error)
    return f"Something went wrong ({type(error).__name__}). Ask the IT lead."


def console_is_16_colours() -> bool:
    """The Linux console (TERM=linux) shows 16 colours: use the ANSI theme there."""
    return os.environ.get("TERM", "") == "linux" and not os.environ.get("COLORTERM")


def build_app(
    service: LoanService,
    readers: Sequence[Reader],
    feedback: Feedback,
    *,
    alerts: AlertDesk,
    clock: Clock | None = None,
    exit_when_ready: bool = False,
    console_colours: bool | None = None,
    tune_gc: bool = False,
    warm_up: bool = False,
    on_ready: Callable[[], object] | None = None,
    every_second: Callable[[], object] | None = None,
) -> KioskApp:
    """The one way to make the kiosk app: the CLI (demo and run), the tests and the bench.

    ``alerts`` is how the screen reads and retries alert delivery (``sync.status.AlertDesk``
    from the CLI): the screens never import sync themselves. ``tune_gc`` and ``warm_up``
    are for the process that is the kiosk (``kiosk run``, ``kiosk demo``, the bench): the
    garbage collector tuned for taps, and the screens of a tap built once the idle
    screen is up (``KioskApp.warmed`` says when).
    """
    return KioskApp(
        service,
        readers,
        feedback,
        clock=clock or service.clock,
        alerts=alerts,
        exit_when_ready=exit_when_ready,
        console_colours=console_is_16_colours() if console_colours is None else console_colours,
        tune_gc=tune_gc,
        warm_up=warm_up,
        on_ready=on_ready,
        every_second=every_second,
    )
