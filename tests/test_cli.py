"""The command line of ../shared/profile.md, run as a user runs it."""
from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

import checker
from profiles import random_profile

ROOT = Path(__file__).resolve().parent.parent


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "checker", *args], cwd=ROOT, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_check_prints_the_same_answer_as_the_library(tmp_path):
    profile = random_profile(random.Random(7))
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(profile, ensure_ascii=False), encoding="utf-8")
    done = run("check", str(path))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == checker.check(profile)


def test_check_reads_standard_input():
    profile = {"as_of": "2026-11-23", "hukou": "330324", "birth_date": "1940-01-01"}
    done = run("check", "-", stdin=json.dumps(profile))
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["as_of"] == "2026-11-23"
    assert {r["county"] for r in answer["results"]} == {"330324"}


@pytest.mark.parametrize("profile, field", [
    ({"birth_date": "1950-02-30"}, "birth_date"),
    ({"hukou": "999999"}, "hukou"),
    ({"economic": "poor"}, "economic"),
    ({"as_of": "2026-01-01", "birth_date": "2027-01-01"}, "birth_date"),
])
def test_bad_input_exits_2_naming_the_field_in_chinese_and_english(profile, field):
    done = run("check", "-", stdin=json.dumps(profile))
    assert done.returncode == 2
    assert field in done.stderr and "Traceback" not in done.stderr
    assert "输入有误" in done.stderr and "bad input" in done.stderr
    assert done.stdout == ""


def test_a_file_that_is_not_json_exits_2(tmp_path):
    path = tmp_path / "p.json"
    path.write_text("{hukou: 330324}")
    done = run("check", str(path))
    assert done.returncode == 2 and "JSON" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("code, count", [("330324", 35), ("330783", 28), ("431225", 27)])
def test_services_lists_every_item_of_the_county(code, count):
    done = run("services", "--county", code)
    assert done.returncode == 0, done.stderr
    services = json.loads(done.stdout)
    assert len(services) == count
    assert all(s["id"].startswith(code + "-") for s in services)


def test_services_of_an_unknown_county_exits_2():
    done = run("services", "--county", "110101")
    assert done.returncode == 2 and "110101" in done.stderr
