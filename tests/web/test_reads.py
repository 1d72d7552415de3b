"""kiosk.web.reads: queries off the event loop; downloads that stop when the browser leaves."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import cast

import pytest

from kiosk.loans.queries import Queries
from kiosk.web.reads import Reads


class Recorder:
    """Stands in for the loan package's query object: records where and what it ran."""

    def __init__(self) -> None:
        self.threads: set[str] = set()
        self.produced = 0
        self.finished = threading.Event()

    def pieces(self, n: int) -> Iterator[str]:
        try:
            for i in range(n):
                self.threads.add(threading.current_thread().name)
                self.produced += 1
                yield f"piece {i}\n"
        finally:
            self.finished.set()


def reads() -> tuple[Reads, Recorder]:
    q = Recorder()
    return Reads(cast(Queries, q)), q


def test_queries_run_on_the_pool_not_the_event_loop() -> None:
    board, _ = reads()

    async def go() -> str:
        return await board(lambda s: threading.current_thread().name)

    try:
        assert asyncio.run(go()).startswith("kiosk-web-read")
    finally:
        board.close()


def test_a_download_streams_every_piece_in_order() -> None:
    board, q = reads()

    async def go() -> list[str]:
        return [p async for p in board.stream(lambda s: cast(Recorder, s).pieces(50))]

    try:
        assert asyncio.run(go()) == [f"piece {i}\n" for i in range(50)]
        assert {t.split("_")[0] for t in q.threads} == {"kiosk-web-read"}
    finally:
        board.close()


def test_a_browser_that_leaves_stops_the_download() -> None:
    board, q = reads()

    async def go() -> None:
        stream = board.stream(lambda s: cast(Recorder, s).pieces(1_000_000))
        async for _ in stream:
            break  # the browser went away after the first piece
        await stream.aclose()

    try:
        asyncio.run(go())
        assert q.finished.wait(10)
        assert q.produced < 100  # a few buffered pieces, not a million
    finally:
        board.close()


def test_an_error_while_reading_reaches_the_response() -> None:
    board, _ = reads()

    def broken(s: Queries) -> Iterator[str]:
        yield "first\n"
        raise OSError("disk gone")

    async def go() -> list[str]:
        return [p async for p in board.stream(broken)]

    try:
        with pytest.raises(OSError, match="disk gone"):
            asyncio.run(go())
    finally:
        board.close()
