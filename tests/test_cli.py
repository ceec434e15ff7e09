"""The command line of checker/README.md, run as a user runs it."""
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


# ---------------------------------------------------------------- reliability report §1 (2026-11-29)
# Every input ends in exit 0 or 2 with a message in Chinese and English naming the field or file.

DEEP = "{\"x\":" + "[" * 100_000 + "]" * 100_000 + "}"


@pytest.mark.parametrize("stdin, field", [
    ('{"sex": ["male"]}', "sex"),                         # 1.1 unhashable list
    ('{"sex": {"a": 1}}', "sex"),                         # 1.1 unhashable dict
    ('{"economic": ["dibao"]}', "economic"),              # 1.1
    ('{"military": [{}]}', "military"),                   # 1.1
    ('{"chronic": [["hypertension"]]}', "chronic"),       # 1.1
    ('{"military": ' + "[" * 500 + "]" * 500 + "}", "military"),  # 1.1 nested 500 deep
    ('{"age": ' + "9" * 5000 + "}", "PROFILE"),           # 1.2 a 5000-digit integer
    (DEEP, "PROFILE"),                                    # 1.3 nested 100,000 deep
    ('{"hukou": "330324", "per_capita_income": 1e400}', "per_capita_income"),       # 1.5
    ('{"hukou": "330324", "per_capita_income": Infinity}', "per_capita_income"),    # 1.5
    ('{"hukou": "330324", "per_capita_income": NaN}', "per_capita_income"),
    ('{"months_at_residence": 2000}', "months_at_residence"),
    ('{"hukou": "' + "3" * 100_000 + '"}', "hukou"),
    ("", "PROFILE"),
    ("[1, 2]", "profile"),
])
def test_report_1_bad_profiles_exit_2_naming_the_field(stdin, field):
    done = run("check", "-", stdin=stdin)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert field in done.stderr and "输入有误" in done.stderr and "bad input" in done.stderr
    assert len(done.stderr) < 2000  # the value is cut short, not echoed whole


def test_report_1_7_months_message_gives_the_months_rule():
    done = run("check", "-", stdin='{"months_at_residence": 2000}')
    assert "1600" in done.stderr and "130" not in done.stderr


def test_report_1_4_a_profile_file_not_in_utf8_names_the_file_and_line(tmp_path):
    path = tmp_path / "p.json"
    path.write_bytes(b'{\n"hukou": "\xc0\xc1"}')
    done = run("check", str(path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert str(path) in done.stderr and "UTF-8" in done.stderr and "第2行" in done.stderr and "line 2" in done.stderr


def test_report_1_6_a_bom_is_accepted_on_standard_input_as_in_a_file(tmp_path):
    profile = b'\xef\xbb\xbf{"as_of": "2026-11-23", "hukou": "330324", "age": 80}'
    path = tmp_path / "p.json"
    path.write_bytes(profile)
    from_stdin = subprocess.run([sys.executable, "-m", "checker", "check", "-"], cwd=ROOT, input=profile,
                                capture_output=True, timeout=120)
    from_file = run("check", str(path))
    assert from_stdin.returncode == 0 and from_file.returncode == 0, from_stdin.stderr
    assert json.loads(from_stdin.stdout) == json.loads(from_file.stdout)


def test_report_1_9_float_integers_are_one_number(tmp_path):
    base = {"as_of": "2026-11-23", "hukou": "330324", "age": 80, "economic": "dibao"}
    as_int = run("check", "-", stdin=json.dumps(dict(base, per_capita_income=800, disability_grade=1)))
    as_float = run("check", "-", stdin=json.dumps(dict(base, per_capita_income=800.0, disability_grade=1.0)))
    assert as_int.returncode == as_float.returncode == 0, as_float.stderr
    assert as_int.stdout == as_float.stdout  # the same text, as in the browser


@pytest.mark.parametrize("args", [
    ("check", "/nonexistent/p.json"),
    ("check", "."),
    ("services", "--county", "abc"),
    ("services", "--county", "330324x"),
    ("services",),
    ("nonsense",),
    (),
])
def test_report_1_bad_arguments_and_files_exit_2(args):
    done = run(*args)
    assert done.returncode == 2 and "Traceback" not in done.stderr and done.stderr


def test_an_output_that_cannot_be_written_exits_2():
    done = subprocess.run(f"{sys.executable} -m checker services --county 330324 > /dev/full", shell=True, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr and "No space" in done.stderr


def test_dates_far_from_today_are_refused_not_crashed():
    """as_of 9999-12-31 with a young elder: the answer's dates (130 years on) would overflow."""
    done = run("check", "-", stdin='{"as_of": "9999-12-31", "birth_date": "9990-01-01", "hukou": "330324"}')
    assert done.returncode == 2 and "Traceback" not in done.stderr and "as_of" in done.stderr and "2200" in done.stderr


SHAPES = [None, True, False, 0, -1, 1.5, 1e308, float("inf"), "", "x", "330324", "other", "1940-02-29", "2200-12-31",
          "1800-01-01", [], ["a"], [["a"]], {}, {"a": 1}, 10 ** 50, 80, 130, 1600, "male", "dibao", "home", 1, [1],
          ["hypertension"], ["veteran"]]


def test_any_value_of_any_shape_in_any_field_is_an_answer_or_a_profile_error():
    """3,000 random profiles of odd shapes (in-process, as the command line and the browser call it)."""
    from checker.profile import FIELDS, ProfileError
    rng = random.Random(5)
    counties = list(checker.engine().catalogue["counties"]) + ["other"]
    for _ in range(3000):
        profile = {"as_of": rng.choice(["2026-11-23", "2200-12-31", "1800-01-01", None])}
        for field in rng.sample(list(FIELDS), rng.randint(1, 8)):
            profile[field] = rng.choice(SHAPES)
        if rng.random() < 0.5:
            profile["hukou"] = rng.choice(counties)
        try:
            json.dumps(checker.check(profile), allow_nan=False)
        except ProfileError:
            pass
