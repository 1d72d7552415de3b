"""The ``kiosk`` command's entry point: start-up without the garbage collector.

Starting a command imports its modules (peewee, the settings and the views; for ``kiosk
run`` Textual and the screens), and nearly everything that makes lives as long as the
process: modules, classes, functions. A collection meanwhile looks at all of it and frees
next to nothing; ``kiosk run`` made 138 of them, 53 ms of its start on the x86 machine the
benchmarks run on, four to six times that at a Pi's speed. So the collector is off while
a command's modules load, and on again before it does its work (``kiosk.cli.main``);
``kiosk run`` keeps it off until its screens are built and what they hold is frozen out of
the collector's sight (``kiosk.tui.app.keep_gc_out_of_taps``).

``python -m kiosk.cli`` starts with the collector on, as Python does.
"""

from __future__ import annotations

import gc


def main() -> int:
    gc.disable()
    from kiosk.cli import main as command

    return command()
