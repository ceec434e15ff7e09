"""走访 (issue #14) on CPython: a register opened as the visit list, the visits exported back as a
register, and that register screened again — the same answers as screening the original register for
the same people and as the checker gave at the door; every row back, every visit out."""
from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import checker
from checker.profile import FIELDS, OTHER_COUNTY
from checker.screen import RESULT_COLUMNS, screen_bytes
from checker.tables import TableError, csv_bytes, open_table
from checker.visits import (SOURCE_LINE, VILLAGE, VISIT_DATE, export_bytes, export_json, export_rows, from_register,
                            from_register_json)
from registers import make_register
from test_screen import expected_columns

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "registers"
AS_OF = "2026-11-23"
LATER = "2027-05-01"  # re-screening on another day: each exported row keeps the day it was answered for


def table(data: bytes, name: str):
    """(header, rows) of a one-sheet file as our reader reads it."""
    rows = [cells for _, cells in open_table(data, name).rows]
    width = len(rows[0])
    return rows[0], [r + [""] * (width - len(r)) for r in rows[1:]]  # an XLSX row leaves out its empty last cells


def results(header, row) -> dict:
    n = len(RESULT_COLUMNS)
    return dict(zip(RESULT_COLUMNS, row[len(header) - n:len(header)]))


_SAME_PERSON = re.compile(r"与第\d+行是同一人（[^）]*）：只算一次，附件1只列一次；?")


def comparable(cols: dict) -> dict:
    """The result columns without the line numbers of 提示's same-person note (lines differ between files)."""
    return {**cols, "提示": _SAME_PERSON.sub("", cols["提示"]), "每月合计（元）": str(cols["每月合计（元）"])}


def visits_from(drafts, day=AS_OF):
    """What the checker page saves for each register row after the visit (nothing changed at the door)."""
    out = []
    for n, d in enumerate(drafts["rows"]):
        out.append({"id": f"v-{n:04x}", "visited": day, "status": "visited", "village": d["village"], "name": d["name"],
                    "note": d["note"], "id_number": d["id_number"], "profile": {**d["profile"], "as_of": day},
                    "source": d["source"], "register_cells": d["register_cells"], "summary": ""})
    return out


@pytest.fixture(scope="module")
def round_trip():
    header, rows, people = make_register(150, seed=14, as_of=AS_OF, bad_every=23)
    data = csv_bytes(header, rows)
    original = screen_bytes(data, "登记表.csv", AS_OF)["output"]
    drafts = from_register(data, "登记表.csv", AS_OF)
    visits = visits_from(drafts)
    exports = {fmt: export_bytes(visits, fmt, as_of=LATER) for fmt in ("csv", "xlsx")}
    return {"people": people, "data": data, "original": table(original, "o.csv"), "drafts": drafts, "visits": visits,
            "exports": exports}


def test_a_register_comes_back_as_one_draft_visit_per_row_with_screenings_errors(round_trip):
    o_header, o_rows = round_trip["original"]
    rows = round_trip["drafts"]["rows"]
    assert len(rows) == len(o_rows) == 150
    for draft, row, person in zip(rows, o_rows, round_trip["people"]):
        assert draft["line"] == int(row[0])
        assert draft["error"] == results(o_header, row)["错误"]
        assert bool(draft["error"]) == bool(person["error"])
        if person["error"]:
            assert person["error"] in draft["error"]
            assert draft["questions"] == []
        else:
            # what the register knew, nothing more: the profile the row means (without the day)
            want = {k: v for k, v in person["profile"].items() if k != "as_of"}
            assert draft["profile"] == want
            assert draft["questions"] == checker.check({**draft["profile"], "as_of": AS_OF})["questions"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_register_to_visits_to_export_to_screen_gives_the_same_answers(round_trip, fmt):
    o_header, o_rows = round_trip["original"]
    export = round_trip["exports"][fmt]
    e_header, e_rows = table(export, f"走访.{fmt}")
    assert len(e_rows) == len(round_trip["visits"]), "rows out = visits in"
    assert VISIT_DATE in e_header and "应享未享" in e_header and "应享未享去哪里办" in e_header
    again = screen_bytes(export, f"走访.{fmt}", LATER)
    s_header, s_rows = table(again["output"], "s.csv")
    assert again["summary"]["rows"] == len(e_rows)
    for o_row, e_row, s_row, person, visit in zip(o_rows, e_rows, s_rows, round_trip["people"], round_trip["visits"]):
        if person["error"]:
            continue
        before = comparable(results(o_header, o_row))
        # the export's own columns, the export screened again, and the original register agree …
        assert comparable(results(e_header, e_row)) == before
        assert comparable(results(s_header, s_row)) == before
        # … and are what the checker said at the door for the visit's profile
        door = expected_columns(visit["profile"], person["received"])
        got = results(s_header, s_row)
        for column in ("应享未享", "可以享受", "还需了解", "以后可以享受", "可能可以享受（待核实）", "错误"):
            assert got[column] == door[column], column


def test_the_command_line_reads_the_export_to_the_same_answers(round_trip, tmp_path):
    path = tmp_path / "走访.xlsx"
    path.write_bytes(round_trip["exports"]["xlsx"])
    done = subprocess.run([sys.executable, "-m", "checker", "screen", str(path), "-o", str(tmp_path / "out.csv")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    s_header, s_rows = table((tmp_path / "out.csv").read_bytes(), "out.csv")
    e_header, e_rows = table(round_trip["exports"]["xlsx"], "e.xlsx")
    assert len(s_rows) == len(e_rows)
    for e_row, s_row in zip(e_rows, s_rows):
        assert comparable(results(s_header, s_row)) == comparable(results(e_header, e_row))


def test_an_export_opened_again_gives_the_same_visits(round_trip):
    again = from_register(round_trip["exports"]["csv"], "走访.csv")
    assert len(again["rows"]) == len(round_trip["visits"])
    for visit, draft in zip(round_trip["visits"], again["rows"]):
        assert draft["visited"] == visit["visited"]
        assert (draft["name"], draft["id_number"], draft["village"], draft["note"]) == \
            (visit["name"], visit["id_number"], visit["village"], visit["note"])
        kept = {k: v for k, v in visit["register_cells"].items()}
        assert draft["register_cells"] == kept
        if not draft["error"]:
            assert draft["profile"] == {k: v for k, v in visit["profile"].items() if k != "as_of"}


def test_every_fixture_register_comes_back_row_for_row_or_is_refused_as_screening_refuses_it():
    for path in sorted(FIXTURES.iterdir()):
        if path.suffix not in (".csv", ".xlsx", ".xls"):
            continue
        data = path.read_bytes()
        try:
            screened = screen_bytes(data, path.name, AS_OF)
        except TableError as err:
            with pytest.raises(TableError) as caught:
                from_register(data, path.name, AS_OF)
            assert caught.value.zh == err.zh, path.name
            reply = json.loads(from_register_json(data, json.dumps({"name": path.name, "as_of": AS_OF})))
            assert reply == {"ok": False, "error": {"zh": err.zh, "en": err.en}}
            continue
        o_header, o_rows = table(screened["output"], "o.csv")
        drafts = from_register(data, path.name, AS_OF)["rows"]
        assert [d["line"] for d in drafts] == [int(r[0]) for r in o_rows], path.name
        for d, row in zip(drafts, o_rows):
            cols = results(o_header, row)
            assert d["error"] == cols["错误"] and d["hint"] == cols["提示"], (path.name, d["line"])
            assert d["total"] == ("合计" in cols["提示"] and "不是老人" in cols["提示"])
        # and the visits made from them all come back out
        out = export_bytes(visits_from({"rows": drafts}), "csv", as_of=AS_OF)
        assert len(table(out, "x.csv")[1]) == len(drafts), path.name


def test_the_prefilled_profile_holds_only_what_the_register_knew():
    data = csv_bytes(["姓名", "出生日期", "户籍", "经济状况", "能力评估", "计划生育特殊家庭", "村", "电话", "已享受", "备注"], [
        ["王秀英", "1936-05-04", "永嘉", "", "不详", "否", "上塘村", "13800000000", "高龄津贴", "需上门"],
        ["李四", "1940年2月3日", "东阳市", "很穷", "", "", "", "", "", ""],
    ])
    rows = from_register(data, "表.csv", AS_OF)["rows"]
    first, second = rows
    assert first["profile"] == {"birth_date": "1936-05-04", "hukou": "330324", "family_planning_special": False}
    assert (first["name"], first["village"], first["note"]) == ("王秀英", "上塘村", "需上门")
    assert first["register_cells"] == {"电话": "13800000000", "已享受": "高龄津贴"}
    assert "economic" in first["questions"] and "care_level" in first["questions"]
    assert first["error"] == "" and "高龄津贴" not in first["result"]["应享未享"]
    assert second["error"] == "家庭经济状况“很穷”看不懂：可填 非困难、低保、低保边缘（低边）、特困，不知道就空着"
    assert second["profile"] == {"birth_date": "1940-02-03", "hukou": "330783"}  # the cells that could be read


def test_an_export_never_loses_a_visit():
    good = {"as_of": AS_OF, "hukou": "330324", "birth_date": "1936-05-04"}
    visits = [
        {"status": "visited", "visited": AS_OF, "profile": good, "name": "好"},
        "not a visit", None, 42, [], {},
        {"status": "visited", "profile": "text"},
        {"status": "visited", "visited": AS_OF, "profile": {**good, "age": 12}},         # age contradicts the birth date
        {"status": "visited", "visited": AS_OF, "profile": {**good, "favourite": "tea"}},  # a field the engine refuses
        {"status": "visited", "visited": AS_OF, "profile": {**good, "economic": ["dibao"]}},
        {"status": "visited", "visited": AS_OF, "profile": {**good, "hukou": "火星"}},
        {"status": "visited", "visited": AS_OF, "profile": good, "id_number": "330324193605040000"},  # bad check digit
        {"status": "todo", "visited": None, "profile": {"hukou": "330324"}, "name": "x" * 5000},
        {"status": "visited", "visited": AS_OF, "profile": {**good, "birth_date": "2030-01-01"}},
    ]
    for fmt in ("csv", "xlsx"):
        header, rows = table(export_bytes(visits, fmt, as_of=AS_OF), f"v.{fmt}")
        assert len(rows) == len(visits)
        errors = [results(header, r)["错误"] for r in rows]
        assert errors[0] == errors[5] == errors[-2] == ""  # an empty visit is a row with no facts, not an error
        assert all(errors[1:5]) and all(errors[6:-2]) and errors[-1], errors
        assert "这一条走访记录看不懂" in errors[1]
        assert "不认识的字段" in errors[8]
        assert "校验码" in errors[11]
        # screened again: still one row each
        assert screen_bytes(export_bytes(visits, fmt, as_of=AS_OF), f"v.{fmt}", AS_OF)["summary"]["rows"] == len(visits)
    assert export_bytes([], "csv").startswith(b"\xef\xbb\xbf")
    assert len(table(export_json(json.dumps({"visits": visits[:3]}), '{"format": "csv"}'), "j.csv")[1]) == 3
    with pytest.raises(ValueError):
        export_json('"nope"', "{}")


def test_formula_looking_cells_are_neutralised_as_screening_does_and_come_back_as_typed():
    visit = {"status": "visited", "visited": AS_OF, "name": "=HYPERLINK(\"http://x\",\"点\")", "village": "@SUM(A1)",
             "note": "+1", "id_number": "", "profile": {"as_of": AS_OF, "hukou": "330324", "birth_date": "1936-05-04"},
             "register_cells": {"电话": "-2+3", "门牌": "=1+1"}}
    data = export_bytes([visit], "csv", as_of=AS_OF)
    row = next(csv.reader(io.StringIO(data[3:].decode("utf-8").splitlines()[1])))
    for text in ("=HYPERLINK", "@SUM", "+1", "-2+3", "=1+1"):
        assert any(c.startswith("'" + text) for c in row), text
    assert not any(c[:1] in "=+-@" for c in row if c)
    with zipfile.ZipFile(io.BytesIO(export_bytes([visit], "xlsx", as_of=AS_OF))) as z:
        sheet = next(z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert b"<f>" not in sheet and b"<f " not in sheet
    back = from_register(data, "v.csv")["rows"][0]
    assert (back["name"], back["village"], back["note"]) == (visit["name"], visit["village"], visit["note"])
    assert back["register_cells"] == visit["register_cells"]
    again = export_bytes(visits_from({"rows": [back]}), "csv", as_of=AS_OF)
    assert "''" not in again.decode("utf-8")


def test_every_profile_value_the_form_can_give_reads_back_the_same():
    """One visit per value of each field (and every county, and 其他地方): exported, read back as a
    register, the profile is the visit's."""
    base = {"as_of": AS_OF, "birth_date": "1940-01-01", "hukou": "330324"}
    profiles = []
    for field, (kind, _, values) in FIELDS.items():
        if field in base or field == "age":
            continue
        if kind == "bool":
            profiles += [{**base, field: True}, {**base, field: False}]
        elif kind == "enum":
            profiles += [{**base, field: v} for v in values]
        elif kind == "enum_list":
            profiles += [{**base, field: []}, {**base, field: list(values)}] + [{**base, field: [v]} for v in values]
        elif kind == "county":
            codes = list(checker.engine().catalogue["counties"]) + [OTHER_COUNTY, "330302"]
            profiles += [{**base, field: c} for c in codes]
        elif kind == "date":
            profiles.append({**base, field: "2020-02-29"})
        elif kind == "int":
            profiles.append({**base, field: 37})
        elif kind == "number":
            profiles += [{**base, field: 286.5}, {**base, field: 0}]
    profiles.append({"as_of": AS_OF, "age": 88, "hukou": OTHER_COUNTY, "residence": "330783"})
    visits = [{"status": "visited", "visited": AS_OF, "profile": p} for p in profiles]
    for fmt in ("csv", "xlsx"):
        back = from_register(export_bytes(visits, fmt, as_of=AS_OF), f"v.{fmt}")["rows"]
        assert len(back) == len(visits)
        for visit, draft in zip(visits, back):
            if draft["error"]:  # only a profile the engine itself refuses
                with pytest.raises(checker.ProfileError):
                    checker.check(visit["profile"])
                continue
            assert draft["profile"] == {k: v for k, v in visit["profile"].items() if k != "as_of"}, visit["profile"]


def test_the_json_entry_points_for_the_browser_worker():
    data = csv_bytes(["姓名", "出生日期", "户籍"], [["甲", "1936-05-04", "永嘉"], ["乙", "1936-02-30", "永嘉"]])
    reply = json.loads(from_register_json(data, json.dumps({"name": "村.csv", "as_of": AS_OF})))
    assert reply["ok"] and [r["line"] for r in reply["rows"]] == [2, 3]
    assert reply["rows"][1]["error"] == "出生日期“1936-02-30”这一天不存在"
    assert reply["rows"][0]["source"] == {"register": "村.csv", "line": 2}
    assert reply["summary"]["rows"] == 2 and reply["summary"]["errors"] == 1
    bad = json.loads(from_register_json(b"", "{}"))
    assert bad["ok"] is False and bad["error"]["zh"]
    visits = [{"status": "visited", "visited": AS_OF, "profile": {**r["profile"], "as_of": AS_OF}, "name": r["name"],
               "source": r["source"]} for r in reply["rows"]]
    out = export_json(json.dumps(visits, ensure_ascii=False), json.dumps({"format": "xlsx", "as_of": AS_OF}))
    header, rows = table(out, "v.xlsx")
    assert [r[header.index(SOURCE_LINE)] for r in rows] == ["2", "3"]
    assert header[:3] == [VISIT_DATE, "走访状态", VILLAGE]
    assert export_rows([])[1] == []


def test_a_register_row_that_says_more_than_the_visit_is_answered_as_the_row_says_with_a_note():
    from registers import id_number
    import datetime as dt
    number = id_number("330324", dt.date(1936, 5, 4), 7, False)
    visit = {"status": "visited", "visited": AS_OF, "id_number": number, "profile": {"as_of": AS_OF, "hukou": "330324"}}
    header, rows = table(export_bytes([visit], "csv", as_of=AS_OF), "v.csv")
    cols = results(header, rows[0])
    assert cols["错误"] == "" and "出生日期、性别与走访时填写的不一样" in cols["提示"]
    assert "高龄津贴" in cols["可以享受"]  # 90: the birth date from the ID number counts


def test_two_registers_spellings_of_one_column_become_one_export_column():
    visits = [{"status": "todo", "profile": {"hukou": "330324"}, "register_cells": {"联系电话": "1", "门牌": "3号"}},
              {"status": "todo", "profile": {"hukou": "330324"}, "register_cells": {"电话（本人、亲属）": "2", "已享受": "高龄津贴"}}]
    header, rows = table(export_bytes(visits, "csv", as_of=AS_OF), "v.csv")
    assert header.count("电话") == 1 and "联系电话" not in header and "门牌" in header and "已享受" in header
    assert [r[header.index("电话")] for r in rows] == ["1", "2"]


def test_a_visit_date_is_read_as_screening_reads_dates():
    data = csv_bytes(["姓名", "出生日期", "户籍", VISIT_DATE], [["甲", "1936-05-04", "永嘉", "2026/11/2"],
                                                           ["乙", "1936-05-04", "永嘉", "2026年11月3日"],
                                                           ["丙", "1936-05-04", "永嘉", "上周"]])
    assert [r["visited"] for r in from_register(data, "v.csv")["rows"]] == ["2026-11-02", "2026-11-03", None]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_screening_result_opens_as_the_same_visit_list_as_its_register(round_trip, fmt):
    result = screen_bytes(round_trip["data"], "登记表.csv", AS_OF, out_format=fmt)["output"]
    again = from_register(result, f"排摸结果.{fmt}", AS_OF)["rows"]
    assert len(again) == len(round_trip["drafts"]["rows"])
    for a, b in zip(again, round_trip["drafts"]["rows"]):
        assert (a["profile"], a["name"], a["id_number"], a["note"], a["error"], a["questions"]) == \
            (b["profile"], b["name"], b["id_number"], b["note"], b["error"], b["questions"])
        assert a["register_cells"] == b["register_cells"]  # 原表行号 and the result columns are not carried


def test_register_rows_not_visited_yet_export_to_the_registers_own_answers_and_errors(round_trip):
    """Opened as the visit list and exported before any visit (the UI's 待走访 records: the drafts as
    they are), every row — the unreadable ones too — screens again to what the register gave."""
    o_header, o_rows = round_trip["original"]
    todo = [{**d, "status": "todo", "visited": None} for d in round_trip["drafts"]["rows"]]
    export = export_bytes(todo, "csv", as_of=AS_OF)
    e_header, e_rows = table(export, "e.csv")
    s_header, s_rows = table(screen_bytes(export, "e.csv", AS_OF)["output"], "s.csv")
    assert len(e_rows) == len(s_rows) == len(o_rows)
    errors = 0
    for o_row, e_row, s_row in zip(o_rows, e_rows, s_rows):
        before = comparable(results(o_header, o_row))
        errors += bool(before["错误"])
        assert comparable(results(e_header, e_row)) == before
        assert comparable(results(s_header, s_row)) == before
    assert errors >= 6


def test_a_register_fault_the_export_cannot_repeat_is_named_in_its_hint():
    drafts = from_register((FIXTURES / "ragged.csv").read_bytes(), "ragged.csv", AS_OF)["rows"]
    longer = [d for d in drafts if "比表头多出" in d["error"]]
    assert longer
    header, rows = table(export_bytes([{**d, "status": "todo"} for d in longer], "csv", as_of=AS_OF), "v.csv")
    for d, row in zip(longer, rows):
        cols = results(header, row)
        assert cols["错误"] == "" and f"登记表里这一行原来有错，还没有走访核实：{d['error']}" in cols["提示"]


def test_the_browser_refuses_a_register_too_long_for_the_visit_list_before_reading_it_all():
    header, rows, _ = make_register(60, seed=2, as_of=AS_OF, bad_every=0)
    data = csv_bytes(header, rows)
    reply = json.loads(from_register_json(data, json.dumps({"max_rows": 50})))
    assert reply["ok"] is False and "超过 50 行" in reply["error"]["zh"] and "按村拆开" in reply["error"]["zh"]
    assert len(json.loads(from_register_json(data, json.dumps({"max_rows": 60})))["rows"]) == 60
    assert len(json.loads(from_register_json(data, "{}"))["rows"]) == 60
