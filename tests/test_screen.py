"""Batch screening (应享未享排摸) and 慈溪's settlement tables, run as a cadre runs them.

A generated register of 1,000 people (tests/registers.py, fixed seed) is screened on the command
line; every row's expected columns are computed from the engine's full answer for the profile the
row means, bad rows must come back with their reason, and a handful of rows are checked by hand.
The 附件1 list and the 附件2/3 settlement tables are checked against numbers copied from seed 004.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import checker
from checker.idcard import IdCardError, check_char, parse_id
from checker.profile import FIELDS
from checker.screen import (ANNEX1_COLUMNS, HOME_CARE, RESULT_COLUMNS, ROW_COLUMN, TEMPLATE_COLUMNS, Screener,
                            brief_results, map_columns, template_bytes)
from checker.settle import annex2_head, annex2_rows, annex3, annex3_head, settle
from checker.tables import TableError, csv_bytes, read_table, xlsx_bytes
from checker.profile import parse_profile
from profiles import random_profile
from registers import HEADER, id_number, make_register

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-23"


def run(*args):
    return subprocess.run([sys.executable, "-m", "checker", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def read_csv(path, sections=False):
    """(header, rows) of a CSV output; with `sections`, [(title or None, header, rows)] for a file of
    several tables (附件1 lists the younger 计生 elders in a second table after a blank line and a title)."""
    raw = Path(path).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "CSV output starts with a BOM so Excel reads UTF-8"
    table = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))
    if not sections:
        return table[0], table[1:]
    out, current, title = [], None, None
    for row in table:
        if not row:
            current = title = None
        elif current is None and len(row) == 1 and title is None:
            title = row[0]
        elif current is None:
            current = (title, row, [])
            out.append(current)
        else:
            current[2].append(row)
    return out


def write_csv(path, header, rows, encoding="utf-8"):
    text = io.StringIO(newline="")
    csv.writer(text).writerows([header, *rows])
    Path(path).write_bytes(text.getvalue().encode(encoding))


def num(x) -> str:
    return str(int(x)) if x == int(x) else repr(x)


def expected_columns(profile, received):
    """The result columns for one profile, built from the engine's full answer (not brief_results)."""
    answer = checker.check(profile)
    # in the answer's plan order (what to go and do first), as the screening rows list them
    results = sorted(answer["results"], key=lambda r: (r.get("rank") is None, r.get("rank") or 0))
    two = len({r["county"] for r in results}) > 1
    label = (lambda r: f"{r['county_name']}·{r['name']}") if two else (lambda r: r["name"])
    amount = lambda r: (r["amount"] or {}).get("text") or ""  # noqa: E731
    eligible = [r for r in results if r["status"] == "eligible"]
    missing_out = [r for r in eligible if r["service"] not in received and not r.get("self_paid")]
    also = lambda x: str(x.get("text") or x.get("label") or x.get("name") or "") if isinstance(x, dict) else str(x)  # noqa: E731
    return {
        "应享未享": "；".join(label(r) for r in missing_out),
        "另需": "；".join(f"【{label(r)}】" + "；".join(also(x) for x in r["also"]) for r in results
                       if r["status"] != "ineligible" and r.get("also")),
        "可以享受": "；".join(f"{label(r)}（{amount(r)}）" if amount(r) else label(r) for r in eligible),
        "每月合计（元）": num(answer["monthly_total"]["yuan"]),
        "可能可以享受（待核实）": "；".join(
            f"{label(r)}（{'；'.join(p for p in (('需核实：' + '、'.join(FIELDS[m][1] for m in r['missing'])) if r['missing'] else '', ('说不准：' + '；'.join(r['doubts'])) if r.get('doubts') else '') if p)}）"
            if r["missing"] or r.get("doubts") else label(r)
            for r in results if r["status"] == "maybe"),
        "还需了解": "、".join(FIELDS[q][1] for q in answer["questions"]),
        "以后可以享受": "；".join(
            f"{label(r)}（{'，'.join(x for x in ((r['from'] + '起') if r['from'] else '以后', amount(r)) if x)}）"
            for r in results if r["status"] == "upcoming"),
        "错误": "",
        "_missing_out_ids": [r["service"] for r in missing_out],
    }


# ---------------------------------------------------------------- the 1,000-row register

@pytest.fixture(scope="module")
def register(tmp_path_factory):
    header, rows, people = make_register(1000, seed=8, as_of=AS_OF)
    folder = tmp_path_factory.mktemp("register")
    path = folder / "登记表.csv"
    write_csv(path, header, rows)
    return {"header": header, "rows": rows, "people": people, "path": path, "folder": folder}


@pytest.fixture(scope="module")
def screened(register):
    out, annex = register["folder"] / "结果.csv", register["folder"] / "附件1.csv"
    done = run("screen", str(register["path"]), "-o", str(out), "--as-of", AS_OF, "--annex1", str(annex))
    assert done.returncode == 0, done.stderr
    header, rows = read_csv(out)
    return {"header": header, "rows": rows, "annex": read_csv(annex), "annex_sections": read_csv(annex, sections=True),
            "stdout": done.stdout, "path": out}


def test_the_register_has_bad_rows_of_every_kind(register):
    kinds = {p.get("what") for p in register["people"] if p["error"]}
    assert {"bad date", "wrong check digit", "unknown county"} <= kinds
    assert len(kinds) == 8


def test_screening_gives_one_row_per_input_row_with_the_input_untouched(register, screened):
    header, rows = screened["header"], screened["rows"]
    assert header == [ROW_COLUMN, *HEADER, *RESULT_COLUMNS]
    assert len(rows) == len(register["rows"]) == 1000
    for n, (row, given) in enumerate(zip(rows, register["rows"])):
        assert row[0] == str(n + 2)
        assert row[1:1 + len(HEADER)] == given


def test_every_row_has_the_engines_answer_or_its_error(register, screened):
    col = {h: i for i, h in enumerate(screened["header"])}
    for n, (row, person) in enumerate(zip(screened["rows"], register["people"])):
        if person["error"]:
            assert person["error"] in row[col["错误"]], (n + 2, person["what"], row[col["错误"]])
            assert all(row[col[c]] == "" for c in RESULT_COLUMNS[:-1]), "a bad row gets no answer"
            continue
        expected = expected_columns(person["profile"], person["received"])
        for column in ("应享未享", "另需", "可以享受", "每月合计（元）", "可能可以享受（待核实）", "还需了解", "以后可以享受", "错误"):
            assert row[col[column]] == expected[column], (n + 2, column, person["profile"])


def test_the_summary_counts_rows_errors_and_who_misses_out(register, screened):
    import json
    summary = json.loads(screened["stdout"])
    bad = sum(1 for p in register["people"] if p["error"])
    assert summary["rows"] == 1000 and summary["errors"] == bad and summary["screened"] == 1000 - bad
    assert bad >= 10
    assert summary["missing_out"].get(HOME_CARE, 0) == sum(
        1 for p in register["people"] if not p["error"] and HOME_CARE in expected_columns(p["profile"], p["received"])["_missing_out_ids"])


def test_annex1_lists_exactly_the_cixi_elders_entitled_to_home_care_who_do_not_receive_it(register, screened):
    sections = screened["annex_sections"]
    (_, header, rows), *younger = sections
    assert len(younger) == 1 and younger[0][0].startswith("不满80周岁但符合条件的老人") and younger[0][1] == header
    assert all(r[4].split("，")[1] == "计划生育特殊家庭" and int(r[4][:2]) < 80 for r in younger[0][2])
    assert all(int(r[4][:r[4].index("周岁")]) >= 80 for r in rows), "the title says 80周岁: no one younger under it"
    rows = rows + younger[0][2]
    assert header == ANNEX1_COLUMNS == ["序号", "行政区划", "姓名", "身份证", "调查到的情况说明", "未享受原因", "电话（本人、亲属）",
                                        "实际居住地（非本村居住请填写，到门牌号）", "备注"]
    expected = []
    for given, person in zip(register["rows"], register["people"]):
        if person["error"]:
            continue
        if HOME_CARE in expected_columns(person["profile"], person["received"])["_missing_out_ids"]:
            cell = dict(zip(HEADER, given))
            expected.append((cell["姓名"], cell["身份证号"], cell["电话"], cell["实际居住地"], cell["备注"]))
    assert len(rows) == len(expected) > 50
    assert sorted((r[2], r[3], r[6], r[7], r[8]) for r in rows) == sorted(expected)
    assert [r[0] for r in sections[0][2]] == [str(i) for i in range(1, len(sections[0][2]) + 1)]
    assert all("另需：" in r[4] and "本人主动申请" in r[4] for r in rows), "附件1 says what else the document asks"
    assert all(r[1].startswith("慈溪市") for r in rows)


# ---------------------------------------------------------------- a handful by hand

HAND = [
    # (cells, expected 应享未享 contains home care?, phrase in 错误, in 附件1?)
    ({"姓名": "甲", "出生日期": "1940-05-01", "性别": "男", "户籍": "慈溪", "户籍镇（街道）": "浒山街道",
      "常住镇（街道）": "古塘街道", "实际居住地": "古塘街道北路3号", "电话": "13800000001"}, True, "", True),
    ({"姓名": "乙", "身份证号": id_number("330282", dt.date(1952, 1, 1), 5, False), "户籍": "慈溪市",
      "计划生育特殊家庭": "是"}, True, "", True),
    ({"姓名": "丙", "出生日期": "1952-01-01", "户籍": "慈溪市", "计划生育特殊家庭": "否"}, False, "", False),
    ({"姓名": "丁", "出生日期": "1940-05-01", "户籍": "慈溪市", "已享受": "330282-home-care"}, False, "", False),
    ({"姓名": "戊", "出生日期": "1940-05-01", "户籍": "慈溪市", "常住地": "永嘉县"}, False, "", False),
    ({"姓名": "己", "出生日期": "1950-02-30", "户籍": "慈溪市"}, False, "出生日期“1950-02-30”这一天不存在", False),
    ({"姓名": "庚", "身份证号": "110105194912310021", "户籍": "慈溪市"}, False, "校验码不对（最后一位按前17位算应为 X）", False),
    ({"姓名": "辛", "出生日期": "1940-05-01", "户籍": "火星县"}, False, "户籍所在县（市、区）“火星县”不是本目录收录的县（市）", False),
]


def test_a_handful_of_rows_checked_by_hand(tmp_path):
    header = ["姓名", "身份证号", "出生日期", "性别", "户籍", "户籍镇（街道）", "常住地", "常住镇（街道）",
              "实际居住地", "电话", "计划生育特殊家庭", "是否入住养老机构", "已享受"]
    rows = [[cells.get(h, "否" if h == "是否入住养老机构" else "") for h in header] for cells, *_ in HAND]
    write_csv(tmp_path / "r.csv", header, rows)
    done = run("screen", str(tmp_path / "r.csv"), "-o", str(tmp_path / "o.csv"), "--as-of", AS_OF,
               "--annex1", str(tmp_path / "a.csv"))
    assert done.returncode == 0, done.stderr
    out_header, out = read_csv(tmp_path / "o.csv")
    col = {h: i for i, h in enumerate(out_header)}
    home_care = checker.engine().services[HOME_CARE]["s"]["name"]
    for (cells, gets_home_care, error, _), row in zip(HAND, out):
        assert (home_care in row[col["应享未享"]].split("；")) == gets_home_care, cells["姓名"]
        assert error in row[col["错误"]] and bool(error) == bool(row[col["错误"]]), (cells["姓名"], row[col["错误"]])
    # 甲: 86, lives in another town of 慈溪 — where to apply says so
    assert "人户分离" in out[0][col["应享未享去哪里办"]] and "现在居住地" in out[0][col["应享未享去哪里办"]]
    # 丁 already receives it: nothing missed
    assert home_care not in out[3][col["应享未享"]]
    (_, _, annex), (_, _, younger) = read_csv(tmp_path / "a.csv", sections=True)
    assert [r[2] for r in annex + younger] == [cells["姓名"] for cells, _, _, listed in HAND if listed]
    annex = annex + younger
    first = annex[0]
    assert first[:2] == ["1", "慈溪市浒山街道"]
    assert first[4] == ("86周岁，户籍慈溪市浒山街道，住在古塘街道（人户分离）；符合每月3小时免费居家养老服务条件，未享受；"
                        "另需：" + "；".join(checker.engine().services[HOME_CARE]["s"]["also"]))
    assert first[5] == "" and first[6] == "13800000001" and first[7] == "古塘街道北路3号"
    assert annex[1][3] == HAND[1][0]["身份证号"]
    assert annex[1][4].startswith("74周岁，计划生育特殊家庭，户籍慈溪市")


# ---------------------------------------------------------------- the fast path agrees with the engine

def test_brief_results_agree_with_the_engine_on_random_profiles():
    engine = checker.engine()
    rng = random.Random(11)
    for _ in range(1500):
        raw = random_profile(rng)
        try:
            full = engine.check(raw)
        except checker.ProfileError:
            continue
        results, monthly, questions = brief_results(engine, parse_profile(raw))
        assert [(r["service"], r["status"], r["amount"], r["missing"], r["from"]) for r in results] == \
            [(r["service"], r["status"], r["amount"], r["missing"], r["from"])
             for r in sorted(full["results"], key=lambda r: (r.get("rank") is None, r.get("rank") or 0))
             if r["status"] != "ineligible"], raw  # both in the answer's plan order
        assert monthly == full["monthly_total"] and questions == full["questions"], raw


# ---------------------------------------------------------------- file formats

def test_gb18030_input_gives_the_same_result_as_utf8(register, screened, tmp_path):
    path = tmp_path / "gbk.csv"
    write_csv(path, register["header"], register["rows"], encoding="gb18030")
    raw = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    done = run("screen", str(path), "-o", str(tmp_path / "o.csv"), "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "o.csv").read_bytes() == screened["path"].read_bytes()


def test_utf8_with_bom_and_tab_separated_utf16_are_read(register):
    header, rows = register["header"], register["rows"][:5]
    text = "\r\n".join("\t".join(r) for r in [header, *rows])
    for data in (b"\xef\xbb\xbf" + csv_bytes(header, rows)[3:], text.encode("utf-16")):
        got_header, got_rows, _ = read_table(data)
        assert got_header == header and got_rows == rows


def test_xlsx_written_by_openpyxl_gives_the_same_result_as_csv(register, screened, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(register["header"])
    birth_col = register["header"].index("出生日期")
    for row in register["rows"]:
        cells = list(row)
        text = cells[birth_col]
        if len(text) == 10 and text[4] == "-" and text[:4].isdigit():
            try:
                cells[birth_col] = dt.datetime.fromisoformat(text)  # a real date cell
            except ValueError:
                pass
        ws.append(cells)
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "yyyy/m/d"
    wb.save(tmp_path / "r.xlsx")
    done = run("screen", str(tmp_path / "r.xlsx"), "-o", str(tmp_path / "o.csv"), "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    header, rows = read_csv(tmp_path / "o.csv")
    expected_header, expected = screened["header"], screened["rows"]
    col = expected_header.index("出生日期")
    assert header == expected_header
    for got, want in zip(rows, expected):
        assert got[:col] == want[:col] and got[col + 1:] == want[col + 1:]


def test_xlsx_output_opens_in_openpyxl_with_the_same_cells_as_csv(screened, register, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    out = tmp_path / "o.xlsx"
    done = run("screen", str(register["path"]), "-o", str(out), "--as-of", AS_OF)
    assert done.returncode == 0, done.stderr
    ws = openpyxl.load_workbook(out, read_only=True).active
    got = [["" if v is None else (num(v) if isinstance(v, (int, float)) else v) for v in row]
           for row in ws.iter_rows(values_only=True)]
    width = len(screened["header"])
    got = [r + [""] * (width - len(r)) for r in got]
    assert got[0] == screened["header"]
    assert got[1:] == screened["rows"]
    again = tmp_path / "again.xlsx"
    run("screen", str(register["path"]), "-o", str(again), "--as-of", AS_OF)
    assert again.read_bytes() == out.read_bytes(), "XLSX output is reproducible byte for byte"


def test_our_xlsx_reads_back_through_our_reader():
    header = ["姓名", "每月合计（元）", "备注"]
    rows = [["张 三", 60, "a&b<c>"], ["", 1023.75, " 前后空格 "]]
    got_header, got_rows, enc = read_table(xlsx_bytes([("表", header, rows)]))
    assert enc == "xlsx" and got_header == header
    assert got_rows == [["张 三", "60", "a&b<c>"], ["", "1023.75", " 前后空格 "]]


def test_an_id_number_that_excel_turned_into_a_number_is_a_row_error_not_a_wrong_answer(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.active.append(["身份证号", "户籍"])
    wb.active.append([330282194103091234, "慈溪"])
    wb.save(tmp_path / "r.xlsx")
    header, rows, _ = read_table(tmp_path / "r.xlsx")
    screener = Screener(as_of=AS_OF)
    _, out, _, _ = screener.screen(header, rows)
    assert "科学计数法" in out[0][-1]


def test_a_file_that_is_not_a_register_exits_2_with_a_chinese_message(tmp_path):
    (tmp_path / "x.csv").write_text("名字,地址\n张三,某村\n", encoding="utf-8")
    done = run("screen", str(tmp_path / "x.csv"), "-o", str(tmp_path / "o.csv"))
    assert done.returncode == 2 and "没有出生日期、年龄或身份证号" in done.stderr and "Traceback" not in done.stderr
    (tmp_path / "y.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    done = run("screen", str(tmp_path / "y.xlsx"), "-o", str(tmp_path / "o.csv"))
    assert done.returncode == 2 and "xlsx" in done.stderr and "Traceback" not in done.stderr


def test_headers_may_be_profile_field_names_or_chinese_labels_with_notes():
    mapping = map_columns(["birth_date", "hukou", "经济状况（低保/低边/特困）", "电话（本人、亲属）"])
    assert list(mapping.values()) == [("field", "birth_date"), ("field", "hukou"), ("field", "economic"), ("carried", "phone")]
    with pytest.raises(TableError, match="同一项"):
        map_columns(["出生日期", "birth_date"])


def test_the_template_has_only_columns_the_screener_understands():
    assert set(map_columns(TEMPLATE_COLUMNS)) == set(range(len(TEMPLATE_COLUMNS)))
    header, rows, _ = read_table(template_bytes())
    assert header == TEMPLATE_COLUMNS and rows == []
    shipped = ROOT / "content" / "pages" / "assets" / "screen" / "register-template.csv"
    assert shipped.read_bytes() == template_bytes(), "regenerate it: checker.screen.template_bytes()"


def test_county_names_and_codes_and_an_outside_county():
    screener = Screener(as_of=AS_OF)
    header = ["出生日期", "户籍", "常住地"]
    rows = [["1940-01-01", x, ""] for x in ("永嘉县", "永嘉", "330324", "浙江省温州市永嘉县")]
    rows.append(["1940-01-01", "330302", "慈溪"])  # 户籍 outside the catalogue, lives in 慈溪
    rows.append(["1940-01-01", "330302", ""])
    _, out, _, _ = screener.screen(header, rows)
    assert len({tuple(r[4:]) for r in out[:4]}) == 1 and out[0][-1] == ""
    assert out[4][-1] == "" and "不在本目录中" in out[4][-2]
    assert "都不在本目录收录的县" in out[5][-1]


def test_the_checker_package_imports_only_the_standard_library(tmp_path):
    data = xlsx_bytes([("s", ["出生日期", "户籍"], [["1940-01-01", "慈溪"]])])
    (tmp_path / "r.xlsx").write_bytes(data)
    code = ("import sys, checker.screen, checker.settle, checker.tables;"
            f"from checker.screen import screen_file; print(screen_file({str(tmp_path / 'r.xlsx')!r}, "
            f"{str(tmp_path / 'o.xlsx')!r}, '2026-11-23')['screened'])")
    done = subprocess.run([sys.executable, "-S", "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "1", done.stderr


# ---------------------------------------------------------------- ID numbers

def test_id_check_digit_follows_gb11643():
    assert check_char("11010519491231002") == "X"  # the standard's own example
    card = parse_id("11010519491231002x")
    assert card["birth_date"] == dt.date(1949, 12, 31) and card["sex"] == "female"
    number = "33028219410309123" + check_char("33028219410309123")
    assert parse_id(number)["sex"] == "male" and parse_id(number)["area"] == "330282"
    assert parse_id("330282410309123")["birth_date"] == dt.date(1941, 3, 9)  # old 15-digit number
    for bad, phrase in (("110105194912310021", "校验码不对"), ("1101051949123100", "不是18位"),
                        ("110105194902300024", "这一天不存在"), ("3.30282194103091E+17", "科学计数法")):
        with pytest.raises(IdCardError, match=phrase):
            parse_id(bad)


# ---------------------------------------------------------------- 慈溪 settlement (附件2 / 附件3 of seed 004)

# 附件2 as printed: 户籍地 town → [(service centre, people 80+, people 计生 70+)]
ANNEX2 = {
    "浒山街道": [("白沙街道居家养老服务中心", 21, 0), ("古塘街道居家养老服务中心", 32, 0), ("龙山镇居家养老服务中心", 7, 0),
             ("周巷镇颐家居家养老服务中心", 2, 0), ("坎墩街道居家养老服务中心", 3, 0), ("横河子陵居家养老服务中心", 4, 0),
             ("桥头镇五福居家养老服务中心", 1, 0)],
    "白沙街道": [("古塘街道居家养老服务中心", 21, 1), ("浒山街道居家养老服务中心", 32, 0), ("观城互联居家养老服务中心", 7, 0),
             ("匡堰镇樟树村居家养老服务中心", 2, 0), ("横河镇彭桥居家养老服务中心", 3, 0), ("长河镇居家养老服务中心", 4, 0)],
    "古塘街道": [("白沙街道居家养老服务中心", 29, 0), ("浒山街道居家养老服务中心", 32, 0), ("坎墩街道居家养老服务中心", 7, 0),
             ("附海镇居家养老服务中心", 2, 0)],
}
MONTHS = [("三月", 10), ("四月", 20), ("五月", 40)]  # 附件3: each town 750 / 1500 / 3000 yuan = 10 / 20 / 40 people


def served_list():
    """One row per elder per month, consistent with both 附件2 and 附件3."""
    header = ["姓名", "户籍镇（街道）", "服务机构", "类别", "月份"]
    rows = []
    for town, centres in ANNEX2.items():
        months = [m for m, n in MONTHS for _ in range(n)]
        people = [(c, "80周岁及以上") for c, n80, _ in centres for _ in range(n80)] + \
                 [(c, "计划生育特殊家庭中70周岁及以上") for c, _, nfp in centres for _ in range(nfp)]
        assert len(people) == len(months) == 70
        rows += [[f"老人{len(rows) + 1}", town, c, cat, m] for (c, cat), m in zip(people, months)]
    return header, rows


def test_annex2_matches_the_printed_table_to_the_fen():
    header, rows = served_list()
    s = settle(header, rows, "75")
    rows2 = annex2_rows(s)
    d = Decimal
    first = rows2[0]
    assert first == ["浒山街道", 1, "白沙街道居家养老服务中心", 21, d(1575), 0, d(0), d(1575), d("1023.75"), d("551.25")]
    subtotals = [r for r in rows2 if r[0] == "小计"]
    assert [r[3:] for r in subtotals] == [
        [70, d(5250), 0, d(0), d(5250), d("3412.5"), d("1837.5")],   # 浒山街道
        [69, d(5175), 1, d(75), d(5250), d("3412.5"), d("1837.5")],  # 白沙(路)街道
        [70, d(5250), 0, d(0), d(5250), d("3412.5"), d("1837.5")],   # 古塘街道
    ]
    # towns in the order the list names them, as the printed 附件2 (浒山, 白沙, 古塘); no 总合计 row (附件2 has none)
    assert [r[0] for r in rows2 if r[0] not in ("", "小计")] == ["浒山街道", "白沙路街道", "古塘街道"]
    assert rows2[-1][0] == "小计"
    baisha = next(r for r in rows2 if r[0] == "白沙路街道")
    assert baisha == ["白沙路街道", 1, "古塘街道居家养老服务中心", 21, d(1575), 1, d(75), d(1650), d("1072.5"), d("577.5")]
    printed = {("浒山街道", "古塘街道居家养老服务中心"): (2400, "1560", "840"), ("浒山街道", "龙山镇居家养老服务中心"): (525, "341.25", "183.75"),
               ("浒山街道", "周巷镇颐家居家养老服务中心"): (150, "97.5", "52.5"), ("浒山街道", "坎墩街道居家养老服务中心"): (225, "146.25", "78.75"),
               ("浒山街道", "横河子陵居家养老服务中心"): (300, "195", "105"), ("浒山街道", "桥头镇五福居家养老服务中心"): (75, "48.75", "26.25"),
               ("古塘街道", "白沙街道居家养老服务中心"): (2175, "1413.75", "761.25")}
    town = None
    for r in rows2:
        town = r[0] or town
        if (town, r[2]) in printed:
            total, city, own = printed[(town, r[2])]
            assert r[7:] == [d(total), d(city), d(own)]
    head = annex2_head(s)
    # the months (三月-五月, no year) give the period; the printed “2022年第一季度” does not fit its own 三、四、五月
    assert head[0] == ["____年3月至5月慈溪市居家养老服务人户分离老人补助机构结算表"]
    assert head[1][-1] == "（单位：元）" and head[2][3] == "普惠服务对象服务补助" and head[2][-3:] == ["总合计", "市财政", "镇财政"]
    assert head[3][3] == "80周岁及以上居家老年人" and head[3][5] == "计划生育特殊家庭中70周岁及以上老年人"
    assert head[4][3:7] == ["人数", "金额", "人数", "金额"]


def test_annex3_matches_the_printed_summary():
    header, rows = served_list()
    s = settle(header, rows, 75)
    header3, rows3 = annex3(s)
    assert header3[:5] == ["序号", "镇（街道）", "三月合计", "三月市财政承担", "三月乡镇（街道）承担"]
    assert header3[-3:] == ["总合计", "市财政承担", "乡镇（街道）承担"]
    d = Decimal
    by_town = {r[1]: r for r in rows3}
    assert len(rows3) == 19 and [r[1] for r in rows3[:18]] == checker.engine().catalogue["counties"]["330282"]["settlement"]["towns"]
    for town in ("浒山街道", "古塘街道", "白沙路街道"):
        assert by_town[town][2:] == [d(750), d("487.5"), d("262.5"), d(1500), d(975), d(525), d(3000), d(1950), d(1050),
                                     d(5250), d("3412.5"), d("1837.5")]
    assert by_town["周巷镇"][2:] == [""] * 9 + [0, 0, 0]
    assert rows3[-1][0] == "总合计" and rows3[-1][-3:] == [d(15750), d("10237.5"), d("5512.5")]
    head = annex3_head(s)
    assert head[0] == ["____年3月至5月慈溪市居家养老服务人户分离老人补助乡镇汇总表"]
    assert head[2][:3] == ["序号", "镇（街道）", "三月"] and head[3][2:5] == ["合计", "市财政承担", "乡镇（街道）承担"]


def read_settle_csv(path, head=5):
    raw = Path(path).read_bytes()
    table = list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))
    return table[:head], table[head:]


def test_settle_on_the_command_line_with_the_21_people_of_the_first_row(tmp_path):
    header = ["户籍镇（街道）", "服务机构", "计划生育特殊家庭"]
    rows = [["浒山街道", "白沙街道居家养老服务中心", "否"] for _ in range(21)] + [["浒山", "", "否"]]
    write_csv(tmp_path / "served.csv", header, rows)
    done = run("settle", str(tmp_path / "served.csv"), "--per-person", "75", "-o", str(tmp_path / "a2.csv"),
               "--annex3", str(tmp_path / "a3.csv"))
    assert done.returncode == 0, done.stderr
    import json
    summary = json.loads(done.stdout)
    assert (summary["total"], summary["city"], summary["town"]) == ("1575", "1023.75", "551.25")
    assert summary["errors"] == [{"row": 23, "error": "服务机构是空的"}]
    head, rows2 = read_settle_csv(tmp_path / "a2.csv")
    assert head[0] == ["慈溪市居家养老服务人户分离老人补助机构结算表"] and head[2][0] == "镇（街道）"
    assert rows2[0] == ["浒山街道", "1", "白沙街道居家养老服务中心", "21", "1575", "0", "0", "1575", "1023.75", "551.25"]
    _, rows3 = read_settle_csv(tmp_path / "a3.csv", head=4)
    assert rows3[0] == ["1", "浒山街道", "1575", "1023.75", "551.25"]


def test_an_odd_per_person_amount_is_split_on_row_totals_and_warned_about():
    # reliability/shengsi-cixi audit: 8.33 × 1000 must split 5414.50 / 2915.50, not 5410.00 / 2920.00
    header = ["户籍镇（街道）", "服务机构", "月份"]
    s = settle(header, [["古塘街道", "中心", "3月"]] * 1000, "8.33")
    row = annex2_rows(s)[0]
    assert row[7:] == [Decimal("8330"), Decimal("5414.50"), Decimal("2915.50")]
    assert s["warnings"] and "不是整分" in s["warnings"][0]
    assert not settle(header, [["古塘街道", "中心", "3月"]], "75")["warnings"]  # 75 × 65 % = 48.75: whole fen
    rows = [["古塘街道", f"中心{i % 3}", f"{3 + i % 3}月"] for i in range(31)]
    s = settle(header, rows, "33.33")
    rows2 = annex2_rows(s)
    sub = rows2[-1]
    assert sub[7] == Decimal("33.33") * 31 and sub[8] + sub[9] == sub[7]
    for r in rows2[:-1]:
        assert r[8] == (r[7] * Decimal("0.65")).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP") and r[8] + r[9] == r[7]
    _, rows3 = annex3(s)
    assert rows3[-1][-3] == sub[7] and sum(rows3[-1][-2:]) == sub[7]


def test_a_town_outside_the_county_is_an_error_row_and_never_paid():
    header = ["户籍镇（街道）", "服务机构", "月份"]
    rows = [["余姚市某镇", "白沙街道居家养老服务中心", "3月"], ["观城", "c", "3月"], ["+cmd|' /C calc'!A0", "c", "3月"],
            ["浒山", "c", "3月"], ["慈溪市白沙街道", "c", "3月"]]
    s = settle(header, rows, "75")
    assert [e["row"] for e in s["errors"]] == [2, 3, 4]
    assert all("不是慈溪市的镇（街道）" in e["error"] for e in s["errors"])
    assert set(t for t, _ in s["centres"]) == {"浒山街道", "白沙路街道"}
    _, rows3 = annex3(s)
    assert len(rows3) == 19 and rows3[-1][-3] == Decimal(150)


def test_months_with_and_without_a_year():
    header = ["户籍镇（街道）", "服务机构", "月份"]
    s = settle(header, [["浒山", "c", "3月"], ["浒山", "c", "2022-04"]], "75")
    h3, _ = annex3(s)
    assert h3[2:8] == ["三月合计", "三月市财政承担", "三月乡镇（街道）承担", "四月合计", "四月市财政承担", "四月乡镇（街道）承担"]
    assert not s["errors"] and annex2_head(s)[0][0].startswith("2022年3月至4月")
    s = settle(header, [["浒山", "c", "2022-03"], ["浒山", "c", "2022-04"], ["浒山", "c", "2022-05"]], "75")
    assert annex3_head(s)[0][0] == "2022年3月至5月慈溪市居家养老服务人户分离老人补助乡镇汇总表"
    s = settle(header, [["浒山", "c", "2022-01"], ["浒山", "c", "三月"]], "75")
    assert annex2_head(s)[0][0] == "2022年第一季度慈溪市居家养老服务人户分离老人补助机构结算表"
    s = settle(header, [["浒山", "c", "3月"], ["浒山", "c", "2022-04"], ["浒山", "c", "2023-04"]], "75")
    assert [e["row"] for e in s["errors"]] == [2] and "没有写年份" in s["errors"][0]["error"]
    assert "年3月合计" not in annex3(s)[0] and "2022年4月合计" in annex3(s)[0]


@pytest.mark.parametrize("amount", ["abc", "-5", "0", "NaN", "Infinity", "sNaN", "1e30", "1e-30", "75.555", ""])
def test_bad_per_person_amounts_exit_2_with_nothing_written(tmp_path, amount):
    write_csv(tmp_path / "s.csv", ["户籍镇（街道）", "服务机构"], [["浒山", "c"]])
    done = run("settle", str(tmp_path / "s.csv"), "--per-person", amount, "-o", str(tmp_path / "a2.csv"))
    assert done.returncode == 2 and "每人金额" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "a2.csv").exists()


def test_settle_refuses_absurd_month_counts_and_neutralises_formulas(tmp_path):
    header = ["户籍镇（街道）", "服务机构", "服务月数"]
    write_csv(tmp_path / "s.csv", header, [["浒山", '=HYPERLINK("http://x","y")', "999999999999999999999"],
                                           ["浒山", "@SUM(1)", "2"], ["古塘", "-2+3", "0"]])
    done = run("settle", str(tmp_path / "s.csv"), "--per-person", "75", "-o", str(tmp_path / "a2.csv"))
    assert done.returncode == 0, done.stderr
    import json
    summary = json.loads(done.stdout)
    assert [e["row"] for e in summary["errors"]] == [2, 4] and summary["total"] == "150"
    _, rows2 = read_settle_csv(tmp_path / "a2.csv")
    assert rows2[0][2] == "'@SUM(1)"


def test_settle_reads_a_list_below_a_title_and_refuses_broken_files(tmp_path):
    write_csv(tmp_path / "s.csv", ["2022年第一季度服务名单"], [[], ["户籍镇（街道）", "服务机构"], ["浒山", "c"]])
    done = run("settle", str(tmp_path / "s.csv"), "--per-person", "75", "-o", str(tmp_path / "a2.xlsx"))
    assert done.returncode == 0, done.stderr
    for name, data in (("x.xlsx", b"PK\x03\x04 broken"), ("y.csv", b"\xef\xbb\xbf" + "户籍镇（街道）,服务机构\r\n浒山,".encode() + "中心".encode("gbk"))):
        (tmp_path / name).write_bytes(data)
        done = run("settle", str(tmp_path / name), "--per-person", "75", "-o", str(tmp_path / "o.csv"))
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    done = run("settle", str(tmp_path / "s.csv"), "--per-person", "75", "-o", str(tmp_path / "nope" / "o.csv"))
    assert done.returncode == 2 and "无法写入" in done.stderr


def test_settle_xlsx_has_both_tables(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    header, rows = served_list()
    write_csv(tmp_path / "served.csv", header, rows)
    done = run("settle", str(tmp_path / "served.csv"), "--per-person", "75", "-o", str(tmp_path / "结算.xlsx"))
    assert done.returncode == 0, done.stderr
    wb = openpyxl.load_workbook(tmp_path / "结算.xlsx")
    assert wb.sheetnames == ["附件2机构结算表", "附件3乡镇汇总表"]
    assert [c.value for c in wb["附件2机构结算表"][6]] == ["浒山街道", 1, "白沙街道居家养老服务中心", 21, 1575, 0, 0, 1575, 1023.75, 551.25]


def test_the_settlement_block_is_validated(tmp_path):
    from site_build.catalogue import _Checker
    county = {"code": "330282", "forms": [{"id": "survey"}], "settlement": {
        "source": "x", "service": "nope", "survey_form": "other", "towns": ["甲镇", "甲镇", "<b>"],
        "town_aliases": {"乙": "丙镇"}, "shares": [{"payer": "市", "percent": 65}, {"payer": "镇", "percent": 30}],
        "categories": [{"name": "x", "words": ["80"], "field": "nope"}]}}
    checker_ = _Checker(tmp_path / "x.yaml")
    checker_.settlement(county, [{"id": "330282-home-care"}])
    fields = {p[2] for p in checker_.problems}
    assert {"county.settlement.service", "county.settlement.survey_form", "county.settlement.towns",
            "county.settlement.town_aliases", "county.settlement.shares", "county.settlement.categories[0].field"} <= fields


def test_county_option_fills_a_blank_hukou_but_never_overrides_one(tmp_path):
    write_csv(tmp_path / "r.csv", ["出生日期", "户籍", "是否入住养老机构"], [["1940-01-01", "", "否"], ["1940-01-01", "永嘉", "否"]])
    done = run("screen", str(tmp_path / "r.csv"), "-o", str(tmp_path / "o.csv"), "--as-of", AS_OF, "--county", "慈溪")
    assert done.returncode == 0, done.stderr
    header, rows = read_csv(tmp_path / "o.csv")
    missed = header.index("应享未享")
    home_care = checker.engine().services[HOME_CARE]["s"]["name"]
    assert home_care in rows[0][missed] and home_care not in rows[1][missed]
    done = run("screen", str(tmp_path / "r.csv"), "-o", str(tmp_path / "o.csv"), "--county", "火星县")
    assert done.returncode == 2 and "火星县" in done.stderr and "Traceback" not in done.stderr


# ---------------------------------------------------------------- the reliability test's inputs (audit 2026-11-29-reliability.md §2a, §3c)

FIXTURES = ROOT / "tests" / "fixtures" / "registers"


def screen_fixture(tmp_path, name, *extra):
    out = tmp_path / "o.csv"
    done = run("screen", str(FIXTURES / name), "-o", str(out), "--as-of", AS_OF, *extra)
    assert "Traceback" not in done.stderr, done.stderr
    return done, out


def test_2_1_a_row_longer_than_the_header_is_that_rows_error_with_the_stray_cells_shown(tmp_path):
    done, out = screen_fixture(tmp_path, "ragged.csv")
    assert done.returncode == 0
    header, rows = read_csv(out)
    assert header[-len(RESULT_COLUMNS):] == RESULT_COLUMNS and len(rows) == 2
    assert rows[0][:4] == ["2", "钱长", "1942-02-02", "慈溪市"] and all(c == "" for c in rows[0][4:-1])
    assert "多出2格" in rows[0][-1] and "“多1”" in rows[0][-1] and "“多2”" in rows[0][-1]
    assert rows[1][:4] == ["3", "赵短", "1940-01-01", ""] and rows[1][-1] == ""  # a short row is fine


@pytest.mark.parametrize("name, line", [("unclosed-quote.csv", 2), ("quote-swallows-rows.csv", 2)])
def test_2_2_an_unclosed_quote_is_refused_with_its_line(tmp_path, name, line):
    done, out = screen_fixture(tmp_path, name)
    assert done.returncode == 2 and f"第{line}行" in done.stderr and "引号" in done.stderr and not out.exists()


def test_2_3_duplicates_are_flagged_and_listed_once_in_annex1(tmp_path):
    done, out = screen_fixture(tmp_path, "duplicates.csv", "--annex1", str(tmp_path / "a.csv"))
    assert done.returncode == 0
    import json
    summary = json.loads(done.stdout)
    assert summary["duplicates"] == 3 and summary["people_missing_out"] == 2 and summary["annex1_rows"] == 2
    _, rows = read_csv(out)
    hints = [r[-2] for r in rows]
    assert hints[0] == "" and "与第2行是同一人（身份证号相同）" in hints[1] and "与第2行是同一人（身份证号相同）" in hints[2]
    assert hints[3] == "" and "与第5行是同一人（姓名和出生日期相同）" in hints[4]
    (_, _, annex), = read_csv(tmp_path / "a.csv", sections=True)
    assert [r[2] for r in annex] == ["王", "李"]


@pytest.mark.parametrize("name, phrase", [
    ("mixed-encoding.csv", "第2行是 UTF-8，第3行有不是 UTF-8 的字节"),
    ("mixed-encoding-chinese-header.csv", "第1行是 UTF-8，第3行有不是 UTF-8 的字节"),
    ("bom-on-gbk.csv", "文件开头标着 UTF-8 编码，但第1行"),
    ("bad-byte-at-end.csv", "第3行有不是 UTF-8 的字节"),
    ("whitespace-only.csv", "文件是空的"),
])
def test_2_4_2_8_2_12_mixed_or_mislabelled_encodings_are_refused_with_the_line(tmp_path, name, phrase):
    done, out = screen_fixture(tmp_path, name)
    assert done.returncode == 2 and phrase in done.stderr and not out.exists(), done.stderr


def test_2_7_one_absurd_cell_is_that_rows_error_and_the_batch_goes_on(tmp_path):
    done, out = screen_fixture(tmp_path, "absurd-cell.csv")
    assert done.returncode == 0
    _, rows = read_csv(out)
    assert len(rows) == 4
    assert "太长（5000个字）" in rows[0][-1] and "太长（400个字）" in rows[1][-1] and "太大了" in rows[2][-1]
    assert rows[3][-1] == "" and len(rows[0][-1]) < 200


def test_2_12_an_id_born_in_1880_says_so(tmp_path):
    done, out = screen_fixture(tmp_path, "id-born-1880.csv")
    _, rows = read_csv(out)
    assert "出生年份 1880 不对" in rows[0][-1]


XLSX_REFUSED = ["x-row-r-dup.xlsx", "x-row-r-zero.xlsx", "x-row-r-text.xlsx", "x-row-r-negative.xlsx", "x-row-r-500-million.xlsx",
                "x-col-zzzzzzz.xlsx", "x-shared-string-out-of-range.xlsx", "x-sheet-truncated.xlsx", "x-shared-strings-broken.xlsx",
                "x-styles-broken.xlsx", "x-rels-broken.xlsx", "x-xxe-sheet.xlsx", "x-laughs-shared-strings.xlsx", "x-bad-crc.xlsx",
                "x-encrypted-flag.xlsx", "x-empty-rows-bomb.xlsx"]


@pytest.mark.parametrize("name", XLSX_REFUSED)
def test_2_5_2_6_2_9_2_10_a_malformed_or_hostile_xlsx_is_refused_quickly(tmp_path, name):
    import time
    start = time.perf_counter()
    done, out = screen_fixture(tmp_path, name)
    assert done.returncode == 2 and "这不是一个能读的 .xlsx：" in done.stderr and not out.exists(), done.stderr
    assert time.perf_counter() - start < 10


def test_2_10_a_zip_bomb_whose_header_lies_is_stopped_by_the_crc(tmp_path):
    import zipfile as zf
    data = bytearray((FIXTURES / "x-empty-rows-bomb.xlsx").read_bytes())
    z = zf.ZipFile(io.BytesIO(bytes(data)))
    info = z.getinfo("xl/worksheets/sheet1.xml")
    # claim a small size in the central directory: zipfile then reads only that much and the CRC fails
    at = bytes(data).find(b"PK\x01\x02" + bytes(data)[bytes(data).find(b"PK\x01\x02") + 4:][:0])
    while at >= 0:
        n = int.from_bytes(data[at + 28:at + 30], "little")
        if bytes(data[at + 46:at + 46 + n]) == b"xl/worksheets/sheet1.xml":
            data[at + 24:at + 28] = (info.compress_size * 2).to_bytes(4, "little")
        at = bytes(data).find(b"PK\x01\x02", at + 4)
    (tmp_path / "lying.xlsx").write_bytes(bytes(data))
    done = run("screen", str(tmp_path / "lying.xlsx"), "-o", str(tmp_path / "o.csv"))
    assert done.returncode == 2 and "这不是一个能读的 .xlsx：" in done.stderr


def test_2_11_unwritable_outputs_are_refused_before_anything_is_written(tmp_path):
    register = FIXTURES / "duplicates.csv"
    done = run("screen", str(register), "-o", str(tmp_path / "o.csv"), "--annex1", str(tmp_path / "nope" / "a.csv"))
    assert done.returncode == 2 and "无法写入" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "o.csv").exists() and not list(tmp_path.glob(".*part"))
    done = run("screen", str(register), "-o", str(tmp_path))
    assert done.returncode == 2 and "文件夹" in done.stderr
    done = run("screen", str(tmp_path), "-o", str(tmp_path / "o.csv"))
    assert done.returncode == 2 and "文件夹" in done.stderr
    for bad in ("2026-02-30", "yesterday"):
        done = run("screen", str(register), "-o", str(tmp_path / "o.csv"), "--as-of", bad)
        assert done.returncode == 2 and "Traceback" not in done.stderr


def test_3c_formula_cells_are_neutralised_in_csv_and_stay_text_in_xlsx(tmp_path):
    done, out = screen_fixture(tmp_path, "formula-injection.csv", "--annex1", str(tmp_path / "a.csv"))
    assert done.returncode == 0
    raw = out.read_bytes()[3:].decode()
    cells = [c for row in csv.reader(io.StringIO(raw, newline="")) for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'=HYPERLINK(\"http://x\",\"y\")" in cells and "'-2+3+cmd" in cells and "'\t=1+1" in cells
    raw = (tmp_path / "a.csv").read_bytes()[3:].decode()
    annex = [c for row in csv.reader(io.StringIO(raw, newline="")) for c in row]
    assert "'=HYPERLINK(\"http://x\",\"y\")" in annex and "'@SUM(1+1)*cmd" in annex and "'+cmd|' /C calc'!A0" in annex
    assert not [c for c in annex if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    openpyxl = pytest.importorskip("openpyxl")
    done = run("screen", str(FIXTURES / "formula-injection.csv"), "-o", str(tmp_path / "o.xlsx"), "--as-of", AS_OF)
    ws = openpyxl.load_workbook(tmp_path / "o.xlsx").active
    assert ws["B2"].value == '=HYPERLINK("http://x","y")' and ws["B2"].data_type == "s"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


@pytest.mark.parametrize("name", ["real-register.csv", "real-register.xlsx", "libreoffice-real-register.xlsx",
                                  "libreoffice-real-register.xls"])
def test_registers_as_they_really_come(tmp_path, name):
    """A title row (merged in the workbooks) above the header, dates as 1944.5.10 / 1944年5月10日 / 19440510 /
    a date cell / an Excel serial number, an ID number stored as a number (digits lost), a 合计 row."""
    done, out = screen_fixture(tmp_path, name)
    assert done.returncode == 0, done.stderr
    import json
    summary = json.loads(done.stdout)
    assert summary["header_line"] in (3, 4) and summary["above_header"][0]["text"] == "XX镇80周岁以上老年人花名册"
    assert len(summary["total_rows"]) == 1
    header, rows = read_csv(out)
    col = {h: i for i, h in enumerate(header)}
    by_name = {r[col["姓名"]]: r for r in rows}
    for person in ("甲", "乙", "丙", "丁"):
        assert by_name[person][col["错误"]] == "" and by_name[person][col["以后可以享受"]] == "", person
        assert "82周岁" not in by_name[person][col["错误"]]
    assert "身份证号被表格软件改成了科学计数法，后几位已经丢失" in by_name["戊"][col["错误"]].replace("“3.30282194405101E+17”", "").replace(
        "“3.30282194405101E+017”", "").replace("“3.302821944051012e+17”", "")
    assert "这是合计（小计）行" in rows[-1][col["提示"]]
    assert len(rows) == summary["rows"]


def test_header_detection_ignores_title_rows_but_not_a_missing_column():
    from checker.screen import find_header, _looks_like_register_header
    lines = [(1, ["XX镇花名册"]), (2, []), (3, ["姓名", "出生日期", "户籍"]), (4, ["甲", "1940-01-01", "慈溪"])]
    line, header, above, rest = find_header(iter(lines), _looks_like_register_header)
    assert line == 3 and above == [(1, "XX镇花名册")] and list(rest) == [(4, ["甲", "1940-01-01", "慈溪"])]


def test_damaged_workbooks_end_in_a_message_never_a_traceback():
    """Random byte damage to a real .xls and .xlsx (LibreOffice's): each is read or refused with TableError."""
    from checker.screen import screen_bytes
    rng = random.Random(5)
    engine = checker.engine()
    for name in ("libreoffice-real-register.xls", "libreoffice-real-register.xlsx"):
        good = (FIXTURES / name).read_bytes()
        variants = [good[:n] for n in (100, 511, 600, 2000, len(good) // 2, len(good) - 1)]
        for _ in range(60):
            data = bytearray(good)
            for _ in range(rng.randint(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            variants.append(bytes(data))
        for data in variants:
            try:
                screen_bytes(data, name, AS_OF, engine=engine)
            except TableError:
                pass


def test_the_screening_page_states_the_same_size_limit_as_the_checker():
    from checker.screen import BROWSER_LIMIT
    js = (ROOT / "content" / "pages" / "assets" / "screen" / "screen.js").read_text(encoding="utf-8")
    import re as re_
    limits = {k: int(v.replace("_", "")) for k, v in re_.findall(r"(\w+): ([\d_]+)", js.split("const LIMIT = {", 1)[1].split("}", 1)[0])}
    assert limits == BROWSER_LIMIT
    page = (ROOT / "content" / "pages" / "screen" / "index.md").read_text(encoding="utf-8")
    assert all(f"{BROWSER_LIMIT[k] // 1_000_000} MB" in page for k in BROWSER_LIMIT) and "拆成" in page


def test_annex1_xlsx_has_the_forms_title_and_the_younger_elders_on_their_own_sheet(register, tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    done = run("screen", str(register["path"]), "-o", str(tmp_path / "o.xlsx"), "--as-of", AS_OF,
               "--annex1", str(tmp_path / "a.xlsx"))
    assert done.returncode == 0, done.stderr
    wb = openpyxl.load_workbook(tmp_path / "a.xlsx")
    assert wb.sheetnames == ["全市80周岁老年人未享受居家养老服务老人名单", "不满80周岁的老人"]
    first, second = wb.worksheets
    assert first["A1"].value == "全市80周岁老年人未享受居家养老服务老人名单"
    assert [c.value for c in first[2]] == ANNEX1_COLUMNS and first["A3"].value == 1
    assert second["A1"].value.startswith("不满80周岁但符合条件的老人") and [c.value for c in second[2]] == ANNEX1_COLUMNS
    assert all("计划生育特殊家庭" in row[4].value for row in second.iter_rows(min_row=3))
