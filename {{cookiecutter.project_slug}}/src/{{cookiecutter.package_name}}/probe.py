"""Container health probe: exit 0 when /healthz answers 200 on this container's PORT (no curl)."""

from __future__ import annotations

import sys
import urllib.request

from .context import PROBE_USER_AGENT
from .settings import ConfigError, current


def main() -> int:
    """Ask the local server for /healthz; any failure is a non-zero exit."""
    try:
        url = f"http://127.0.0.1:{current().PORT}/healthz"
    except ConfigError as exc:
        print(f"unhealthy: configuration error: {exc}", file=sys.stderr)
        return 1
    ask = urllib.request.Request(url, headers={"User-Agent": PROBE_USER_AGENT})
    try:
        with urllib.request.urlopen(ask, timeout=3) as response:  # noqa: S310
            return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
