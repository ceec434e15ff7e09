"""Finds and reads the compiled catalogue (catalogue.json, written by site_build.catalogue).

In a source checkout the JSON is rebuilt from catalogue/*.yaml when it is missing or older than
the YAML (that needs PyYAML, which the project's .venv has); in the wheel it is packaged.
"""
from __future__ import annotations

import json
from pathlib import Path

PACKAGED = Path(__file__).with_name("catalogue.json")
SOURCE_DIR = Path(__file__).resolve().parent.parent / "catalogue"


class CatalogueMissing(RuntimeError):
    pass


def _stale() -> bool:
    if not SOURCE_DIR.is_dir():
        return False
    if not PACKAGED.exists():
        return True
    built = PACKAGED.stat().st_mtime
    return any(p.stat().st_mtime > built for p in SOURCE_DIR.rglob("*.yaml"))


def load_catalogue(path=None) -> dict:
    if path is None:
        if _stale():
            try:
                from site_build.catalogue import compile_catalogue
            except ImportError as err:  # no PyYAML: say how to get it
                if PACKAGED.exists():
                    return json.loads(PACKAGED.read_text(encoding="utf-8"))
                raise CatalogueMissing(
                    "找不到编译好的目录 checker/catalogue.json，请先运行 make setup 和 make catalogue。 / "
                    f"checker/catalogue.json is missing: run `make catalogue` ({err})") from None
            compile_catalogue(PACKAGED)
        path = PACKAGED
    return json.loads(Path(path).read_text(encoding="utf-8"))
