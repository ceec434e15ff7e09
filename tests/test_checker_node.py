"""The checker on Pyodide's Python, in Node (npm `pyodide`), with exactly the files the browser gets:
the wheel, the catalogue in parts (the index and each county's entry, added as the worker adds
them), the one-entry lock file and the trimmed standard library. Every YAML
case and generated profiles give the same answer as on CPython; the trimmed stdlib still holds every
module the checker imports; nothing can be fetched (the run is inside `unshare -rn`).
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml

import checker
from site_build import checker_assets

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = ROOT / "tests" / "cases"

pytestmark = pytest.mark.skipif(
    not shutil.which("node") or not (checker_assets.PYODIDE_NPM / "pyodide.mjs").exists(),
    reason="node or node_modules/pyodide is missing: run scripts/setup.sh")


def isolated() -> bool:
    return bool(shutil.which("unshare")) and subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0


def yaml_cases():
    out = []
    for path in sorted(CASES_DIR.glob("*/*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            out.append(case)
    return out


@pytest.fixture(scope="module")
def py_files(tmp_path_factory):
    out = tmp_path_factory.mktemp("checker-py")
    return out, checker_assets.build_py(out)


def test_nothing_can_be_fetched_during_the_node_runs():
    """The Node runs below happen in an empty network namespace, where any fetch fails."""
    if not isolated():
        pytest.skip("unshare -rn is not allowed here")
    probe = subprocess.run(["unshare", "-rn", "node", "-e",
                            "fetch('http://127.0.0.1:9/').then(()=>process.exit(0),()=>process.exit(7))"],
                           capture_output=True)
    assert probe.returncode == 7


def test_yaml_cases_and_generated_profiles_on_pyodide_match_cpython(py_files):
    directory, files = py_files
    cases = yaml_cases()
    assert cases, "no YAML cases in tests/cases"
    bad = [{"birth_date": "1950-02-30"}, {"hukou": 330324}, {"economic": "rich"}, {"age": -1}, ["not", "a", "dict"]]
    profiles = [c["profile"] for c in cases] + checker_assets.sample_profiles(100, seed=7) + bad
    out = checker_assets.run_node({"dir": str(directory), **files, "profiles": profiles})
    assert out["python"].startswith("3.14"), out["python"]
    assert out["loaded"] == [checker_assets.DIST_NAME]
    assert len(out["answers"]) == len(profiles)
    for profile, got in zip(profiles, out["answers"]):
        want = json.loads(checker.check_json(json.dumps(profile)))
        assert got == want, f"Pyodide and CPython differ for {profile}"
    # and the cases' own expectations hold on Pyodide
    for case, got in zip(cases, out["answers"]):
        assert got["ok"], (case["name"], got)
        results = {r["service"]: r for r in got["answer"]["results"]}
        for sid, want in case["expect"].items():
            assert results[sid]["status"] == want["status"], f"{case['name']}: {sid}"
            if "yuan" in want:
                assert (results[sid]["amount"] or {}).get("yuan") == want["yuan"], f"{case['name']}: {sid}"
            if "from" in want:
                assert results[sid]["from"] == want["from"], f"{case['name']}: {sid}"


def test_counties_are_read_only_when_a_profile_needs_them(py_files):
    """Above ALL_AT_START_BELOW (the national catalogue) the worker adds a county's entry when a
    profile first names it: the answers are the same, and no other county's entry is read."""
    directory, files = py_files
    codes = sorted(checker.engine().by_county)
    profiles = [{"hukou": codes[1], "birth_date": "1940-03-01"}, {"hukou": "110101", "age": 80},
                {"hukou": codes[1], "residence": codes[3], "age": 90}, {"hukou": codes[1], "economic": "dibao"}]
    out = checker_assets.run_node({"dir": str(directory), **files, "all_at_start": False, "profiles": profiles})
    index = json.loads((directory / files["catalogue"]).read_text(encoding="utf-8"))["index"]
    assert out["read_files"] == [index[codes[1]]["file"], index[codes[3]]["file"]]
    for profile, got in zip(profiles, out["answers"]):
        assert got == json.loads(checker.check_json(json.dumps(profile))), profile


def test_trimmed_stdlib_holds_every_module_the_checker_imports():
    used = set(checker_assets.trace(n_generated=120))
    kept = set(checker_assets.stdlib_keep())
    missing = sorted(used - kept)
    assert not missing, (f"site_build/pyodide_stdlib.txt lacks {missing}: run "
                         "`.venv/bin/python -m site_build.checker_assets --trace`")


def test_wheel_is_pure_python_with_a_matching_lock_and_the_catalogue_in_parts(py_files):
    directory, files = py_files
    wheel = directory / files["wheel"]
    assert wheel.name.endswith("-py3-none-any.whl")
    data = wheel.read_bytes()
    lock = json.loads((directory / files["lock"]).read_text(encoding="utf-8"))
    assert list(lock["packages"]) == [checker_assets.DIST_NAME]
    entry = lock["packages"][checker_assets.DIST_NAME]
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert entry["file_name"] == files["wheel"] and entry["imports"] == ["checker"] and entry["depends"] == []
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert "checker/catalogue.json" not in names      # it comes in parts, below
        for py in (ROOT / "checker").glob("*.py"):
            assert f"checker/{py.name}" in names
        assert all(n.startswith(("checker/", "yanglao_checker-")) for n in names), names
    # the index and the counties' entries make the whole catalogue again
    whole = checker.engine().catalogue
    index = json.loads((directory / files["catalogue"]).read_text(encoding="utf-8"))
    assert files["catalogue"] == f"catalogue-{hashlib.sha256((directory / files['catalogue']).read_bytes()).hexdigest()[:12]}.json"
    assert list(index["index"]) == list(whole["counties"]) and index["counties"] == {}
    for code, brief in index["index"].items():
        assert brief["file"] == f"{whole['counties'][code]['url']}checker-{hashlib.sha256((directory / brief['file']).read_bytes()).hexdigest()[:12]}.json"
        assert json.loads((directory / brief["file"]).read_text(encoding="utf-8")) == whole["counties"][code]
    assert {k: v for k, v in index.items() if k not in ("counties", "index")} == {k: v for k, v in whole.items() if k != "counties"}
    assert files["all_at_start"] is True          # today's catalogue: every county at the worker's start
    # the same sources give the same bytes (so the service worker cache only changes when they do)
    assert checker_assets.wheel_bytes()[1] == data


def test_site_holds_only_the_pyodide_files_the_checker_needs():
    site = ROOT / "site"
    runtime = site / "assets" / "pyodide" / checker_assets.pyodide_version()
    if not runtime.is_dir():
        pytest.skip("site/ is not built: run `make site`")
    # (the precompressed .br/.gz copies beside them are the same files, for the web server)
    assert sorted(p.name for p in runtime.iterdir() if p.suffix not in (".br", ".gz")) == sorted(checker_assets.PYODIDE_FILES)
    config = json.loads((site / "assets" / "checker" / "build.json").read_text(encoding="utf-8"))
    lock = json.loads((site / "assets" / "checker" / config["lock"]).read_text(encoding="utf-8"))
    assert len(lock["packages"]) == 1
    with zipfile.ZipFile(site / "assets" / "checker" / config["stdlib"]) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
        full = len([n for n in zipfile.ZipFile(checker_assets.PYODIDE_NPM / "python_stdlib.zip").namelist() if not n.endswith("/")])
        assert len(names) < full / 2
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
