"""RC522 reader figures on the emulated chip, beside mfrc522's own SimpleMFRC522.read().

Both drivers run their real code against ``hardware.emulated`` in one run:
- SPI transfers per second while waiting with no card (goal <= 200);
- SPI transfers per second with a card resting on the reader (goal <= 200);
- CPU time of the waiting reader over 10 s (goal <= 2 % of one core);
- card placed -> TagSeen delivered (goal: median <= 150 ms, p99 <= 250 ms);
- a card held for 60 s (virtual time) -> exactly one event.

The emulator answers in microseconds, where a Pi's SPI at 1 MHz takes tens of
microseconds per transfer, so CPU and latency here are lower bounds; the
transfer counts are what a Pi would do. CPU is the whole process's (reader
thread and emulated chip; the main thread sleeps). ``python bench/bench_hardware.py``.
"""

from __future__ import annotations

import logging
import queue
import random
import statistics
import sys
import threading
import time
from typing import Any

from hardware.emulated.card import Card
from hardware.emulated.chip import Emulator
from hardware.emulated.stock_driver import unmodified_mfrc522
from hardware.events import TagSeen
from hardware.rc522 import RC522Reader
from hardware.timebase import VirtualTimebase

log = logging.getLogger("bench.hardware")

IDLE_SECONDS = 10.0
BASELINE_SECONDS = 5.0
TAPS = 60


def _figure(value: float, unit: str, goal: str) -> dict[str, Any]:
    return {"value": round(value, 3), "unit": unit, "goal": goal}


def baseline_idle(seconds: float = BASELINE_SECONDS) -> tuple[float, float]:
    """mfrc522's SimpleMFRC522.read() waiting with no card: (transfers/s, CPU %)."""
    emu = Emulator()
    _, simple_class = unmodified_mfrc522(emu)
    simple = simple_class()
    done = threading.Event()

    def wait_for_a_card() -> None:
        simple.read()  # returns only when a card is read
        done.set()

    cpu0, transfers0, t0 = time.process_time(), emu.transfers, time.monotonic()
    thread = threading.Thread(target=wait_for_a_card, daemon=True)
    thread.start()
    time.sleep(seconds)
    cpu, transfers, elapsed = (
        time.process_time() - cpu0,
        emu.transfers - transfers0,
        time.monotonic() - t0,
    )
    emu.place(Card.from_hex("A1B2C3D4"))  # let read() return so the thread ends
    done.wait(10)
    return transfers / elapsed, 100 * cpu / elapsed


def ours_idle(seconds: float = IDLE_SECONDS) -> tuple[float, float]:
    emu = Emulator()
    reader = RC522Reader(reset_pin=-1, spi_factory=emu.spidev)
    reader.start(lambda event: None)
    time.sleep(0.5)
    cpu0, transfers0, t0 = time.process_time(), emu.transfers, time.monotonic()
    time.sleep(seconds)
    cpu, transfers, elapsed = (
        time.process_time() - cpu0,
        emu.transfers - transfers0,
        time.monotonic() - t0,
    )
    reader.stop()
    return transfers / elapsed, 100 * cpu / elapsed


def ours_resting(seconds: float = IDLE_SECONDS) -> tuple[float, int]:
    """A card left lying on the reader: (SPI transfers/s once it has been read, TagSeen events)."""
    emu = Emulator()
    seen = threading.Event()
    events: list[Any] = []

    def emit(event: Any) -> None:
        events.append(event)
        seen.set()

    reader = RC522Reader(reset_pin=-1, spi_factory=emu.spidev)
    reader.start(emit)
    emu.place(Card.from_hex("04A22B1A"))
    seen.wait(5)
    time.sleep(0.5)
    transfers0, t0 = emu.transfers, time.monotonic()
    time.sleep(seconds)
    transfers, elapsed = emu.transfers - transfers0, time.monotonic() - t0
    reader.stop()
    return transfers / elapsed, sum(isinstance(e, TagSeen) for e in events)


def ours_latency(taps: int = TAPS) -> list[float]:
    """Milliseconds from a card landing on the reader to TagSeen reaching emit."""
    emu = Emulator()
    seen: queue.Queue[tuple[float, TagSeen]] = queue.Queue()

    def emit(event: Any) -> None:
        if isinstance(event, TagSeen):
            seen.put((time.monotonic(), event))

    reader = RC522Reader(reset_pin=-1, spi_factory=emu.spidev)
    reader.start(emit)
    rng = random.Random(522)
    latencies: list[float] = []
    try:
        for i in range(taps):
            time.sleep(rng.uniform(0.02, 0.2))  # at a random point of the poll cycle
            emu.remove()
            uid = f"04{i:012X}"
            placed = time.monotonic()
            emu.place(Card.from_hex(uid))
            at, event = seen.get(timeout=5)
            assert event.uid == uid, event
            latencies.append(1000 * (at - placed))
    finally:
        reader.stop()
    return latencies


def held_events(seconds: float = 60.0) -> tuple[int, int]:
    """Events for a card held ``seconds`` of virtual time: (ours, a loop over mfrc522).

    The baseline is the usual loop around ``SimpleMFRC522.read_id_no_block()``
    every 0.1 s, counting every read that returned an id.
    """
    tb = VirtualTimebase()
    emu = Emulator(tb)
    reader = RC522Reader(reset_pin=-1, spi_factory=emu.spidev, timebase=tb)
    reader.open()
    events: list[Any] = []
    reader._emit = events.append  # stepped by hand on virtual time
    emu.place(Card.from_hex("04A22B1A"), hold=seconds, after=1.0)
    end = tb.monotonic() + seconds + 5
    while tb.monotonic() < end:
        tb.sleep(reader.step())
    ours = sum(isinstance(e, TagSeen) for e in events)

    tb2 = VirtualTimebase()
    emu2 = Emulator(tb2)
    _, simple_class = unmodified_mfrc522(emu2)
    simple = simple_class()
    emu2.place(Card.from_hex("04A22B1A"), hold=seconds)
    reads = 0
    end = tb2.monotonic() + seconds
    while tb2.monotonic() < end:
        if simple.read_id_no_block() is not None:
            reads += 1
        tb2.sleep(0.1)
    return ours, reads


def run() -> dict[str, dict[str, Any]]:
    logging.getLogger("mfrc522Logger").setLevel(logging.CRITICAL)
    base_tps, base_cpu = baseline_idle()
    tps, cpu = ours_idle()
    resting_tps, resting_events = ours_resting()
    latencies = sorted(ours_latency())
    p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
    ours_held, base_held = held_events()
    figures = {
        "rc522_idle_spi_transfers_per_s": _figure(tps, "transfers/s", "<= 200"),
        "rc522_idle_spi_transfers_per_s_mfrc522_baseline": _figure(
            base_tps, "transfers/s", "report"
        ),
        "rc522_resting_card_spi_transfers_per_s": _figure(resting_tps, "transfers/s", "<= 200"),
        "rc522_resting_card_events": _figure(resting_events, "events", "== 1"),
        "rc522_idle_cpu_percent_of_one_core": _figure(cpu, "%", "<= 2"),
        "rc522_idle_cpu_percent_mfrc522_baseline": _figure(base_cpu, "%", "report"),
        "rc522_tap_to_event_median_ms": _figure(statistics.median(latencies), "ms", "<= 150"),
        "rc522_tap_to_event_p99_ms": _figure(p99, "ms", "<= 250"),
        "rc522_card_held_60s_events": _figure(ours_held, "events", "== 1"),
        "rc522_card_held_60s_reads_mfrc522_baseline": _figure(base_held, "reads", "report"),
    }
    for name, f in figures.items():
        sys.stdout.write(f"{name:50} {f['value']:>12} {f['unit']:12} goal {f['goal']}\n")
    return figures


if __name__ == "__main__":
    run()
