"""The YAML cases in tests/cases/<province>/<county>.yaml (OpenFisca style: a sentence, a profile,
the expected answer), run through the engine; and the rule that every service has cases on both sides."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

import checker

CASES_DIR = Path(__file__).resolve().parent / "cases"


def load_cases():
    cases = []
    for path in sorted(CASES_DIR.glob("*/*.yaml")):
        for i, case in enumerate(yaml.safe_load(path.read_text(encoding="utf-8")) or []):
            cases.append(pytest.param(case, id=f"{path.stem}-{i + 1}-{case['name'][:30]}"))
    return cases


CASES = load_cases()


@pytest.mark.parametrize("case", CASES)
def test_case(case):
    answer = checker.check(case["profile"])
    results = {r["service"]: r for r in answer["results"]}
    for sid, expected in case["expect"].items():
        assert sid in results, f"{case['name']}: {sid} not in the answer"
        got = results[sid]
        assert got["status"] == expected["status"], f"{case['name']}: {sid} {got['status']} ≠ {expected['status']}; why: {got['why']}"
        if "yuan" in expected:
            assert (got["amount"] or {}).get("yuan") == expected["yuan"], f"{case['name']}: {sid} amount {got['amount']}"
        if "from" in expected:
            assert got["from"] == expected["from"], f"{case['name']}: {sid} from {got['from']}"
        if "missing" in expected:
            assert set(got["missing"]) == set(expected["missing"]), f"{case['name']}: {sid} missing {got['missing']}"
        if "doubt" in expected:  # the answer rests on our reading or a contested band: its reason is given
            assert bool(got.get("doubts")) == expected["doubt"], f"{case['name']}: {sid} doubts {got.get('doubts')}"


def _can_fail(cond) -> bool:
    """A condition that can come out a certain "not met": not an age (only "not yet"), not our reading
    (fails to maybe), not a contest between two such."""
    if "age" in cond or cond.get("reading"):
        return False
    if "contested" in cond:
        return all(_can_fail(c) for c in cond["contested"])
    if "any" in cond:
        return all(_can_fail(c) for c in cond["any"])
    if "all" in cond:
        return any(_can_fail(c) for c in cond["all"])
    return True


def _never_certain(cond) -> bool:
    """A condition that can at best give maybe: `at_most: maybe`, an `any` of such, an `all` holding one."""
    if cond.get("at_most") == "maybe":
        return True
    if "any" in cond:
        return all(_never_certain(c) for c in cond["any"])
    if "all" in cond:
        return any(_never_certain(c) for c in cond["all"])
    return False


def test_every_service_has_an_eligible_and_an_ineligible_case():
    """Both sides of every service. A service whose only conditions are ages and our readings has
    no certain "no" side: an elder who is too young is `upcoming`, one failing a reading `maybe`,
    which then count as the other side."""
    seen = {}
    for param in CASES:
        for sid, expected in param.values[0]["expect"].items():
            seen.setdefault(sid, set()).add(expected["status"])
    lacking = []
    for county in checker.engine().catalogue["counties"].values():
        for s in county["services"]:
            statuses = seen.get(s["id"], set())
            # conditions that can fail for certain (not ages, which are only "not yet", nor our readings,
            # which fail to maybe); a service with none has upcoming or maybe as its other side
            certain = [c for c in s["conditions"] if _can_fail(c)]
            other_side = {"ineligible"} if certain else {"ineligible", "upcoming", "maybe"}
            # a service the document leaves wholly to other rules (every path at most maybe) has maybe as its yes side
            yes_side = {"maybe"} if any(_never_certain(c) for c in s["conditions"]) else {"eligible"}
            if not statuses & yes_side or not statuses & other_side:
                lacking.append(f"{s['id']} {s['name']}: {sorted(statuses) or 'no case'}")
    assert not lacking, "services without both an eligible and an ineligible case:\n" + "\n".join(lacking)
