"""HTTP/1.1 over a raw socket, for requests no HTTP client library would send: the bytes go out
as given, and the first final response's head comes back, or how the connection ended."""

from __future__ import annotations

import select
import socket
import time
from dataclasses import dataclass, field


@dataclass
class RawResponse:
    """What a raw exchange produced: a status line and headers, or how the connection ended."""

    outcome: str  # "response", "closed" (EOF or reset with no answer) or "timeout"
    elapsed: float
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    head: bytes = b""

    @property
    def layer(self) -> str:
        """Who answered: Flask's hooks add X-Request-ID to every response, gunicorn's do not."""
        return "flask" if "x-request-id" in self.headers else "gunicorn"


def raw_exchange(
    port: int, data: bytes, *, half_close: bool = False, pause: float = 0, timeout: float = 5
) -> RawResponse:
    """Send `data` on a fresh connection and read the first final response's head.

    With `pause`, wait that long for an early answer before (optionally) half-closing.
    """
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            answered_early = bool(pause) and bool(select.select([sock], [], [], pause)[0])
            if half_close and not answered_early:
                sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server answered and closed while we were still sending
            pass
        return read_head(sock, started, timeout)


def read_head(sock: socket.socket, started: float, timeout: float) -> RawResponse:
    """Read until the end of a final (non-1xx) response head, EOF, reset or `timeout`."""
    buffer = b""
    deadline = started + timeout
    while True:
        end = buffer.find(b"\r\n\r\n")
        if end >= 0:
            head, buffer = buffer[:end], buffer[end + 4 :]
            response = parse_head(head, time.monotonic() - started)
            if response.status is not None and 100 <= response.status < 200:
                continue  # 100 Continue: the final answer follows
            return response
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return RawResponse("timeout", time.monotonic() - started, head=buffer[:200])
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return RawResponse("timeout", time.monotonic() - started, head=buffer[:200])
        except OSError:  # reset
            chunk = b""
        if not chunk:
            if buffer.startswith(b"HTTP/"):
                return parse_head(buffer, time.monotonic() - started)
            return RawResponse("closed", time.monotonic() - started, head=buffer[:200])
        buffer += chunk


def parse_head(head: bytes, elapsed: float) -> RawResponse:
    """Parse `HTTP/1.1 400 Reason` and the header lines that follow it."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return RawResponse("response", elapsed, status, headers, head)
