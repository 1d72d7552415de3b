"""The one object the web app reads through: the loan package's queries, off the event loop.

Every query runs on a small pool of threads of its own, each of which keeps one read-only
connection to the kiosk database. A handful of threads, not one per request: each
connection has its own page cache, and the whole process must stay under 80 MB on a Pi.
Downloads stream from one of those threads, one download at a time, so the board is
always answered by another.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from kiosk.loans.queries import Queries

T = TypeVar("T")

#: Threads that run queries; downloads take at most one of them at a time.
READ_THREADS = 3
#: Pieces of a download waiting to be sent before its thread waits for the browser.
STREAM_BUFFER = 8


def iter_of(pieces: Iterator[str]) -> Generator[str, None, None]:
    """A generator (closable) over any iterator of pieces."""
    yield from pieces


class Reads:
    """Call ``await board(lambda q: q.board())``: ``q`` is the loan package's query object."""

    def __init__(self, queries: Queries, threads: int = READ_THREADS) -> None:
        self.queries = queries
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="kiosk-web-read")
        self._downloads = asyncio.Semaphore(1)

    async def __call__(self, fn: Callable[[Queries], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, self.queries)

    async def stream(self, make: Callable[[Queries], Iterator[str]]) -> AsyncGenerator[str, None]:
        """The pieces ``make(queries)`` yields, read on a pool thread as the browser takes them.

        If the browser goes away the thread stops at its next piece (it never blocks on a
        reader that has left), and its connection goes back to the pool.
        """
        loop = asyncio.get_running_loop()
        pieces: asyncio.Queue[str | BaseException | None] = asyncio.Queue(STREAM_BUFFER)
        stop = threading.Event()

        def put(piece: str | BaseException | None) -> bool:
            sent = asyncio.run_coroutine_threadsafe(pieces.put(piece), loop)
            while not stop.is_set():
                try:
                    sent.result(timeout=0.5)
                    return True
                except TimeoutError:
                    continue
            sent.cancel()
            return False

        def produce(queries: Queries) -> None:
            try:
                # Closed at once when the browser leaves: its cursor goes with it.
                with contextlib.closing(iter_of(make(queries))) as pieces_made:
                    for piece in pieces_made:
                        if not put(piece):
                            return
                put(None)
            except BaseException as exc:  # handed to the reader, which raises it
                put(exc)

        async with self._downloads:
            job = loop.run_in_executor(self._pool, produce, self.queries)
            try:
                while True:
                    piece = await pieces.get()
                    if piece is None:
                        break
                    if isinstance(piece, BaseException):
                        raise piece
                    yield piece
            finally:
                stop.set()
                await asyncio.shield(job)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
