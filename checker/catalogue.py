"""Finds and reads the compiled catalogue (catalogue.json, written by `python -m site_build.catalogue`).

The checker reads only this JSON: it never imports the build (site_build) nor parses YAML, so it
runs unchanged in the browser. In a source checkout a JSON older than catalogue/**/*.yaml is
refused with a message saying how to rebuild it, never used silently.

The browser does not take the catalogue whole (at national size it is 200 MB): the site carries it
in parts (`split`, written by site_build/checker_assets.py): an index of every county (its name,
prefecture, province, the counties it shares exclusions with, and where its entry is), and each
county's entry in a file of its own. The checker's worker starts from the index and adds the
entries a profile needs (`checker.start`, `checker.wanted_json`, `checker.add_counties_json`).
"""
from __future__ import annotations

import gc
import json
from pathlib import Path

PACKAGED = Path(__file__).with_name("catalogue.json")
SOURCE_DIR = Path(__file__).resolve().parent.parent / "catalogue"
REBUILD = "make catalogue（或 .venv/bin/python -m site_build.catalogue）"


class CatalogueMissing(RuntimeError):
    """No usable catalogue: missing, unreadable, or older than the YAML it is compiled from."""


def read_json(text: str):
    """json.loads with the cycle collector paused: parsing makes only acyclic objects, and at national
    size (200 MB, millions of lists and dicts) the collector's passes over them while they are made
    took three times the parse itself (2.2 s against 0.6 s). Objects are still freed as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return json.loads(text)
    finally:
        if was_enabled:
            gc.enable()


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
        return read_json(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise CatalogueMissing(f"无法读取编译好的目录 {path}，请重新运行 {REBUILD}。 / "
                               f"cannot read the compiled catalogue {path} ({err}): run `make catalogue`") from None


def related_counties(catalogue: dict) -> dict:
    """{code: [codes]}: the other counties whose services a county's services exclude, or are
    excluded by (a result's `exclusive_with` names them), in the catalogue's order."""
    owner = {s["id"]: code for code, c in catalogue["counties"].items() for s in c["services"]}
    related = {code: set() for code in catalogue["counties"]}
    for code, c in catalogue["counties"].items():
        for s in c["services"]:
            for ex in s.get("excludes") or []:
                other = owner.get(ex["service"])
                if other is not None and other != code:
                    related[code].add(other)
                    related[other].add(code)
    order = list(catalogue["counties"])
    return {code: sorted(r, key=order.index) for code, r in related.items()}


BRIEF_KEYS = ("code", "name", "prefecture", "province")


def split(catalogue: dict, file_of=None) -> tuple[dict, dict]:
    """The catalogue in the browser's parts: (index, {code: county entry}). The index is the
    catalogue without the counties' entries (`counties` empty), with `index`: {code: {code, name,
    prefecture, province, related, file}} in the catalogue's order; `file_of(code)` gives where
    the county's entry is (a path from the site's root), if the caller has one."""
    related = related_counties(catalogue)
    index = {k: v for k, v in catalogue.items() if k != "counties"}
    index["counties"] = {}
    index["index"] = {}
    for code, c in catalogue["counties"].items():
        brief = {k: c[k] for k in BRIEF_KEYS if k in c}
        if related[code]:
            brief["related"] = related[code]
        if file_of is not None:
            brief["file"] = file_of(code)
        index["index"][code] = brief
    return index, dict(catalogue["counties"])
