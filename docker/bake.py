"""Generator image entrypoint: bake /template into /out, then give the new files to /out's owner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TEMPLATE = Path("/template")
OUT = Path("/out")


def chown_tree(path: Path, uid: int, gid: int) -> None:
    """Hand a baked tree to the user who owns the mounted directory."""
    os.lchown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, gid)


def main(argv: list[str]) -> int:
    """Run cookiecutter with the caller's arguments; chown whatever it created."""
    before = set(OUT.iterdir())
    command = ["cookiecutter", str(TEMPLATE), "--output-dir", str(OUT), *argv]
    code = subprocess.call(command)
    owner = OUT.stat()
    for created in set(OUT.iterdir()) - before:
        chown_tree(created, owner.st_uid, owner.st_gid)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
