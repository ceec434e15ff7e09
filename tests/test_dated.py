"""Dated rules (issue #13, the OpenFisca way): a county keeps more than one document over time; an
amount carries a plain list of dated values (`changes`), a service the day it starts (`effective`)
and the last day it is in force (`until`). The engine answers for the profile's `as_of` with the
source of the value it used — on CPython, on the command line and on Pyodide alike — and the pages
show what is in force today and when it changes.

The fixture county (tests/fixtures/dated, 示例县, made up) has two documents: 高龄津贴 rises from
60 yuan (2023 document) to 100 yuan on 2027-01-01 (2027 document); 助餐补贴 (2023) ends on
2026-12-31; 老年食堂 (2027) starts on 2027-01-01."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from checker.engine import Engine
from site_build import checker_assets
from site_build import pages as site_pages
from site_build.catalogue import CatalogueError, load_catalogue, write_compiled

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "dated"
ELDER = {"hukou": "330326", "birth_date": "1940-01-01"}
DAYS = {"2026-12-31": {"330326-1": ("eligible", 60), "330326-2": ("eligible", 2), "330326-3": ("upcoming", None)},
        "2027-01-01": {"330326-1": ("eligible", 100), "330326-2": ("ineligible", 2), "330326-3": ("eligible", None)}}


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(FIXTURE)


@pytest.fixture(scope="module")
def compiled(catalogue, tmp_path_factory):
    return write_compiled(catalogue, tmp_path_factory.mktemp("dated") / "catalogue.json")


def statuses(answer):
    return {r["service"]: (r["status"], (r["amount"] or {}).get("yuan")) for r in answer["results"]}


@pytest.mark.parametrize("day", sorted(DAYS))
def test_the_engine_answers_for_as_of_on_both_sides_of_a_change(catalogue, day):
    answer = Engine(catalogue).check({"as_of": day, **ELDER})
    assert statuses(answer) == DAYS[day]


def test_the_answer_names_the_document_of_the_value_it_used_and_the_change_to_come(catalogue):
    before = {r["service"]: r for r in Engine(catalogue).check({"as_of": "2026-12-31", **ELDER})["results"]}
    amount = before["330326-1"]["amount"]
    assert amount["since"]["document"] == "shili-2023.txt" and "2023年版" in amount["since"]["text"]
    assert amount["next_change"] == {"from": "2027-01-01", "document": "shili-2027.txt", "text": "2027年1月1日起：每月100元"}
    assert before["330326-2"]["source"] == "shili-2023.txt 第2项" and "2023年版" in before["330326-2"]["basis_doc"]
    assert before["330326-3"]["from"] == "2027-01-01"
    after = {r["service"]: r for r in Engine(catalogue).check({"as_of": "2027-06-01", **ELDER})["results"]}
    assert after["330326-1"]["amount"]["since"]["document"] == "shili-2027.txt"
    assert "next_change" not in after["330326-1"]["amount"]
    assert any("执行到2026年12月31日" in w and "✗" in w for w in after["330326-2"]["why"])


@pytest.mark.parametrize("day", sorted(DAYS))
def test_the_command_line_answers_for_as_of_from_another_catalogue(compiled, day):
    run = subprocess.run([sys.executable, "-m", "checker", "--catalogue", str(compiled), "check", "-"],
                         input=json.dumps({"as_of": day, **ELDER}), capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert statuses(json.loads(run.stdout)) == DAYS[day]


@pytest.mark.skipif(not shutil.which("node") or not (checker_assets.PYODIDE_NPM / "pyodide.mjs").exists(),
                    reason="node or node_modules/pyodide is missing: run scripts/setup.sh")
def test_pyodide_answers_the_same_dated_change(compiled, tmp_path):
    files = checker_assets.build_py(tmp_path, catalogue=json.loads(compiled.read_text(encoding="utf-8")))
    profiles = [{"as_of": day, **ELDER} for day in sorted(DAYS)]
    out = checker_assets.run_node({"dir": str(tmp_path), **files, "profiles": profiles})
    for day, got in zip(sorted(DAYS), out["answers"]):
        assert got["ok"], got
        assert statuses(got["answer"]) == DAYS[day]


def test_pages_show_what_is_in_force_today_and_when_it_changes(catalogue):
    site = site_pages.Site(catalogue, today=dt.date(2026, 12, 15))
    page = site.render("zhejiang/shili/1.md")
    assert "每月60元" in page and "从2027年1月1日起：每月100元" in page and "2027年版" in page
    later = site_pages.Site(catalogue, today=dt.date(2027, 2, 1))
    assert "每月100元" in later.render("zhejiang/shili/1.md") and "从2027年1月1日起" not in later.render("zhejiang/shili/1.md")
    assert "已经停止" in later.render("zhejiang/shili/2.md")


def test_a_dated_value_must_come_from_a_document_of_the_county_and_in_order(tmp_path):
    shutil.copytree(FIXTURE, tmp_path / "c")
    path = tmp_path / "c" / "zhejiang" / "shili.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('{from: "2027-01-01", document: shili-2027.txt, yuan: 100, text: 每月100元}',
                                 '{from: "2027-01-01", document: nowhere.txt, yuan: 100, text: 每月100元}'), encoding="utf-8")
    with pytest.raises(CatalogueError) as err:
        load_catalogue(tmp_path / "c")
    assert "services[0].amount.changes[0].document: 'nowhere.txt' is not one of the county's documents" in str(err.value)


@pytest.mark.parametrize("month, county_share", [("2026-12", "60.00"), ("2027-01", "50.00")])
def test_a_settlement_uses_the_shares_in_force_in_the_months_it_settles(catalogue, month, county_share):
    from checker.settle import settle
    header = ["户籍镇（街道）", "服务机构", "月份"]
    s = settle(header, [["东镇", "东镇服务中心", month]], "100", catalogue=catalogue, county="330326")
    assert [str(s["block"].split(Decimal("100"))[0])] == [county_share]


def test_a_settlement_never_mixes_two_splits(catalogue):
    from checker.settle import settle
    from checker.tables import TableError
    header = ["户籍镇（街道）", "服务机构", "月份"]
    with pytest.raises(TableError) as err:
        settle(header, [["东镇", "A", "2026-12"], ["西镇", "B", "2027-01"]], "100", catalogue=catalogue, county="330326")
    assert "分摊比例" in err.value.zh and "2027-01-01" in err.value.zh
