"""Clients that hold connections on purpose (silent, dribbling a header, kept alive), and what
the kernel says about a listening port: for tests/test_slow_clients.py and the dev server's bind
address (tests/test_main.py). Linux: the listeners are read from /proc/net/tcp{,6}."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import suppress
from pathlib import Path


class SlowClients:
    """`count` connections that send nothing, or that dribble a header that never ends."""

    HEADER = b"GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"x" * 300
    INTERVAL = 0.2  # seconds between two bytes on each dribbling connection

    def __init__(self, port: int, count: int, *, dribble: bool) -> None:
        self.port, self.count, self.dribble = port, count, dribble
        self.sockets: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drip, daemon=True)

    def __enter__(self) -> SlowClients:
        for _ in range(self.count):
            self.sockets.append(socket.create_connection(("127.0.0.1", self.port), timeout=5))
        if self.dribble:
            self._send(0)  # the first byte, before anyone measures
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
        for sock in self.sockets:
            sock.close()

    def _send(self, index: int) -> None:
        for sock in self.sockets:
            with suppress(OSError):
                sock.send(self.HEADER[index : index + 1])

    def _drip(self) -> None:
        """One more byte on every connection each INTERVAL, until stopped or out of header."""
        for index in range(1, len(self.HEADER)):
            if self._stop.wait(self.INTERVAL):
                return
            self._send(index)


def closed_after(port: int, data: bytes, limit: float) -> float | None:
    """Send `data`, read whatever comes; seconds until the server closes, None past `limit`."""
    with socket.create_connection(("127.0.0.1", port), timeout=limit) as sock:
        started = time.monotonic()
        sock.sendall(data)
        while time.monotonic() - started < limit:
            try:
                if not sock.recv(65536):
                    return round(time.monotonic() - started, 2)
            except TimeoutError:
                return None
            except OSError:  # reset: closed too
                return round(time.monotonic() - started, 2)
    return None


def tcp_listeners(port: int) -> dict[str, int]:
    """Every address listening on a TCP `port`, with its accept backlog.

    For a listening socket the kernel reports the connections waiting to be accept()ed as its
    rx_queue, so a backlog of 0 means the workers have taken every connection made so far.
    """
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                address, port_hex = fields[1].rsplit(":", 1)
                if fields[3] == "0A" and int(port_hex, 16) == port:  # 0A: TCP_LISTEN
                    found[decode_address(address)] = int(fields[4].split(":")[1], 16)
    return found


def decode_address(hex_address: str) -> str:
    """/proc/net/tcp's address (host byte order, 32-bit words) as text."""
    words = (hex_address[i : i + 8] for i in range(0, len(hex_address), 8))
    raw = b"".join(bytes.fromhex(word)[::-1] for word in words)
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    return socket.inet_ntop(family, raw)
