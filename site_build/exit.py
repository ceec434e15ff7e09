"""Ending a build process without tearing its heap down.

A build at national size holds the 200 MB catalogue as millions of Python objects, and mkdocs adds
72,000 pages' objects. A normal exit frees them one by one and runs the cycle collector over them:
seconds of a one-county edit's build for nothing (the kernel takes the memory back at once). When
the work is done and its output flushed, `hard_exit` ends the process with its exit code, as mypy
does (mypy.util.hard_exit), after the handlers the standard library registers for a normal exit that
matter here: logging's flush. Child processes and thread pools are joined by the steps that start
them (with-blocks), before this is reached.

`python -m site_build.exit mkdocs build …` runs mkdocs' command line this way (site_build/__main__.py).
"""
from __future__ import annotations

import logging
import os
import sys


def hard_exit(code=0):
    """Flush what was written and end the process now with `code` (an int, None = 0, or a message,
    printed to stderr with exit code 1, as sys.exit does)."""
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    os._exit(code or 0)


def run_mkdocs(argv: list[str]):
    """mkdocs' own command line (`mkdocs build …`), then hard_exit with its exit code."""
    from mkdocs.__main__ import cli
    try:
        cli.main(args=argv, prog_name="mkdocs")      # click ends with SystemExit, also on success
        code = 0
    except SystemExit as end:
        code = end.code
    hard_exit(code)


if __name__ == "__main__":
    if sys.argv[1:2] != ["mkdocs"]:
        print("usage: python -m site_build.exit mkdocs build …", file=sys.stderr)
        sys.exit(2)
    run_mkdocs(sys.argv[2:])
