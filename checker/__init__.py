"""养老服务明白卡 checker: which elderly-care services an elder can get, how much, and why.

Standard library only; runs on CPython and in the browser on Pyodide. `check(profile)` takes the
profile of checker/README.md (a dict) and returns the answer dict; `check_json` does the same
with JSON text in and out, for the browser worker.

In the browser the catalogue comes in parts (checker/catalogue.py `split`): the worker calls
`start(index text)`, then before each profile `wanted_json(profile text)` (the counties to fetch:
[[code, file], …]) and `add_counties_json` with what it fetched, then `check_json`.
"""
from __future__ import annotations

import json

from .catalogue import load_catalogue
from .engine import Engine
from .profile import ProfileError, parse_profile

__all__ = ["check", "check_json", "engine", "start", "started", "wanted_json", "add_counties_json",
           "ProfileError", "parse_profile"]
__version__ = "0.1.0"

_engine = None


def engine(path=None) -> Engine:
    """The shared engine over the packaged catalogue (loaded once)."""
    global _engine
    if path is not None:
        return Engine(load_catalogue(path))
    if _engine is None:
        _engine = Engine(load_catalogue())
    return _engine


def start(index_text: str) -> None:
    """The shared engine over the browser's index of the catalogue (no county added yet)."""
    global _engine
    _engine = Engine(json.loads(index_text))


def started() -> bool:
    """True once the shared engine exists (a start restored from a snapshot has it already)."""
    return _engine is not None


def wanted_json(profile_json: str | None = None) -> str:
    """[[code, file], …] of the counties the profile's answer needs that the shared engine has not
    been given yet (Engine.wanted); every county's for None or "null". A profile that is not valid
    JSON wants nothing: check_json then says what is wrong with it."""
    try:
        profile = None if profile_json is None else json.loads(profile_json)
    except (ValueError, RecursionError):
        return "[]"
    if profile is not None and not isinstance(profile, dict):
        return "[]"
    eng = engine()
    return json.dumps([[code, eng.briefs[code].get("file")] for code in eng.wanted(profile)])


def add_counties_json(text: str) -> None:
    """Add counties' entries to the shared engine: `text` is a JSON object {code: entry, …} (the
    worker joins the files it fetched into one, so many counties are added at once)."""
    engine().add_counties(json.loads(text))


def check(profile: dict) -> dict:
    return engine().check(profile)


def check_json(profile_json: str) -> str:
    """JSON in, JSON out: {"ok": true, "answer": …} or {"ok": false, "error": {field, zh, en}}."""
    try:
        profile = json.loads(profile_json)
    except ValueError as err:
        return json.dumps({"ok": False, "error": {"field": "profile", "zh": f"不是有效的 JSON：{err}",
                                                   "en": f"not valid JSON: {err}"}}, ensure_ascii=False)
    except RecursionError:  # JSON nested thousands deep: the parser gives up
        return json.dumps({"ok": False, "error": {"field": "profile", "zh": "查询内容嵌套太深，无法读取",
                                                   "en": "the profile is nested too deeply to read"}}, ensure_ascii=False)
    try:
        return json.dumps({"ok": True, "answer": check(profile)}, ensure_ascii=False)
    except ProfileError as err:
        return json.dumps({"ok": False, "error": {"field": err.field, "zh": err.zh, "en": err.en}}, ensure_ascii=False)
    except RecursionError:
        return json.dumps({"ok": False, "error": {"field": "profile", "zh": "查询内容嵌套太深，无法处理",
                                                   "en": "the profile is nested too deeply"}}, ensure_ascii=False)
