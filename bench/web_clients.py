"""Open browsers on the live board, for bench_web: ``python -m bench.web_clients URL USER N``.

Reads the password from standard input, signs in once, opens N live streams of the board
(each as a browser's EventSource does, on a connection of its own) and reads every event.
Prints ``ready`` when all N are open; when standard input closes, prints how many section
updates each stream received and exits. A separate process, so that the clients' own work
never counts against the kiosk's taps in the benchmark's process.
"""

from __future__ import annotations

import re
import sys
import threading

import httpx2 as httpx

from bench.web_helpers import sign_in


def main(argv: list[str]) -> int:
    url, user, count = argv[0], argv[1], int(argv[2])
    password = sys.stdin.readline().rstrip("\n")
    with httpx.Client(base_url=url, timeout=30) as client:
        sign_in(client, user, password)
        page = client.get("/").text
        m = re.search(r'data-live-url="([^"]+)"', page)
        assert m
        live = m.group(1).replace("&amp;", "&")
        cookies = dict(client.cookies)
    received = [0] * count
    opened = threading.Barrier(count + 1)
    stop = threading.Event()

    def stream(i: int) -> None:
        with (
            httpx.Client(base_url=url, cookies=cookies, timeout=None) as own,
            own.stream("GET", live) as r,
        ):
            opened.wait()
            # Counted in the raw bytes: a browser's parsing is the office PC's work, not the
            # Pi's, so this process should cost the machine as little as it can.
            tail = b""
            for chunk in r.iter_raw():
                if stop.is_set():
                    return
                received[i] += (tail + chunk).count(b"\nevent: out\n") - tail.count(
                    b"\nevent: out\n"
                )
                tail = chunk[-16:]

    threads = [threading.Thread(target=stream, args=(i,), daemon=True) for i in range(count)]
    for t in threads:
        t.start()
    opened.wait()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.read()  # until the benchmark closes our standard input
    stop.set()
    sys.stdout.write(" ".join(str(n) for n in received) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
