"""`make flamegraph`: py-spy samples the service's gunicorn master and its workers while wrk
loads one route, and writes a flame graph SVG (benchmarks/README.md shows the ones its diary
talks about)."""

from __future__ import annotations

import argparse
import html
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from . import databases
from .bake import Bake, bake_defaults, baked
from .common import TEMPLATE, BenchError, executable, say
from .load import run_wrk, write_script, wrk_binary
from .servers import free_port, serving
from .throughput import under_conf


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The route, how long, and where the SVG goes."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.flame", description=__doc__)
    parser.add_argument("--path", default="/healthz", help="the GET route to load")
    parser.add_argument("--duration", type=int, default=10, help="seconds sampled under load")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--output", type=Path, default=TEMPLATE / "build" / "flame" / "healthz.svg")
    parser.add_argument("--bake", type=Path, help="an existing bake of the defaults to profile")
    return parser.parse_args(argv)


def py_spy() -> str:
    """The py-spy beside this interpreter (the template's venv) or on PATH."""
    return executable("py-spy", "make flamegraph installs it into .venv")


def record(bake: Bake, options: argparse.Namespace, work: Path) -> None:
    """Serve the bake under gunicorn.conf.py, load it, and sample a worker meanwhile."""
    url = databases.sqlite_urls(work)["service"]
    databases.migrate(bake, [url])
    port = free_port()
    with serving({"service": (under_conf(bake, port, url), port)}, work / "logs") as servers:
        server = servers["service"]
        script = write_script(work / "load.lua", None)
        run_wrk(server.url(options.path), 1, 32, 1, script)  # warm-up
        load = subprocess.Popen(  # a second longer than the sampling, so it covers all of it
            [wrk_binary(), "--threads=1", "--connections=32", f"--duration={options.duration + 1}s",
             server.url(options.path)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        options.output.parent.mkdir(parents=True, exist_ok=True)
        # The master and every worker it has: one worker may get little of the load (or none, on
        # a busy machine: py-spy then has no samples and fails), and a recycled one is followed.
        spy = [py_spy(), "record", "--pid", str(server.process.pid), "--subprocesses",
               "--nonblocking", f"--rate={options.rate}", f"--duration={options.duration}",
               "--format=flamegraph", f"--output={options.output}"]  # fmt: skip
        subprocess.run(spy, check=True, capture_output=True, timeout=options.duration + 60)
        load.wait(timeout=options.duration + 60)
    retitle(options.output, f"GET {options.path}: the gunicorn workers under wrk, py-spy")


def retitle(svg: Path, title: str) -> None:
    """Replace the drawing's title, py-spy's command line, and drop the directories from each
    process's command line: both name this machine's paths."""
    drawing = re.sub(
        r'(<text id="title"[^>]*>)[^<]*', rf"\g<1>{html.escape(title)}", svg.read_text()
    )
    svg.write_text(re.sub(r"(process \d+:&quot;)/[^\s<&]*/", r"\g<1>", drawing))


def main(argv: Sequence[str] | None = None) -> int:
    """Bake (unless given one), record, say where the SVG is."""
    options = parse(argv)
    with tempfile.TemporaryDirectory(prefix="flame-") as scratch:
        work = Path(scratch)
        try:
            bake = baked(options.bake) if options.bake else bake_defaults(work / "bake")[0]
            say(f"sampling {options.path} for {options.duration} s")
            record(bake, options, work)
        except subprocess.CalledProcessError as error:  # py-spy's own words say why
            print(f"flame: {error}\n{error.stderr}", file=sys.stderr)
            return 1
        except BenchError as error:
            print(f"flame: {error}", file=sys.stderr)
            return 1
    say(f"wrote {options.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
