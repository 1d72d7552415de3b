"""Green and red LEDs and a buzzer on GPIO, through gpiozero.

Accepted: green for 1 s and one short beep. Refused: red for 1 s and three
short beeps. A reader lost: red blinking until every lost reader is back.
gpiozero runs each blink and beep on its own background thread, so every
method returns at once; none raises for hardware trouble (a dead LED must not
stop a loan being recorded), it logs instead.

Wiring: each LED from its GPIO through a 330 ohm resistor to GND; an *active*
buzzer (one that sounds on DC) from its GPIO to GND, through a transistor if
it draws more than a few mA. On a Pi 5 gpiozero needs lgpio (installed with the
kiosk on a Pi); ``GPIOZERO_PIN_FACTORY=lgpio`` forces it.

Everything goes off on ``close`` and on SIGTERM (systemd stopping the kiosk):
``install_sigterm_handler`` chains to whatever handler was there before.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from hardware.base import Feedback
from hardware.errors import FeedbackUnavailable, GpioUnavailable
from hardware.gpio import build_devices

log = logging.getLogger(__name__)


class GpioFeedback(Feedback):
    """LEDs on ``green_pin`` and ``red_pin`` and a buzzer on ``buzzer_pin`` (-1: none)."""

    def __init__(
        self,
        green_pin: int,
        red_pin: int,
        buzzer_pin: int = -1,
        *,
        pin_factory: Any = None,
        show_seconds: float = 1.0,
        beep_seconds: float = 0.1,
        blink_seconds: float = 0.5,
    ) -> None:
        self.show_seconds = show_seconds
        self.beep_seconds = beep_seconds
        self.blink_seconds = blink_seconds
        self._lock = threading.RLock()
        self._lost = 0
        self._closed = False
        self._previous_sigterm: Any = None
        self._devices: list[Any] = []

        def build() -> tuple[Any, Any, Any]:
            from gpiozero import LED, Buzzer

            green = self._add(LED(green_pin, pin_factory=pin_factory))
            red = self._add(LED(red_pin, pin_factory=pin_factory))
            buzzer = (
                self._add(Buzzer(buzzer_pin, pin_factory=pin_factory)) if buzzer_pin >= 0 else None
            )
            return green, red, buzzer

        try:
            self.green, self.red, self.buzzer = build_devices(build)
        except GpioUnavailable as exc:  # BadPinFactory, GPIOPinInUse, PinInvalidPin...
            self._release()
            raise FeedbackUnavailable(
                f"Cannot drive the LEDs and buzzer (GPIO {green_pin}, {red_pin}, {buzzer_pin}): "
                f"{exc}. Check that lgpio is installed (a Pi 5 needs it), that the kiosk user is "
                "in the gpio group, and that no other program uses these pins; or set "
                '[hardware] feedback = "none".'
            ) from exc.__cause__

    def _add(self, device: Any) -> Any:
        self._devices.append(device)
        return device

    def _safely(self, what: str, action: Callable[[], None]) -> None:
        with self._lock:
            if self._closed:
                return
            try:
                action()
            except Exception:
                log.warning("feedback: %s failed", what, exc_info=True)

    def _beep(self, n: int) -> None:
        if self.buzzer is not None:
            self.buzzer.beep(on_time=self.beep_seconds, off_time=self.beep_seconds, n=n)

    def accepted(self) -> None:
        def go() -> None:
            self.green.blink(on_time=self.show_seconds, off_time=0, n=1)
            self._beep(1)

        self._safely("accepted", go)

    def refused(self) -> None:
        def go() -> None:
            if not self._lost:  # while a reader is lost, red is already blinking
                self.red.blink(on_time=self.show_seconds, off_time=0, n=1)
            self._beep(3)

        self._safely("refused", go)

    def reader_lost(self) -> None:
        def go() -> None:
            self._lost += 1
            if self._lost == 1:
                self.red.blink(on_time=self.blink_seconds, off_time=self.blink_seconds)

        self._safely("reader lost", go)

    def reader_back(self) -> None:
        def go() -> None:
            if self._lost == 0:
                return
            self._lost -= 1
            if self._lost == 0:
                self.red.off()

        self._safely("reader back", go)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._release()
            self._restore_sigterm()

    def _release(self) -> None:
        for device in self._devices:
            try:
                device.off()
            except Exception:
                log.debug("feedback: switching off %r failed", device, exc_info=True)
            try:
                device.close()
            except Exception:
                log.debug("feedback: closing %r failed", device, exc_info=True)
        self._devices = []

    # ---- SIGTERM ----------------------------------------------------------

    def install_sigterm_handler(self) -> bool:
        """Switch everything off when SIGTERM arrives, then do what was done before.

        Only the main thread may set signal handlers; elsewhere this returns False.
        """
        try:
            self._previous_sigterm = signal.signal(signal.SIGTERM, self._on_sigterm)
        except ValueError:
            log.debug("feedback: not on the main thread; SIGTERM handler not installed")
            return False
        return True

    def _on_sigterm(self, signum: int, frame: FrameType | None) -> None:
        previous = self._previous_sigterm
        self.close()
        if callable(previous):
            previous(signum, frame)
        elif previous in (signal.SIG_DFL, None):
            # Die of SIGTERM as the process would have without us.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

    def _restore_sigterm(self) -> None:
        if self._previous_sigterm is None:
            return
        try:
            if signal.getsignal(signal.SIGTERM) == self._on_sigterm:
                signal.signal(signal.SIGTERM, self._previous_sigterm)
        except ValueError:  # only the main thread may change signal handlers
            log.debug("SIGTERM handler left in place: closed from another thread")
        self._previous_sigterm = None
