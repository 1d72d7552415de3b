"""Making gpiozero devices: lgpio's working directory, and gpiozero's fallbacks as one message.

lgpio (gpiozero's first choice, and the only pin library that works on a Pi 5)
makes its notification pipes (``.lgd-nfy0`` ...) in ``$LG_WD``, or else in the
current directory, and the first time it runs it *moves the whole process* into
that directory (``chdir``). Started from a folder the kiosk user cannot write
(``/``, a 0700 home: ``sudo kiosk hardware-check``), it fails; gpiozero then falls
back to another library (RPi.GPIO on a Pi 4, quietly) or to none. The systemd
units set ``LG_WD``; every other entry point (``/usr/local/bin/kiosk``, the venv's
``kiosk``, ``python -m``, tests) gets one here: ``lgpio_ready`` gives lgpio a
private directory it can write when ``LG_WD`` names none, loads it there, and puts
the process back where it was, so relative paths given on the command line still
mean what they meant.

Off a Pi, gpiozero warns once per pin library it tries ("Falling back from lgpio:
No module named 'lgpio'", four lines on stderr), then raises. ``build_devices``
keeps those warnings off the screen (they are logged at debug level) and, when
building fails, gives their reasons in the one line of ``GpioUnavailable``.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import logging
import os
import shutil
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable
from typing import TypeVar

from hardware.errors import GpioUnavailable

log = logging.getLogger(__name__)

T = TypeVar("T")

_lock = threading.Lock()
_ready = False


def _usable(path: str) -> bool:
    return os.path.isabs(path) and os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK)


def _private_workdir() -> str:
    """A new directory only this process uses (two processes must not share lgpio's pipes)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    path = tempfile.mkdtemp(prefix="kiosk-lgpio-", dir=runtime if _usable(runtime) else None)
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def lgpio_ready() -> str | None:
    """Give lgpio a writable working directory and load it; return that directory.

    Once per process, before gpiozero makes its first device. Keeps ``LG_WD`` when it
    names a directory this user can write (the units set /run/kiosk); otherwise sets
    it to a private one, removed at exit. None if lgpio was already loaded (by
    someone else: nothing can be changed then) or is not installed.
    """
    global _ready
    with _lock:
        if _ready or "lgpio" in sys.modules:
            _ready = True
            return os.environ.get("LG_WD")
        _ready = True
        given = os.environ.get("LG_WD", "")
        if given and not _usable(given):
            log.warning("LG_WD=%s is not a directory this user can write; using another", given)
        workdir = given if _usable(given) else _private_workdir()
        os.environ["LG_WD"] = workdir
        here = _cwd()
        try:
            importlib.import_module("lgpio")
        except ImportError:
            log.debug("lgpio is not installed; gpiozero will use another pin library")
            return None
        except Exception:  # lgpio's own start-up failed; gpiozero tries again and says why
            log.debug("lgpio did not load in %s", workdir, exc_info=True)
        else:
            if workdir != given:
                # lgpio read it once, at start-up; children must not share this folder.
                _restore_env(given)
        finally:
            if here is not None and _cwd() != here:
                with contextlib.suppress(OSError):
                    os.chdir(here)  # lgpio moved the process into LG_WD: move it back
        return workdir


def _restore_env(given: str) -> None:
    if given:
        os.environ["LG_WD"] = given
    else:
        os.environ.pop("LG_WD", None)


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:  # the directory we were started in has gone
        return None


def build_devices(build: Callable[[], T]) -> T:
    """``build()``, which makes gpiozero devices, with lgpio ready and its fallbacks kept quiet.

    Raises GpioUnavailable with one line: what gpiozero said and, when it fell back
    from pin libraries on the way, each one's reason.
    """
    from gpiozero.exc import BadPinFactory, NativePinFactoryFallback, PinFactoryFallback

    quiet = (PinFactoryFallback, NativePinFactoryFallback)
    lgpio_ready()
    failure: Exception | None = None
    with warnings.catch_warnings(record=True) as caught:
        for category in quiet:
            warnings.simplefilter("always", category)
        try:
            built = build()
        except Exception as exc:
            failure = exc
    _replay(caught, quiet)  # outside the block: replayed warnings must not be caught again
    if failure is None:
        return built
    reasons = _fallbacks(caught, quiet)
    if isinstance(failure, BadPinFactory) and reasons:
        detail = f"no pin library could drive them ({'; '.join(reasons)})"
    else:
        detail = str(failure) or type(failure).__name__
        if reasons:
            detail += f" (after falling back from {'; '.join(reasons)})"
    raise GpioUnavailable(detail) from failure


Categories = tuple[type[Warning], ...]


def _fallbacks(caught: list[warnings.WarningMessage], category: Categories) -> list[str]:
    return [
        str(w.message).removeprefix("Falling back from ")
        for w in caught
        if issubclass(w.category, category)
    ]


def _replay(caught: list[warnings.WarningMessage], category: Categories) -> None:
    """Log gpiozero's fallbacks; any other warning goes on as if never caught."""
    for w in caught:
        if issubclass(w.category, category):
            log.debug("gpiozero: %s", w.message)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
