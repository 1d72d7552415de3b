"""Messages the app's threads post to the UI thread, named for what has happened."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual.message import Message

from hardware.events import ReaderEvent
from kiosk.views import TapResult


class ReaderReported(Message):
    """A reader thread saw a tag, lost its device or got it back."""

    def __init__(self, event: ReaderEvent) -> None:
        super().__init__()
        self.event = event


class TagHandled(Message):
    """The service has decided what a tap means and committed it."""

    def __init__(self, result: TapResult) -> None:
        super().__init__()
        self.result = result


@dataclass
class Job:
    """One call to run on the service thread, and what to do with its outcome on the UI thread."""

    call: Callable[[], Any]
    done: Callable[[Any], None] | None = None
    failed: Callable[[Exception], None] | None = None


class ServiceCallFinished(Message):
    """A job has run on the service thread; exactly one of ``value`` / ``error`` is meaningful."""

    def __init__(self, job: Job, value: Any = None, error: Exception | None = None) -> None:
        super().__init__()
        self.job = job
        self.value = value
        self.error = error
