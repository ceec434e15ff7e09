"""Runs every benchmark in turn (`make bench`); each prints its own JSON. See BENCHMARKS.md for the
commands one at a time and the recorded results."""
from __future__ import annotations

from . import checker_browser, engine, prepare, screen, served, site_build

if __name__ == "__main__":
    engine.main()
    screen.main([])
    checker_browser.main([])
    served.main([])
    prepare.main(["--mobile"])
    site_build.main([])
