"""The engine's rules that do not depend on one county: ages, dates, unknowns, bad input; and
properties over every profile in the vocabulary (hypothesis)."""
from __future__ import annotations

import datetime as dt
import json
import random

import pytest
from hypothesis import given, settings, strategies as st

import checker
from checker.engine import Facts
from checker.profile import FIELDS, ProfileError, age_on, birthday, parse_profile
from profiles import random_profile

D = dt.date.fromisoformat


def test_age_counts_completed_years_and_the_birthday_itself():
    assert age_on(D("1946-11-23"), D("2026-11-22")) == 79
    assert age_on(D("1946-11-23"), D("2026-11-23")) == 80


def test_someone_born_on_29_february_comes_of_age_on_1_march_in_a_common_year():
    assert birthday(D("1948-02-29"), 80) == D("2028-02-29")
    assert birthday(D("1947-02-28"), 80) == D("2027-02-28")
    assert birthday(D("1944-02-29"), 81) == D("2025-03-01")
    assert age_on(D("1944-02-29"), D("2025-02-28")) == 80
    assert age_on(D("1944-02-29"), D("2025-03-01")) == 81


def test_an_empty_profile_is_all_unknown_never_no():
    answer = checker.check({"as_of": "2026-11-23"})
    assert answer["results"], "with no county known, every county's services are shown"
    assert {r["status"] for r in answer["results"]} <= {"maybe", "eligible"}
    assert answer["questions"][0] in ("hukou", "birth_date")


def test_residence_defaults_to_hukou():
    assert parse_profile({"hukou": "330324"})["residence"] == "330324"


def test_other_stands_for_a_county_outside_the_catalogue():
    answer = checker.check({"as_of": "2026-11-23", "hukou": "other", "residence": "330282", "birth_date": "1941-03-15"})
    assert {r["county"] for r in answer["results"]} == {"330282"}
    assert all(r["status"] == "ineligible" for r in answer["results"] if r["service"] == "330282-home-care")
    assert "不在本目录" in answer["notes"][0] and "other" not in answer["notes"][0]


def test_a_county_outside_the_catalogue_is_accepted_and_said_so():
    answer = checker.check({"as_of": "2026-11-23", "hukou": "330302", "residence": "330324"})
    assert {r["county"] for r in answer["results"]} == {"330324"}
    assert "330302" in answer["notes"][0]


BAD_VALUES = {
    "as_of": "2026-02-30", "birth_date": "1950-13-01", "age": -3, "sex": "m", "hukou": "999999",
    "residence": "33032", "lives_outside_hukou_town": "yes", "months_at_residence": 1.5, "fixed_residence": 1,
    "island_relocated": "是", "relocated_on": "2020/01/01", "economic": "poor", "tekun_mode": "home_care",
    "per_capita_income": -1, "care_level": "bad", "dementia": None and 0 or "no", "disability_grade": 5,
    "has_disability_card": "true", "disability_type": "deaf", "family_planning_special": 0, "living": "lonely",
    "no_supporter": "n", "military": "veteran", "state_pension_for_entitled": "y", "rural_veteran_soldier": 2,
    "heroic_injury": [], "employee_pension": "1", "resident_pension": {}, "resident_medical": "t",
    "in_institution": "f", "homeless": 1.0, "retrofit_done": "done", "chronic": ["asthma"], "child_hukou": 330324,
    "lives_with_child_in_town": "yes", "barrier_free_done": "否", "lives_with_child_in_urban_area": 1,
    "only_child_died": "yes",
}


def test_every_field_has_a_bad_value_test():
    assert set(BAD_VALUES) == set(FIELDS)


@pytest.mark.parametrize("field", sorted(BAD_VALUES))
def test_a_bad_value_is_refused_naming_the_field_and_what_is_allowed(field):
    with pytest.raises(ProfileError) as err:
        parse_profile({"as_of": "2026-11-23", field: BAD_VALUES[field]})
    assert err.value.field == field
    assert FIELDS[field][1] in err.value.zh and "允许" in err.value.zh
    assert "allowed" in err.value.en


def test_a_birth_date_after_the_check_date_is_refused():
    with pytest.raises(ProfileError) as err:
        parse_profile({"as_of": "2026-11-23", "birth_date": "2026-11-24"})
    assert err.value.field == "birth_date" and "晚于" in err.value.zh


def test_an_unknown_field_is_refused():
    with pytest.raises(ProfileError) as err:
        parse_profile({"hukuo": "330324"})
    assert err.value.field == "hukuo"


def test_check_json_returns_the_error_instead_of_raising():
    out = json.loads(checker.check_json('{"economic": "poor"}'))
    assert out["ok"] is False and out["error"]["field"] == "economic"
    out = json.loads(checker.check_json("{not json"))
    assert out["ok"] is False and out["error"]["field"] == "profile"


PROFILES = st.integers(min_value=0, max_value=2**32 - 1).map(lambda seed: random_profile(random.Random(seed)))


@settings(max_examples=300, deadline=None)
@given(PROFILES)
def test_no_profile_in_the_vocabulary_crashes_and_answers_are_deterministic(profile):
    first = checker.check(profile)
    assert first == checker.check(json.loads(json.dumps(profile)))
    for r in first["results"]:
        assert r["status"] in ("eligible", "maybe", "upcoming", "ineligible")
        # maybe: something unknown, or the answer rests on our reading (doubts say why)
        assert (r["status"] == "maybe") <= bool(r["missing"] or r.get("doubts"))
        assert r["why"] and r["source"]
    assert set(first["questions"]) <= set(FIELDS)


@settings(max_examples=200, deadline=None)
@given(PROFILES, st.integers(min_value=1, max_value=40))
def test_a_met_age_minimum_stays_met_as_the_elder_grows_older(profile, years):
    if "birth_date" not in profile:
        return
    engine = checker.engine()
    now = parse_profile(profile)
    later = dict(now, as_of=now["as_of"].replace(year=now["as_of"].year + years))
    facts_now, facts_later = Facts(now), Facts(later)
    for entry in engine.services.values():
        for cond, (label, fn) in zip(entry["s"]["conditions"], entry["conds"]):
            if "age" in cond and "max" not in cond["age"]:
                if fn(facts_now)[0] == "met":
                    assert fn(facts_later)[0] == "met", (entry["s"]["id"], label)


def test_the_monthly_total_adds_cash_only_not_services_or_choices():
    """永嘉: an 80-year-old in a 低保 family with 中度失能 gets 60 yuan 高龄津贴 in cash; the 125–500 yuan
    养老服务补贴 comes as services (in_kind) and is not added. (At 81 that subsidy is only maybe:
    the document says 60-80周岁 in one cell and 60周岁以上 in the next.)"""
    answer = checker.check({"as_of": "2026-11-23", "hukou": "330324", "birth_date": "1946-03-15", "economic": "dibao",
                            "care_level": "moderate"})
    status = {r["service"]: r for r in answer["results"]}
    assert status["330324-12"]["status"] == "eligible" and status["330324-12"]["amount"]["in_kind"]
    assert answer["monthly_total"]["yuan"] == 60 and answer["monthly_total"]["services"] == ["330324-11"]
