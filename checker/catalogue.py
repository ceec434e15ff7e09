"""Finds and reads the compiled catalogue (catalogue.json, written by `python -m site_build.catalogue`).

The checker reads only this JSON: it never imports the build (site_build) nor parses YAML, so it
runs unchanged in the browser. In a source checkout a JSON older than catalogue/**/*.yaml is
refused with a message saying how to rebuild it, never used silently; in the wheel it is packaged.
"""
from __future__ import annotations

import json
from pathlib import Path

PACKAGED = Path(__file__).with_name("catalogue.json")
SOURCE_DIR = Path(__file__).resolve().parent.parent / "catalogue"
REBUILD = "make catalogue（或 .venv/bin/python -m site_build.catalogue）"


class CatalogueMissing(RuntimeError):
    """No usable catalogue: missing, unreadable, or older than the YAML it is compiled from."""


def stale() -> bool:
    """True in a source checkout whose catalogue/*.yaml changed after checker/catalogue.json was written."""
    if not SOURCE_DIR.is_dir() or not PACKAGED.exists():
        return False
    built = PACKAGED.stat().st_mtime
    return any(p.stat().st_mtime > built for p in SOURCE_DIR.rglob("*.yaml"))


def load_catalogue(path=None) -> dict:
    if path is None:
        path = PACKAGED
        if not PACKAGED.exists():
            raise CatalogueMissing(f"找不到编译好的目录 checker/catalogue.json，请先运行 {REBUILD}。 / "
                                   "checker/catalogue.json is missing: run `make catalogue`")
        if stale():
            raise CatalogueMissing(f"目录 catalogue/ 改过了，编译好的 checker/catalogue.json 已过时，请运行 {REBUILD}。 / "
                                   "checker/catalogue.json is older than catalogue/*.yaml: run `make catalogue`")
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise CatalogueMissing(f"无法读取编译好的目录 {path}，请重新运行 {REBUILD}。 / "
                               f"cannot read the compiled catalogue {path} ({err}): run `make catalogue`") from None
