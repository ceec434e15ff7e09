"""The rules model says what a document says, no more and no less (issue #11): our readings fail
to `maybe`, never a certain 不符合; a contradiction is `maybe` in its contested band; a branch the
document leaves to other rules is at most `maybe`; 本省户籍; amounts only on the branch that pays them;
silence on applying is said. Generic: a small catalogue written here, no county's data."""
from __future__ import annotations

import copy

import pytest

from checker.engine import Engine

DOUBT_HUKOU = "文件没有写要本县户籍；请向县民政局问清楚。"
DOUBT_AGE = "文件一处写60-80周岁，一处写60周岁以上。"


def service(sid, conditions, **extra):
    base = {"id": sid, "county": "330324", "name": sid, "apply": "apply", "apply_at": "hukou", "where": "村里",
            "summary": "s", "url": "u/", "source_text": "doc 第1项", "basis_doc": "doc", "conditions": conditions}
    base.update(extra)
    return base


SERVICES = [
    service("330324-convention", [{"hukou": ["330324"], "reading": "convention", "doubt": DOUBT_HUKOU}]),
    service("330324-contested", [{"contested": [{"age": {"min": 60, "max": 80}}, {"age": {"min": 60}}],
                                  "doubt": DOUBT_AGE}]),
    service("330324-atmost", [{"any": [
        {"field": "economic", "in": ["tekun"]},
        {"field": "living", "in": ["alone"], "at_most": "maybe", "doubt": "按相关规定，文件没有写条件。"}]}]),
    service("330324-province", [{"hukou_province": ["33"]}]),
    service("330324-laterdoubt", [{"any": [
        {"field": "economic", "in": ["tekun"]},
        {"age": {"min": 80}, "at_most": "maybe", "doubt": "高龄按相关规定，文件没有写条件。"}]}]),
    service("330324-contestedlater", [{"contested": [
        {"all": [{"field": "economic", "in": ["dibao"]}, {"age": {"min": 80}}]},
        {"all": [{"field": "economic", "in": ["dibao", "dibian"]}, {"field": "care_level", "in": ["severe"]}]}],
        "doubt": DOUBT_AGE}]),
    service("330324-choose", [{"field": "economic", "in": ["tekun", "dibao"]}], amount={
        "text": "特困每户8000元；其他按规定", "per": "household",
        "choose": [{"if": {"all": [{"field": "economic", "in": ["tekun"]},
                                   {"not": {"field": "barrier_free_done", "is": True}}]},
                    "yuan": 8000, "text": "每户8000元"}]}),
    service("330324-bybool", [], amount={"text": "看情况", "per": "month",
                                         "by": {"field": "in_institution", "cases": {"false": {"yuan": 100, "text": "每月100元"}}}}),
    service("330324-silent", [{"field": "economic", "in": ["dibao"]}], apply="unknown", apply_at="unknown"),
    service("330324-auto", [{"field": "economic", "in": ["dibao"]}], apply="automatic", apply_at="none"),
]

CATALOGUE = {
    "recognised": {"economic": "低保、低边或特困对象"},
    "counties": {"330324": {"code": "330324", "name": "永嘉县", "province": "浙江省", "services": SERVICES,
                            "ask": "县民政局（0577-67266075）"},
                 "431225": {"code": "431225", "name": "会同县", "province": "湖南省", "services": []}},
}


@pytest.fixture(scope="module")
def engine():
    return Engine(copy.deepcopy(CATALOGUE))


def result(engine, sid, **profile):
    answer = engine.check({"as_of": "2026-11-23", **profile})
    return next(r for r in answer["results"] if r["service"] == sid)


def test_a_convention_that_fails_is_maybe_with_its_reason_never_ineligible(engine):
    r = result(engine, "330324-convention", hukou="431225", residence="330324")
    assert r["status"] == "maybe"
    assert r["doubts"] == [DOUBT_HUKOU] and r["missing"] == []
    assert DOUBT_HUKOU in r["why"][0]
    assert result(engine, "330324-convention", hukou="330324")["status"] == "eligible"


def test_the_answer_says_which_conditions_are_our_readings(engine):
    r = result(engine, "330324-convention", hukou="330324")
    assert r["readings"] == [{"label": "永嘉县户籍", "kind": "convention", "kind_text": "本页的约定，文件没有写",
                              "text": DOUBT_HUKOU}]
    assert r["ask"] == "县民政局（0577-67266075）"
    assert "doubts" not in r


@pytest.mark.parametrize("age, status", [(59, "upcoming"), (60, "eligible"), (80, "eligible"), (81, "maybe"), (95, "maybe")])
def test_a_contradiction_is_maybe_in_the_contested_band_only(engine, age, status):
    r = result(engine, "330324-contested", hukou="330324", age=age)
    assert r["status"] == status
    assert ("doubts" in r) == (status == "maybe")


def test_a_branch_left_to_other_rules_is_at_most_maybe(engine):
    assert result(engine, "330324-atmost", hukou="330324", living="alone", economic="none")["status"] == "maybe"
    assert result(engine, "330324-atmost", hukou="330324", living="alone", economic="tekun")["status"] == "eligible"
    assert result(engine, "330324-atmost", hukou="330324", living="with_family", economic="none")["status"] == "ineligible"


def test_a_later_branch_that_can_only_be_maybe_is_upcoming_with_its_doubt(engine):
    r = result(engine, "330324-laterdoubt", hukou="330324", economic="none", birth_date="1956-06-01")
    assert r["status"] == "upcoming" and r["from"] == "2036-06-01" and r["doubts"]
    certain = result(engine, "330324-laterdoubt", hukou="330324", economic="tekun", birth_date="1956-06-01")
    assert certain["status"] == "eligible" and "doubts" not in certain


def test_a_contest_where_the_other_reading_is_unknown_asks_first(engine):
    r = result(engine, "330324-contestedlater", hukou="330324", economic="dibao", birth_date="1940-01-01")
    assert r["status"] == "maybe" and r["missing"] == ["care_level"] and "doubts" not in r
    r = result(engine, "330324-contestedlater", hukou="330324", economic="dibao", care_level="mild", birth_date="1940-01-01")
    assert r["status"] == "maybe" and r["doubts"] == [DOUBT_AGE]


def test_later_by_one_contested_reading_only_is_upcoming_in_doubt(engine):
    r = result(engine, "330324-contestedlater", hukou="330324", economic="dibao", care_level="intact", birth_date="1956-06-01")
    assert r["status"] == "upcoming" and r["doubts"] == [DOUBT_AGE]


@pytest.mark.parametrize("hukou, status", [("330324", "eligible"), ("330783", "eligible"), ("431225", "ineligible"),
                                           ("other", "maybe")])
def test_province_hukou(engine, hukou, status):
    assert result(engine, "330324-province", hukou=hukou, residence="330324")["status"] == status


def test_an_amount_is_shown_only_on_the_branch_that_pays_it(engine):
    r = result(engine, "330324-choose", hukou="330324", economic="tekun", barrier_free_done=False)
    assert r["amount"]["yuan"] == 8000
    assert result(engine, "330324-choose", hukou="330324", economic="tekun", barrier_free_done=True)["amount"]["yuan"] is None
    assert result(engine, "330324-choose", hukou="330324", economic="dibao")["amount"]["yuan"] is None
    unknown = engine.check({"as_of": "2026-11-23", "hukou": "330324", "economic": "tekun"})
    assert "barrier_free_done" in unknown["questions"]


def test_an_amount_by_a_yes_no_answer(engine):
    assert result(engine, "330324-bybool", hukou="330324", in_institution=False)["amount"]["yuan"] == 100
    assert result(engine, "330324-bybool", hukou="330324", in_institution=True)["amount"]["yuan"] is None


def test_silence_on_applying_is_said_with_who_to_ask(engine):
    r = result(engine, "330324-silent", hukou="330324", economic="dibao")
    assert r["apply"] == "unknown" and r["ask"] == "县民政局（0577-67266075）"


def test_an_automatic_maybe_on_a_status_says_the_status_must_be_obtained_first(engine):
    r = result(engine, "330324-auto", hukou="330324")
    assert r["status"] == "maybe"
    assert "要先申请认定" in r["apply_note"] and "文件没有写怎么认定" in r["apply_note"] and "0577-67266075" in r["apply_note"]
    assert "apply_note" not in result(engine, "330324-auto", hukou="330324", economic="dibao")


def test_the_batch_answer_carries_doubts_and_apply_notes(engine):
    from checker.profile import parse_profile
    results, _, _ = engine.brief(parse_profile({"as_of": "2026-11-23", "hukou": "431225", "residence": "330324"}))
    by_id = {r["service"]: r for r in results}
    assert by_id["330324-convention"]["status"] == "maybe" and by_id["330324-convention"]["doubts"] == [DOUBT_HUKOU]
    assert "330324-province" not in by_id  # ineligible: left out of a batch


def test_the_checker_stands_alone_and_no_module_imports_another_modules_private_names():
    """checker/ reads only the compiled JSON: no import of site_build (not even lazily), and no
    `from x import _private` anywhere in checker/, site_build/ or bench/."""
    import ast
    from pathlib import Path
    root = Path(__file__).resolve().parent.parent
    problems = []
    for folder in ("checker", "site_build", "bench"):
        for path in sorted((root / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom):
                    module = node.module or ""
                    if folder == "checker" and module.split(".")[0] == "site_build":
                        problems.append(f"{path.name}: from {module} import …")
                    for alias in node.names:
                        if alias.name.startswith("_") and not alias.name.startswith("__"):
                            problems.append(f"{path.relative_to(root)}: from {module} import {alias.name}")
                elif isinstance(node, ast.Import) and folder == "checker":
                    problems += [f"{path.name}: import {a.name}" for a in node.names if a.name.split(".")[0] == "site_build"]
    assert not problems, problems
