"""The browser's catalogue in parts (checker/catalogue.py `split`): an engine that starts from the
index and is given only the counties `wanted` names answers every profile exactly as the engine
over the whole catalogue does, whatever order the counties arrive in — and refuses to answer for a
county it has not been given instead of answering as if the county had no services."""
from __future__ import annotations

import copy
import json
import random

import pytest

import checker
from checker.catalogue import load_catalogue, related_counties, split
from checker.engine import CountyNotLoaded, Engine
from site_build.checker_assets import case_profiles, sample_profiles


def _with_cross_county_exclusion():
    """The real catalogue with a service of one county excluding a service of another."""
    catalogue = copy.deepcopy(load_catalogue())
    codes = list(catalogue["counties"])
    a, b = catalogue["counties"][codes[0]], catalogue["counties"][codes[-1]]
    a["services"][0].setdefault("excludes", []).append({"service": b["services"][0]["id"], "text": "不能同时享受"})
    return catalogue, codes[0], codes[-1]


def _answers_match(catalogue, profiles, seed):
    full = Engine(copy.deepcopy(catalogue))
    index, parts = split(catalogue, lambda code: f"c/{code}.json")
    text = {code: json.dumps(entry, ensure_ascii=False) for code, entry in parts.items()}
    rng = random.Random(seed)
    shared = Engine(json.loads(json.dumps(index)))   # one engine through every profile, as a worker keeps it
    added = 0
    for p in profiles:
        fresh = Engine(json.loads(json.dumps(index)))
        for engine in (fresh, shared):
            wanted = engine.wanted(p)
            rng.shuffle(wanted)
            for code in wanted:
                engine.add_counties({code: json.loads(text[code])})
                added += 1
        try:
            expected = full.check(p)
        except checker.ProfileError as err:
            expected = err.field
        for engine in (fresh, shared):
            try:
                got = engine.check(p)
            except checker.ProfileError as err:
                got = err.field
            assert got == expected, p
    return added


def test_parts_answer_as_the_whole_catalogue():
    profiles = case_profiles() + sample_profiles(600, seed=7)
    assert len(profiles) > 900
    assert _answers_match(load_catalogue(), profiles, seed=1) > len(profiles)


def test_a_cross_county_exclusion_brings_the_other_county():
    catalogue, a, b = _with_cross_county_exclusion()
    assert related_counties(catalogue)[a] == [b] and related_counties(catalogue)[b] == [a]
    index, _ = split(catalogue)
    assert Engine(copy.deepcopy(index)).wanted({"hukou": a}) == [a, b]
    profiles = [p for p in sample_profiles(400, seed=3) if p.get("hukou") in (a, b) or p.get("residence") in (a, b)]
    assert len(profiles) > 50
    _answers_match(catalogue, profiles, seed=2)
    # the excluded service's answer names the service that excludes it, added first or last
    full = Engine(copy.deepcopy(catalogue)).check({"hukou": b})
    named = [r for r in full["results"] if r.get("exclusive_with")]
    assert any(x["service"] == catalogue["counties"][a]["services"][0]["id"] for r in named for x in r["exclusive_with"])


def test_a_county_not_added_is_refused_not_answered_empty():
    index, parts = split(load_catalogue())
    engine = Engine(copy.deepcopy(index))
    code = next(iter(parts))
    with pytest.raises(CountyNotLoaded):
        engine.check({"hukou": code})
    # a county outside the catalogue needs nothing, and is answered with the note as before
    assert engine.wanted({"hukou": "110101"}) == []
    assert "不在本目录收录的县" in engine.check({"hukou": "110101"})["notes"][0]
    assert set(engine.wanted(None)) == set(parts)


def test_the_worker_calls(monkeypatch):
    """checker.start / wanted_json / add_counties_json / check_json, as worker.mjs calls them."""
    index, parts = split(load_catalogue(), lambda code: f"zhejiang/{code}/checker.json")
    monkeypatch.setattr(checker, "_engine", None)
    assert not checker.started()
    checker.start(json.dumps(index, ensure_ascii=False))
    assert checker.started()
    profile = json.dumps({"hukou": "330324", "residence": "330282", "birth_date": "1940-01-01"})
    wanted = json.loads(checker.wanted_json(profile))
    assert wanted == [["330324", "zhejiang/330324/checker.json"], ["330282", "zhejiang/330282/checker.json"]]
    checker.add_counties_json(json.dumps({code: parts[code] for code, _ in wanted}, ensure_ascii=False))
    assert json.loads(checker.wanted_json(profile)) == []
    reply = json.loads(checker.check_json(profile))
    assert reply["ok"] and {r["county"] for r in reply["answer"]["results"]} == {"330324", "330282"}
    assert checker.wanted_json("{not json") == "[]"
    assert not json.loads(checker.check_json("{not json"))["ok"]


def test_screening_reads_every_county_name_from_the_index():
    """A register's county cells are read against every county of the index, also those whose
    entries are not added yet (the names are in the index)."""
    from checker.screen import Counties
    index, parts = split(load_catalogue())
    counties = Counties(Engine(copy.deepcopy(index)).catalogue)
    for code, entry in parts.items():
        assert counties.resolve("户籍", entry["name"]) == code
        assert counties.name(code) == entry["name"]
    assert set(counties.known.split("、")) == {e["name"] for e in parts.values()}


def _register_bytes(rows_of):
    from registers import make_register
    from checker.tables import csv_bytes
    header, rows, _ = make_register(150, seed=11)
    return csv_bytes(header, rows_of(header, rows))


def test_a_registers_counties_are_added_before_it_is_screened(monkeypatch):
    """Above ALL_AT_START_BELOW the screening worker asks screen.wanted_json which counties a register
    names, adds those, and screens: the result is byte for byte the whole catalogue's. A register
    that names only 会同 wants only 会同; one with a row naming no county wants every county."""
    from checker.screen import screen_bytes, wanted_json
    from checker.tables import csv_bytes
    index, parts = split(load_catalogue(), lambda code: f"x/{code}.json")
    options = json.dumps({"name": "register.csv", "as_of": "2026-11-23"})
    data = _register_bytes(lambda header, rows: rows)
    full = screen_bytes(data, "register.csv", "2026-11-23", out_format="csv", annex1_format="csv", engine=Engine(load_catalogue()))

    monkeypatch.setattr(checker, "_engine", None)
    checker.start(json.dumps(index, ensure_ascii=False))
    wanted = json.loads(wanted_json(data, options))
    assert {code for code, _ in wanted} == set(parts)        # this register names every county
    checker.add_counties_json(json.dumps({code: parts[code] for code, _ in wanted}, ensure_ascii=False))
    assert json.loads(wanted_json(data, options)) == []
    got = screen_bytes(data, "register.csv", "2026-11-23", out_format="csv", annex1_format="csv")
    assert got["output"] == full["output"] and got["annex1"] == full["annex1"]

    # only 会同's rows: only 会同 is wanted
    checker.start(json.dumps(index, ensure_ascii=False))
    huitong = _register_bytes(lambda header, rows: [r for r in rows if "会同" in r[header.index("户籍")]
                                                     and r[header.index("常住地")] in ("", "会同", "会同县", "431225")])
    assert json.loads(wanted_json(huitong, options)) == [["431225", "x/431225.json"]]
    # a row that names no county reads every county: all are wanted
    header = ["姓名", "出生日期", "经济状况"]
    nameless = csv_bytes(header, [["王秀英", "1940-03-01", "低保"]])
    assert {code for code, _ in json.loads(wanted_json(nameless, options))} == set(parts)
    # with the --county default, that row names it
    assert json.loads(wanted_json(nameless, json.dumps({"name": "r.csv", "county": "会同县"}))) == [["431225", "x/431225.json"]]
    # a file that is not a register wants nothing (screening says what is wrong with it)
    assert wanted_json(b"\x00\x01garbage", options) == "[]"
