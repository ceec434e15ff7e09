"""The cases pin every rule down (issue #11): for every service, every condition and every branch of
an `any` has a case on each side (met, and not met or not yet), every reading (our convention or
inference) has a case where it fails and the answer is only `maybe`, every `at_most: maybe` branch a
case where it holds (maybe) and one where it does not, every contested condition a case in its band.

A case counts for a service when its `expect` names that service; each condition is evaluated on the
case's profile by the engine's own compiled condition."""
from __future__ import annotations

import pytest

import checker
from checker.engine import DOUBT, LATER, MET, UNMET, Facts, compile_condition
from checker.profile import parse_profile
from test_cases import CASES

ENGINE = checker.engine()
CATALOGUE = ENGINE.catalogue


def nodes(conditions, path="conditions"):
    """(path, condition) for every condition a case must pin: top-level ones and, inside any/all,
    every branch; not the halves of a `contested` nor the inside of a `not` (the node itself counts)."""
    for i, cond in enumerate(conditions):
        here = f"{path}[{i}]"
        yield here, cond
        for key in ("any", "all"):
            if key in cond:
                yield from nodes(cond[key], f"{here}.{key}")


def needed(cond) -> dict:
    """side name -> the states that count for it."""
    if cond.get("at_most") == "maybe" and cond.get("reading"):  # maybe whether it holds or not
        return {"holds or fails (maybe)": {DOUBT}}
    if cond.get("at_most") == "maybe":
        return {"holds (maybe)": {DOUBT}, "does not hold": {UNMET, LATER}}
    if "contested" in cond:
        return {"both readings": {MET}, "contested band (maybe)": {DOUBT}}
    if cond.get("reading"):
        return {"met": {MET}, "fails → maybe": {DOUBT}}
    if "any" in cond and any(c.get("at_most") or c.get("reading") for c in cond["any"]):
        # a branch that is our reading or at most maybe: failing the rest may leave only maybe
        return {"met": {MET}, "not met": {UNMET, LATER, DOUBT}}
    return {"met": {MET}, "not met": {UNMET, LATER}}


def gaps():
    profiles = {}
    for param in CASES:
        case = param.values[0]
        facts = Facts(parse_profile(case["profile"]))
        for sid in case["expect"]:
            profiles.setdefault(sid, []).append(facts)
    out = []
    for county in CATALOGUE["counties"].values():
        for s in county["services"]:
            for path, cond in nodes(s["conditions"]):
                fn = compile_condition(cond, CATALOGUE)[1]
                seen = {fn(f)[0] for f in profiles.get(s["id"], [])}
                for side, states in needed(cond).items():
                    if not seen & states:
                        label = compile_condition(cond, CATALOGUE)[0]
                        out.append(f"{s['id']} {s['name']} {path} 「{label[:40]}」: no case where it {side}")
    return out


def test_every_condition_and_branch_has_a_case_on_each_side():
    missing = gaps()
    assert not missing, f"{len(missing)} sides without a case:\n" + "\n".join(missing)
