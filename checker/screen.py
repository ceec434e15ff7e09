"""Batch screening (应享未享排摸): a register of elders in, one row per person out with what they can
get, what they get but do not receive yet, and where to apply; plus 慈溪's 附件1 list (seed 004).

Registers are CSV, XLSX or XLS (see tables.py), read and written as a stream (memory does not grow
with the register; big registers use worker processes on CPython), with Chinese headers (出生日期, 性别, 户籍 …, matched
against the labels of profile.FIELDS and the aliases below) or the profile's own field names.
A bad row never stops the batch and is never dropped: it comes back with the reason in 错误 (a row
longer than the header too, with its stray cells); a file that cannot be read exactly is refused with
its line (TableError). The header may sit below title rows; 合计/小计 rows are marked, not screened;
the same person twice is flagged in 提示 and counted once.
Standard library only, so the same code runs on CPython and in the browser (Pyodide); XLSX is read
and written by our own small stdlib reader/writer (tables.py says why not openpyxl). The command
line (screen_file) and the browser worker (screen_json) share screen_bytes, so both give the same bytes.
"""
from __future__ import annotations

import csv
import datetime as _dt
import zlib
from array import array
import io
import itertools
import os
import re

from .engine import briefs
from .idcard import IdCardError, parse_id
from .profile import FIELDS, OTHER_COUNTY, ProfileError, age_on, is_county_code, parse_profile
from .tables import TableError, open_table, read_table, table_bytes, table_format, write_table_to

HOME_CARE = "330282-home-care"  # 慈溪: 每月3小时免费居家养老服务 (seed 004)
ANNEX1_TITLE = "全市80周岁老年人未享受居家养老服务老人名单"
# 附件1's title and columns as seed 004 prints them (the catalogue's `forms: survey` has the same words
# and wins when present; these are only for a catalogue without 慈溪's settlement block)
ANNEX1_COLUMNS = ["序号", "行政区划", "姓名", "身份证", "调查到的情况说明", "未享受原因", "电话（本人、亲属）",
                  "实际居住地（非本村居住请填写，到门牌号）", "备注"]

RESULT_COLUMNS = ["应享未享", "应享未享去哪里办", "另需", "可以享受", "每月合计（元）", "可能可以享受（待核实）",
                  "还需了解", "以后可以享受", "提示", "错误"]
ROW_COLUMN = "原表行号"

# Columns carried through untouched (and used for 附件1): key -> header spellings.
CARRIED = {
    "name": ["姓名", "老人姓名"],
    "id": ["身份证号", "身份证", "身份证号码", "公民身份号码", "身份证件号码", "证件号码"],
    "phone": ["电话", "联系电话", "电话（本人、亲属）", "手机", "手机号", "手机号码"],
    "address": ["实际居住地", "实际居住地址", "现住址", "居住地址", "家庭住址"],
    "received": ["已享受", "已享受服务", "已享受项目", "已享受的服务"],
    "division": ["行政区划"],
    "survey": ["调查到的情况说明", "情况说明"],
    "reason": ["未享受原因"],
    "note": ["备注"],
    "hukou_town": ["户籍镇（街道）", "户籍镇街", "户籍地镇（街道）", "户籍所在镇（街道）", "户籍乡镇（街道）"],
    "residence_town": ["常住镇（街道）", "常住镇街", "现居住镇（街道）", "居住镇（街道）", "常住乡镇（街道）"],
}

# Header spellings of profile fields besides the field name and its FIELDS label.
FIELD_ALIASES = {
    "as_of": ["查询日期"],
    "birth_date": ["出生日期", "出生年月日", "生日"],
    "age": ["年龄", "周岁"],
    "sex": ["性别"],
    "hukou": ["户籍", "户籍地", "户籍所在地", "户口所在地", "户籍县（市、区）", "户籍所在县（市）"],
    "residence": ["常住地", "常住县（市、区）", "常住地县（市、区）", "常住县（市）"],
    "lives_outside_hukou_town": ["人户分离", "是否人户分离"],
    "months_at_residence": ["居住月数", "在常住地居住月数"],
    "economic": ["经济状况", "困难类型", "经济困难类型", "救助类别"],
    "tekun_mode": ["供养方式"],
    "per_capita_income": ["家庭人均月收入", "人均月收入"],
    "care_level": ["能力评估", "失能等级", "失能程度", "能力评估等级", "失能情况"],
    "disability_grade": ["残疾人证等级"],
    "disability_type": ["残疾类型"],
    "family_planning_special": ["计生特殊家庭"],
    "living": ["居住状况", "居住类型"],
    "military": ["优抚类别"],
    "in_institution": ["是否入住养老机构", "入住养老机构"],
}

# Cell spellings besides each value's code and FIELDS label.
VALUE_ALIASES = {
    "sex": {"男性": "male", "女性": "female", "m": "male", "f": "female"},
    "economic": {"低边": "dibian", "低保边缘": "dibian", "低保边缘户": "dibian", "低边户": "dibian", "低保户": "dibao",
                 "特困人员": "tekun", "特困供养": "tekun", "特困供养人员": "tekun", "五保": "tekun", "五保户": "tekun",
                 "非困难": "none", "一般": "none", "普通": "none", "不困难": "none", "无": "none", "否": "none"},
    "tekun_mode": {"分散供养": "home", "集中供养": "institution", "分散": "home", "集中": "institution"},
    "care_level": {"完好": "intact", "自理": "intact", "能自理": "intact", "轻度": "mild", "中度": "moderate",
                   "重度": "severe", "完全失能": "severe", "完全丧失生活自理能力": "severe",
                   "具备生活自理能力": "intact", "轻度丧失生活自理能力": "mild", "中度丧失生活自理能力": "moderate"},
    "living": {"与子女同住": "with_family", "与家人居住": "with_family", "同住": "with_family"},
    "disability_grade": {**{f"{zh}": n for n, zh in ((1, "一"), (2, "二"), (3, "三"), (4, "四"))},
                         **{f"{n}级": n for n in (1, 2, 3, 4)}, **{str(n): n for n in (1, 2, 3, 4)}},
    "military": {"烈士遗属": "martyr_family", "因公牺牲军人遗属": "martyr_family", "病故军人遗属": "martyr_family",
                 "三属": "martyr_family"},
}
YES = {"是", "有", "√", "✓", "✔", "y", "yes", "true", "1", "对", "是的"}
NO = {"否", "无", "没有", "×", "✗", "✘", "n", "no", "false", "0", "不是", "不"}
UNKNOWN_WORDS = {"", "不详", "不知道", "未知", "待查", "待核实", "-", "—", "/", "？", "?"}
LIST_SPLIT = re.compile(r"[、,，;；/\s]+")


_NOISE = re.compile(r"[\s*＊:：]+")


def norm_text(text: str) -> str:
    """Header/cell text for matching: no spaces, half-width brackets, lower case, no * markers."""
    return _NOISE.sub("", str(text).translate(_WIDTH).strip().lower())


_WIDTH = str.maketrans({"（": "(", "）": ")", "，": ",", "　": " ", "\ufeff": ""})


def strip_paren(text: str) -> str:
    return re.sub(r"\([^)]*\)$", "", text)


# ---------------------------------------------------------------- headers

def _header_index():
    index = {}
    for key, names in CARRIED.items():
        for n in names:
            index[norm_text(n)] = ("carried", key)
    for field, (_, label, _) in FIELDS.items():
        for n in [field, label, *FIELD_ALIASES.get(field, [])]:
            index.setdefault(norm_text(n), ("field", field))
    return index


HEADERS = _header_index()


def map_columns(header):
    """{column index: ("field"|"carried", key)}; raises TableError on a column meant twice."""
    mapping, seen = {}, {}
    for i, h in enumerate(header):
        key = norm_text(h)
        hit = HEADERS.get(key) or HEADERS.get(strip_paren(key))
        if hit is None:
            continue
        if hit in seen:
            j = seen[hit]
            raise TableError(f"第{j + 1}列“{header[j]}”和第{i + 1}列“{h}”是同一项内容，请删去一列",
                             f"columns {j + 1} ({header[j]}) and {i + 1} ({h}) mean the same thing")
        seen[hit] = i
        mapping[i] = hit
    if not any(k in (("field", "birth_date"), ("field", "age"), ("carried", "id")) for k in mapping.values()):
        raise TableError("登记表里没有出生日期、年龄或身份证号这几列之一：无法判断年龄。请看模板的表头",
                         "the register has no 出生日期, 年龄 or 身份证号 column")
    return mapping


# ---------------------------------------------------------------- cells

class CellError(ValueError):
    pass


def _value_index():
    out = {}
    for field, (kind, _, values) in FIELDS.items():
        if values is None:
            continue
        table = {}
        for value, label in values.items():
            for spelling in (str(value), label, strip_paren(norm_text(label)), *re.findall(r"\(([^)]*)\)", norm_text(label))):
                table.setdefault(norm_text(spelling), value)
        for spelling, value in VALUE_ALIASES.get(field, {}).items():
            table[norm_text(spelling)] = value
        if field == "disability_type":
            for value, label in values.items():
                table[norm_text(label + "残疾")] = value
        out[field] = table
    return out


VALUES = _value_index()


def _allowed_text(field: str) -> str:
    kind, _, values = FIELDS[field]
    if values:
        return "、".join(str(v) for v in values.values())
    return {"bool": "是、否", "int": "整数", "number": "数字", "date": "日期，例如 1945-03-07",
            "county": "县（市）名称或6位行政区划代码"}[kind]


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?"
                   r"|(\d{4})(\d{2})(\d{2})")
_EXCEL_EPOCH = _dt.date(1899, 12, 30)
MAX_CELL = 200  # characters in a cell the screener reads; anything longer is that row's error


def parse_date_cell(label: str, text: str) -> str:
    """1944-05-10, 1944/5/10, 1944.5.10, 1944年5月10日, 19440510, or an Excel serial number (16202 =
    1944-05-10, what a date cell becomes when it is saved as a number)."""
    t = text.strip().translate(_DIGITS)
    m = _DATE.fullmatch(t)
    if not m:
        serial = re.fullmatch(r"(\d{3,5})(?:\.0+)?", t)
        if serial and 367 <= int(serial.group(1)) <= 73050:  # 1901-01-01 … 2099-12-31
            return (_EXCEL_EPOCH + _dt.timedelta(days=int(serial.group(1)))).isoformat()
        raise CellError(f"{label}“{text}”看不懂：请写成 1945-03-07 这样的日期")
    y, mo, d = (int(g) for g in m.groups() if g is not None)
    try:
        return _dt.date(y, mo, d).isoformat()
    except ValueError:
        raise CellError(f"{label}“{text}”这一天不存在") from None


_DIGITS = str.maketrans("０１２３４５６７８９．－／", "0123456789.-/")


def parse_cell(field: str, text: str, counties):
    """One register cell → the profile value (None = unknown); raises CellError in Chinese."""
    t = text.strip()
    if t in UNKNOWN_WORDS:
        return None
    kind, label, _ = FIELDS[field]
    if len(t) > MAX_CELL:
        raise CellError(f"{label}这一格太长（{len(t)}个字），不像是填写的内容：请核对这一格")
    if kind == "date":
        return parse_date_cell(label, t)
    if kind == "enum":
        value = VALUES[field].get(t)
        if value is not None:
            return value
    key = norm_text(t)
    if key in UNKNOWN_WORDS:
        return None
    if kind == "int":
        m = re.fullmatch(r"(\d+)(?:\.0+)?(?:周?岁|个?月)?", key)
        if not m:
            raise CellError(f"{label}“{short_text(text)}”不是整数")
        if len(m.group(1)) > 5:
            raise CellError(f"{label}“{short_text(text)}”太大了，不对")
        return int(m.group(1))
    if kind == "number":
        m = re.fullmatch(r"(\d+(?:\.\d+)?)元?", key.replace(",", ""))
        if not m:
            raise CellError(f"{label}“{short_text(text)}”不是数字")
        if len(m.group(1).split(".")[0]) > 9:
            raise CellError(f"{label}“{short_text(text)}”太大了，不对")
        x = float(m.group(1))
        return int(x) if x == int(x) else x
    if kind == "bool":
        if key in YES:
            return True
        if key in NO:
            return False
        raise CellError(f"{label}“{text}”看不懂：请填“是”或“否”，不知道就空着")
    if kind == "county":
        return counties.resolve(label, t)
    table = VALUES[field]
    if kind == "enum_list":
        if key in NO:
            return []
        out = []
        for part in LIST_SPLIT.split(t):
            if not part:
                continue
            value = table.get(norm_text(part))
            if value is None:
                raise CellError(f"{label}“{part}”看不懂：可填 {_allowed_text(field)}（几项用顿号隔开），没有填“无”")
            out.append(value)
        return out
    value = table.get(key)
    if value is None:
        value = table.get(strip_paren(key))
    if value is None:
        raise CellError(f"{label}“{text}”看不懂：可填 {_allowed_text(field)}，不知道就空着")
    return value


def short_text(text: str, n: int = 30) -> str:
    text = str(text)
    return text if len(text) <= n else f"{text[:n]}…（共{len(text)}个字）"


OTHER_COUNTY_CELLS = {"other", "其他地方"}


class Counties:
    """County names and codes → code, from the catalogue (永嘉县, 永嘉, 温州市永嘉县, 330324)."""

    def __init__(self, catalogue):
        self.catalogue = catalogue
        self.briefs = briefs(catalogue)     # every county's name, also those whose entries are not added yet
        self.exact, self.full, self.short = {}, {}, {}
        for code, c in self.briefs.items():
            name = c["name"]
            short = name[:-1] if len(name) > 2 and name[-1] in "县市区" else name
            for spelling in (name, short, c.get("prefecture", "") + name, c.get("province", "") + c.get("prefecture", "") + name):
                self.exact[norm_text(spelling)] = code
            self.full[name] = code
            self.short[short] = code
        self.known = "、".join(c["name"] for c in self.briefs.values())
        self._cache = {}

    def resolve(self, label: str, text: str) -> str:
        t = text.strip()
        hit = self._cache.get(t)
        if hit is not None:
            return hit
        key = norm_text(t)
        if key in OTHER_COUNTY_CELLS:  # the profile's own value for a county outside the catalogue (the form's 其他地方)
            return OTHER_COUNTY
        if re.fullmatch(r"\d{6}", key):
            if not is_county_code(key):
                raise CellError(f"{label}“{text}”不是有效的6位县级行政区划代码")
            code = key
        else:
            code = self.exact.get(key)
            if code is None:
                found = {c for n, c in self.full.items() if n in t} or {c for n, c in self.short.items() if n in t}
                if len(found) != 1:
                    raise CellError(f"{label}“{text}”不是本目录收录的县（市）：可填 {self.known}，或6位行政区划代码")
                code = found.pop()
        self._cache[t] = code
        return code

    def name(self, code) -> str:
        c = self.briefs.get(code)
        return c["name"] if c else code


# ---------------------------------------------------------------- the engine, briefly

def brief_results(engine, profile: dict):
    """The engine's answer for a parsed profile as a batch needs it (Engine.brief: the services that
    are not ineligible, the monthly total and the questions), with each result's catalogue entry."""
    results, total, questions = engine.brief(profile)
    # the answer's own order (Engine.plan: what to go and do first), as on the card and the command line
    rank = {sid: i for i, sid in enumerate(sid for g in engine.plan(results) for sid in g["services"])}
    results.sort(key=lambda r: rank.get(r["service"], len(rank)))
    away = profile.get("residence") not in (None, profile.get("hukou")) or bool(profile.get("lives_outside_hukou_town"))
    for r in results:
        r["_s"] = engine.services[r["service"]]["s"]
        r["_away"] = away
    return results, total, questions


# ---------------------------------------------------------------- services already received

_RECEIVED_SPLIT = re.compile(r"[、,，;；\n]+")


class Received:
    """Matches the 已享受 cell (ids, item numbers or names, separated by 、,;) to service ids."""

    def __init__(self, engine, catalogue):
        self.engine = engine
        self.topics = {norm_text(t["name"]): k for k, t in catalogue.get("topics", {}).items()}
        self._cache = {}

    def match(self, text: str, codes):
        """(set of service ids, [tokens not recognised])."""
        ids, unknown = set(), []
        if not text:
            return ids, unknown
        for token in _RECEIVED_SPLIT.split(text):
            token = token.strip()
            if not token or norm_text(token) in NO:
                continue
            key = (token, tuple(codes))
            hit = self._cache.get(key)
            if hit is None:
                hit = self._cache[key] = self._match_one(token, codes)
            if hit:
                ids.update(hit)
            else:
                unknown.append(token)
        return ids, unknown

    def _match_one(self, token, codes):
        if token in self.engine.services:
            return {token}
        key = norm_text(token)
        entries = [e["s"] for c in codes for e in self.engine.by_county.get(c, [])]
        m = re.fullmatch(r"第?(\d+)项?", key)
        if m:
            return {s["id"] for s in entries if s.get("item") == int(m.group(1))}
        names = {s["id"] for s in entries if norm_text(s["name"]) == key}
        if names:
            return names
        topic = self.topics.get(key)
        if topic:
            return {s["id"] for s in entries if s.get("topic") == topic}
        if len(key) >= 3:
            return {s["id"] for s in entries if key in norm_text(s["name"]) or norm_text(s["name"]) in key}
        return set()


# ---------------------------------------------------------------- 附件1 (from a county's settlement block)

def annex1_specs(catalogue) -> dict:
    """{service id: {"county", "title", "columns"}} for each county whose `settlement` block names the
    service its survey list (附件1) is about and the form that gives the list's title and columns."""
    out = {}
    for code, c in catalogue["counties"].items():
        block = c.get("settlement")
        if not block or not block.get("service"):
            continue
        form = next((f for f in c.get("forms") or [] if f.get("id") == block.get("survey_form")), None)
        if form is None:
            continue
        out[block["service"]] = {"county": code, "title": form["title"], "columns": list(form["columns"])}
    return out


# what each 附件1 column holds, by how its heading starts (the form's own words are the headings)
_ANNEX_SLOTS = [("序号", "number"), ("行政区划", "division"), ("姓名", "name"), ("身份证", "id"),
                ("调查到的情况说明", "survey"), ("情况说明", "survey"), ("未享受原因", "reason"), ("电话", "phone"),
                ("实际居住地", "address"), ("备注", "note")]


def _annex_slot(column: str):
    key = norm_text(column)
    return next((slot for start, slot in _ANNEX_SLOTS if key.startswith(norm_text(start))), None)


_TOTAL_FIRST = set("合小总共")
_TOTAL_ROW = re.compile(r"(总合计|合计|小计|总计|共计)[:：]?.*")


def _is_total_row(cells) -> bool:
    """A 合计/小计 row at the bottom of a register (its first filled cell says so)."""
    for c in cells[:4]:
        c = c.strip()
        if c:
            return bool(_TOTAL_ROW.fullmatch(c.replace(" ", "").replace("\u3000", ""))) and len(c) <= 20
    return False


def find_header(lines, is_header, scan: int = 30):
    """(header line, header cells, [(line, text) of the rows above it], iterator of the rest).
    The header is the first of the first `scan` non-empty rows that `is_header` accepts (registers
    often have a title row and merged cells above the real header); none accepted: the first non-empty row."""
    seen = []
    lines = iter(lines)
    for line, cells in lines:
        if not any(c.strip() for c in cells):
            continue
        seen.append((line, cells))
        if is_header(cells):
            above = [(ln, " ".join(c.strip() for c in cs if c.strip())) for ln, cs in seen[:-1]]
            return line, cells, above, lines
        if len(seen) >= scan:
            break
    if not seen:
        raise TableError("文件是空的（没有任何内容）", "the file is empty")
    line, cells = seen[0]
    return line, cells, [], itertools.chain(seen[1:], lines)


def _looks_like_register_header(cells) -> bool:
    hits = set()
    for h in cells:
        key = norm_text(h)
        hit = HEADERS.get(key) or HEADERS.get(strip_paren(key))
        if hit:
            hits.add(hit)
    return len(hits) >= 2 and any(k in hits for k in (("field", "birth_date"), ("field", "age"), ("carried", "id")))


def _spool():
    try:
        import tempfile
        return tempfile.TemporaryFile(mode="w+", encoding="utf-8", newline="")
    except Exception:  # no writable temporary directory: keep it in memory
        return io.StringIO(newline="")


# ---------------------------------------------------------------- screening

class Screener:
    def __init__(self, engine=None, as_of=None, county=None):
        if engine is None:
            from . import engine as shared_engine
            engine = shared_engine()
        self.engine = engine
        self.catalogue = engine.catalogue
        self.counties = Counties(self.catalogue)
        self.received = Received(engine, self.catalogue)
        self.as_of = _as_of(as_of)
        try:
            self.default_county = self.counties.resolve("--county", county) if county else None
        except CellError as err:
            raise ProfileError("--county", str(err), f"{county!r} is not a county of the catalogue (name or 6-digit code)") from None
        self._texts: dict = {}
        self._cells: dict = {}  # (field, cell text) → parsed value or CellError
        self.annex = annex1_specs(self.catalogue)
        if not self.annex and HOME_CARE in engine.services:  # a catalogue without the settlement block
            self.annex = {HOME_CARE: {"county": "330282", "title": ANNEX1_TITLE, "columns": ANNEX1_COLUMNS}}

    def screen(self, header, rows, progress=None, annex1=False):
        """For lists in memory: (output header, output rows, 附件1 rows or None, summary)."""
        run = self.stream([(1, header), *((n, r) for n, r in enumerate(rows, start=2))], annex1=annex1,
                          progress=progress, total=len(rows) + 1)
        out_rows = list(run.rows)
        annex_rows = None
        if annex1:
            annex_rows = [r for _, _, _, rows_ in run.annex_sections() for r in rows_]
        return run.out_header, out_rows, annex_rows, run.summary

    def stream(self, lines, *, annex1=False, progress=None, total=0, jobs=1):
        """Screen an iterator of (line, cells): returns a _Run whose `rows` yields the output rows as
        the input comes; `summary` and `annex_sections()` are complete once `rows` is exhausted."""
        if annex1 and not self.annex:
            raise TableError("目录里没有哪个县（市）写明了附件1名单（settlement 块），无法生成附件1",
                             "no county of the catalogue has a settlement block with a survey list: cannot write 附件1")
        line, header, above, rest = find_header(lines, _looks_like_register_header)
        return _Run(self, line, header, above, rest, annex1, progress, total, jobs)

    def read_row(self, cells, fields, carried):
        """One row read as a profile, before the engine sees it: (raw profile, [错误 texts], the ID
        card or None). `raw` holds only what the row says (JSON values; `as_of` the batch's day unless
        the row has its own), plus what screening derives from it: the --county default, birth date and
        sex from the ID number, 人户分离 from the two town columns. With errors, `raw` holds the cells
        that could be read. `fields` and `carried` are a run's (Screener.stream(…).fields/.carried)."""
        errors, raw = [], {"as_of": self.as_of.isoformat()}
        memo = self._cells
        for i, field in fields.items():
            text = cells[i] if i < len(cells) else ""
            key = (field, text)
            value = memo.get(key, memo)
            if value is memo:  # not seen yet: parse (dates are almost all different, so not kept)
                try:
                    value = parse_cell(field, text, self.counties)
                except CellError as err:
                    value = err
                if FIELDS[field][0] != "date" and len(memo) < 50000 and len(text) <= MAX_CELL:
                    memo[key] = value
            if value.__class__ is CellError:
                errors.append(str(value))
            elif value is not None:
                raw[field] = value
        id_text = _cell(cells, carried, "id")
        card = None
        if id_text:
            try:
                card = parse_id(id_text)
            except IdCardError as err:
                errors.append(err.zh)
            else:
                for field, value in (("birth_date", card["birth_date"].isoformat()), ("sex", card["sex"])):
                    given = raw.get(field)
                    if given is None:
                        raw[field] = value
                    elif given != value:
                        shown = FIELDS[field][2][value] if field == "sex" else value
                        given_shown = FIELDS[field][2][given] if field == "sex" else given
                        errors.append(f"{FIELDS[field][1]} {given_shown} 与身份证号中的 {shown} 不一致")
        if "hukou" not in raw and self.default_county and not errors:
            raw["hukou"] = self.default_county
        h_town, r_town = _cell(cells, carried, "hukou_town"), _cell(cells, carried, "residence_town")
        if ("lives_outside_hukou_town" not in raw and h_town and r_town
                and raw.get("residence", raw.get("hukou")) == raw.get("hukou")):
            raw["lives_outside_hukou_town"] = norm_text(h_town) != norm_text(r_town)
        known = self.engine.briefs     # every county of the catalogue, added to the engine yet or not
        if not errors and "hukou" in raw and raw["hukou"] not in known and raw.get("residence", raw["hukou"]) not in known:
            errors.append(f"户籍和常住地都不在本目录收录的县（市）中（本目录只收录 {self.counties.known}），无法排摸")
        return raw, errors, card

    def counties_named(self, lines):
        """The codes of the counties a register's rows name (户籍, 常住地; the --county default for a
        row without), in the order first named; None when a row that can be screened names none (its
        answer reads every county). What screening the register reads of the catalogue: the browser
        fetches those counties' entries first (wanted_json). Rows that cannot be read need nothing."""
        _, header, _, rest = find_header(lines, _looks_like_register_header)
        fields, carried = _columns_read(map_columns(header))
        codes: dict = {}
        for _, cells in rest:
            if not "".join(cells).strip():
                continue
            if "".join(cells[:4]).lstrip()[:1] in _TOTAL_FIRST and _is_total_row(cells):
                continue
            raw, errors, _ = self.read_row(cells, fields, carried)
            if errors:
                continue
            named = [raw[k] for k in ("hukou", "residence") if isinstance(raw.get(k), str)]
            if not named:
                return None
            codes.update(dict.fromkeys(named))
        return list(codes)

    def screen_row(self, cells, fields, carried):
        raw, errors, card = self.read_row(cells, fields, carried)
        profile = None
        if not errors:
            try:
                profile = parse_profile(raw, self.as_of)
            except ProfileError as err:
                errors.append(err.zh)
        if errors:
            return {"error": True, "missing_out": [], "columns": [""] * (len(RESULT_COLUMNS) - 1) + ["；".join(errors)]}
        person = self._result_columns(profile, cells, carried)
        person["id_number"] = card["number18"] if card else None
        return person

    def _result_columns(self, profile, cells, carried):
        results, monthly, questions = brief_results(self.engine, profile)
        codes = [c for c in dict.fromkeys((profile.get("hukou"), profile.get("residence"))) if c in self.engine.by_county]
        if not codes:
            codes = list(self.engine.by_county)
        two = len(codes) > 1
        received, unknown = self.received.match(_cell(cells, carried, "received"), codes)
        text = self._text
        can, later, maybe, missing_out, missed_names, where, also = [], [], [], [], [], [], []
        notes = []
        for r in results:
            status = r["status"]
            if status == "eligible":
                can.append(text("can", r["service"], two, _amount_text(r["amount"])))
                if r["service"] not in received and not r["_s"].get("self_paid"):
                    missing_out.append(r["service"])
                    missed_names.append(text("name", r["service"], two))
                    where.append(text("where", r["service"], two, r["_away"]))
            elif status == "upcoming":
                later.append(text("later", r["service"], two, r["from"], _amount_text(r["amount"])))
            elif status == "maybe":
                maybe.append(text("maybe", r["service"], two, tuple(r["missing"]), tuple(r.get("doubts") or ())))
                if r.get("apply_note"):
                    notes.append(text("apply_note", r["service"], two, r["apply_note"]))
            if r["_s"].get("also"):
                also.append(text("also", r["service"], two))
        if unknown:
            notes.append("已享受中对不上目录的：" + "、".join(unknown))
        if monthly["services"] and "至少" in monthly["text"]:
            notes.append(f"每月合计是最低数（{monthly['text']}）")
        for key in ("hukou", "residence"):
            code = profile.get(key)
            if code and code not in self.engine.by_county:
                notes.append(f"{FIELDS[key][1]} {code} 不在本目录中，只排摸了{'、'.join(self.counties.name(c) for c in codes)}的服务")
        columns = [
            "；".join(missed_names),
            "；".join(where),
            "；".join(also),
            "；".join(can),
            _plain_number(monthly["yuan"]),
            "；".join(maybe),
            text("questions", tuple(questions)),
            "；".join(later),
            "；".join(dict.fromkeys(notes)),
            "",
        ]
        return {"error": False, "missing_out": missing_out, "columns": columns, "profile": profile}

    def _text(self, *key):
        """The texts of the result columns, built once per distinct key (a batch repeats them a lot)."""
        hit = self._texts.get(key)
        if hit is None:
            hit = self._build_text(*key)
            if key[0] != "later" and len(self._texts) < 20000:  # "later" keys hold a date: almost all differ
                self._texts[key] = hit
        return hit

    def _build_text(self, what, *args):
        if what == "questions":
            return "、".join(FIELDS[q][1] for q in args[0])
        sid, two = args[0], args[1]
        s = self.engine.services[sid]["s"]
        name = f"{self.counties.name(s['county'])}·{s['name']}" if two else s["name"]
        if what == "name":
            return name
        if what == "also":
            return f"【{name}】" + "；".join(_also_text(x) for x in s.get("also") or [])
        if what == "also_plain":
            return "；".join(_also_text(x) for x in s.get("also") or [])
        if what == "can":
            return f"{name}（{args[2]}）" if args[2] else name
        if what == "later":
            extra = "，".join(x for x in (f"{args[2]}起" if args[2] else "以后", args[3]) if x)
            return f"{name}（{extra}）"
        if what == "maybe":
            need = "、".join(FIELDS[m][1] for m in args[2])
            parts = ([f"需核实：{need}"] if need else []) + ([f"说不准：{'；'.join(args[3])}"] if len(args) > 3 and args[3] else [])
            return f"{name}（{'；'.join(parts)}）" if parts else name
        if what == "apply_note":
            return f"【{name}】{args[2]}"
        text = s["where"]  # what == "where"
        if s["apply"] == "automatic" and "不用申请" not in text and "无需申请" not in text:
            text = f"不用申请；{text}"
        if args[2] and s.get("away"):
            text += f"（人户分离：{' '.join(s['away'].split())}）"
        return f"【{name}】{text}"

    def annex1_row(self, sid, cells, carried, person, columns):
        """One 附件1 row (without its 序号) for service `sid`, in the order of the form's columns."""
        p = person["profile"]
        county = self.counties.name(p["hukou"])
        h_town, r_town = _cell(cells, carried, "hukou_town"), _cell(cells, carried, "residence_town")
        age = age_on(p["birth_date"], p["as_of"]) if "birth_date" in p else p.get("age")
        survey = _cell(cells, carried, "survey")
        if not survey:
            parts = [f"{age}周岁"] if age is not None else []
            if p.get("family_planning_special"):
                parts.append("计划生育特殊家庭")
            parts.append(f"户籍{county}{h_town}")
            if p.get("lives_outside_hukou_town"):
                parts.append(f"住在{r_town or '市内另一个镇（街道）'}（人户分离）")
            service = self.engine.services[sid]["s"]
            survey = "，".join(parts) + f"；符合{(service.get('amount') or {}).get('text') or service['name']}条件，未享受"
            also = self._text("also_plain", sid, False)
            if also:
                survey += f"；另需：{also}"
        values = {
            "division": _cell(cells, carried, "division") or (county + h_town if h_town and not h_town.startswith(county) else h_town or county),
            "name": _cell(cells, carried, "name"), "id": _cell(cells, carried, "id"), "survey": survey,
            "reason": _cell(cells, carried, "reason"), "phone": _cell(cells, carried, "phone"),
            "address": _cell(cells, carried, "address"), "note": _cell(cells, carried, "note"),
        }
        return [values.get(_annex_slot(c), "") for c in columns], age


class _Seen:
    """key (a positive int < 2**63) → the first line it was seen on: an open-addressing table in two
    arrays, ~24 bytes a key (a dict of ints takes ~100), so a 1,000,000-row register's two keys a
    person fit in ~50 MB. Keys are exact for ID numbers; name + birth date uses the name's CRC-32
    under the birth date's day number, so two people would need the same birthday and CRC."""

    def __init__(self, size: int = 1 << 12):
        self.keys, self.lines, self.mask, self.used = array("q", bytes(8 * size)), array("i", bytes(4 * size)), size - 1, 0

    def first(self, key: int, line: int):
        keys, mask = self.keys, self.mask
        i = (key ^ (key >> 29)) & mask
        while True:
            k = keys[i]
            if k == key:
                return self.lines[i]
            if k == 0:
                break
            i = (i + 1) & mask
        keys[i] = key
        self.lines[i] = line
        self.used += 1
        if 2 * self.used > mask:
            self._grow()
        return None

    def _grow(self):
        old_keys, old_lines = self.keys, self.lines
        size = 2 * (self.mask + 1)
        self.keys, self.lines = array("q", bytes(8 * size)), array("i", bytes(4 * size))
        self.mask, self.used = size - 1, 0
        for k, n in zip(old_keys, old_lines):
            if k:
                self.first(k, n)


def _also_text(item) -> str:
    if isinstance(item, dict):
        return str(item.get("text") or item.get("label") or item.get("name") or "")
    return str(item)


def _columns_read(mapping):
    """(fields, carried) of a register's column mapping (map_columns): {column: profile field} and
    {carried cell: column}, as Screener.read_row takes them."""
    return ({i: key for i, (kind, key) in mapping.items() if kind == "field"},
            {key: i for i, (kind, key) in mapping.items() if kind == "carried"})


class _Run:
    """One streaming screening: `rows` (a generator), then `summary` and `annex_sections()`."""

    def __init__(self, screener, header_line, header, above, lines, annex1, progress, total, jobs=1):
        self.s = screener
        self.jobs = jobs
        self.header = header
        mapping = map_columns(header)
        self.mapping = mapping
        self.width = len(header)
        self.fields, self.carried = _columns_read(mapping)
        self.out_header = [ROW_COLUMN, *header, *RESULT_COLUMNS]
        self.lines, self.progress, self.total = lines, progress, total
        self.annex1 = annex1
        self.spools: dict = {}  # (service, older?) → (file, csv writer, count)
        self.summary = {"rows": 0, "screened": 0, "errors": 0, "people_missing_out": 0, "duplicates": 0,
                        "total_rows": [], "header_line": header_line,
                        "above_header": [{"line": ln, "text": short_text(t, 60)} for ln, t in above]}
        self.rows = self._rows()

    def _prepared(self):
        """(line, cells fitted to the header, a ready result or None when the row is to be screened)."""
        width = self.width
        blank = [""] * (len(RESULT_COLUMNS) - 1)
        for line, cells in self.lines:
            if not "".join(cells).strip():
                continue
            n = len(cells)
            stray = [c for c in cells[width:] if c.strip()] if n > width else None
            if n != width:
                cells = cells[:width] if n > width else cells + [""] * (width - n)
            if stray:
                shown = "、".join(f"“{short_text(c.strip(), 20)}”" for c in stray[:5]) + ("……" if len(stray) > 5 else "")
                yield line, cells, {"error": True, "missing_out": [], "columns": blank + [
                    f"这一行比表头多出{len(stray)}格：{shown}。多半是某一格里多打了逗号或错了列，请核对后重新排摸"]}
            elif "".join(cells[:4]).lstrip()[:1] in _TOTAL_FIRST and _is_total_row(cells):
                yield line, cells, {"total": True, "columns": blank[:-1] + ["这是合计（小计）行，不是老人，没有排摸", ""]}
            else:
                yield line, cells, None

    def _screened(self):
        """(line, cells, person) in register order; with jobs > 1 the rows are screened by worker
        processes (CPython only), in chunks, at most a few chunks ahead of the output."""
        prepared = self._prepared()
        annex = self.annex1
        if self.jobs <= 1:
            for line, cells, person in prepared:
                yield line, cells, person or _screen_person(self.s, cells, self.fields, self.carried, annex)
            return
        import collections
        import multiprocessing
        ctx = multiprocessing.get_context("fork")
        pool = ctx.Pool(self.jobs, _worker_init, (self.s, self.fields, self.carried, annex))
        try:
            pending = collections.deque()
            while True:
                chunk = list(itertools.islice(prepared, 2000))
                if chunk:
                    todo = [cells for _, cells, person in chunk if person is None]
                    pending.append((chunk, pool.apply_async(_worker_screen, (todo,))))
                if pending and (len(pending) >= 3 * self.jobs or not chunk):
                    done, result = pending.popleft()
                    persons = iter(result.get())
                    for line, cells, person in done:
                        yield line, cells, person or next(persons)
                if not chunk and not pending:
                    break
        finally:
            pool.terminate()

    def _rows(self):
        s, carried = self.s, self.carried
        counts = self.summary
        missing_out: dict = {}
        seen = _Seen()  # ID number, or name + birth date → first line
        step = 250
        n = 0
        for line, cells, person in self._screened():
            n += 1
            columns = person["columns"]
            if person.get("total"):
                counts["total_rows"].append(line)
            elif person["error"]:
                counts["errors"] += 1
            else:
                counts["screened"] += 1
                first = self._duplicate(seen, line, cells, person)
                if first is not None:
                    counts["duplicates"] += 1
                    columns = list(columns)
                    columns[-2] = "；".join(x for x in (f"与第{first[0]}行是同一人（{first[1]}相同）：只算一次，附件1只列一次", columns[-2]) if x)
                else:
                    if person["missing_out"]:
                        counts["people_missing_out"] += 1
                    for sid in person["missing_out"]:
                        missing_out[sid] = missing_out.get(sid, 0) + 1
                    for sid, (row, younger) in person.get("annex", {}).items():
                        self._annex_add(sid, row, younger)
            yield [line, *cells, *columns]
            if self.progress is not None and n % step == 0:
                self.progress(n, max(self.total - self.summary["header_line"], n))
        counts["rows"] = n
        if self.progress is not None:
            self.progress(n, n)
        counts.update({
            "missing_out": dict(sorted(missing_out.items(), key=lambda kv: (-kv[1], kv[0]))),
            "service_names": {sid: s._text("name", sid, True) for sid in sorted(missing_out)},
            "as_of": s.as_of.isoformat(),
            "columns": {self.header[i]: (key if kind == "field" else f"（照抄）{key}") for i, (kind, key) in self.mapping.items()},
            "ignored_columns": [h for i, h in enumerate(self.header) if i not in self.mapping],
        })
        if "received" not in carried:
            counts["note"] = "登记表没有“已享受”列：应享未享列出了所有可以享受的服务"
        if self.annex1:
            counts["annex1_rows"] = sum(n for _, _, n in self.spools.values())
        if not counts["total_rows"]:
            del counts["total_rows"]
        if not counts["above_header"]:
            del counts["above_header"]

    def _duplicate(self, seen, line, cells, person):
        """(first line, what is the same) if this person was already on an earlier row, else None."""
        found = None
        for key, what in person.get("keys", ()):
            first = seen.first(key, line)
            if first is not None and found is None:
                found = (first, what)
        return found

    def _annex_add(self, sid, row, younger):
        key = (sid, younger)
        if key not in self.spools:
            fh = _spool()
            self.spools[key] = [fh, csv.writer(fh), 0]
        spool = self.spools[key]
        spool[1].writerow(row)
        spool[2] += 1

    def annex_sections(self):
        """[(sheet name, head rows, title, rows iterator)]: per service, those the title's age covers,
        then (a second section) the younger ones the service also covers (计划生育特殊家庭 70-79),
        so no one is listed under a title that does not describe them."""
        out = []
        for sid, spec in self.s.annex.items():
            m = re.search(r"(\d+)周岁", spec["title"])
            for younger in (False, True):
                spool = self.spools.get((sid, younger))
                if younger and spool is None:
                    continue
                title = spec["title"]
                if younger:
                    title = (f"不满{m.group(1)}周岁但符合条件的老人（{self.s.engine.services[sid]['s']['name']}；"
                             f"附件1的标题“{spec['title']}”不包括他们，单列在这里）")
                slots = [_annex_slot(c) for c in spec["columns"]]
                number = slots.index("number") if "number" in slots else None
                out.append((spec["title"] if not younger else f"不满{m.group(1)}周岁的老人", spec["columns"], title,
                            _read_spool(spool, number)))
        return out


def _screen_person(screener, cells, fields, carried, annex):
    """One row's result as the batch needs it: error, columns, missing_out, and for the duplicate check
    and 附件1 the ID number, the birth date and the 附件1 rows (plain data, so a worker process can send it)."""
    try:
        person = screener.screen_row(cells, fields, carried)
    except Exception as err:  # never stop the batch: this row says what went wrong
        return {"error": True, "missing_out": [], "columns": [""] * (len(RESULT_COLUMNS) - 1) + [
            f"这一行没法排摸（程序出错：{type(err).__name__}）。请把这一行发给维护人员"]}
    profile = person.pop("profile", None)
    if person["error"]:
        return person
    keys = []  # for the duplicate check: exact for ID numbers; name + birth day + the name's CRC-32
    number = person.pop("id_number", None)
    if number:
        keys.append((int(number[:17]) * 11 + (10 if number[17] == "X" else int(number[17])), "身份证号"))
    name = norm_text(_cell(cells, carried, "name"))
    birth = profile.get("birth_date")
    if name and birth:
        days = (birth if isinstance(birth, _dt.date) else _dt.date.fromisoformat(str(birth))).toordinal()
        keys.append(((1 << 62) | (days << 32) | zlib.crc32(name.encode("utf-8")), "姓名和出生日期"))
    if keys:
        person["keys"] = keys
    if annex:
        rows = {}
        for sid in person["missing_out"]:
            spec = screener.annex.get(sid)
            if spec:
                row, age = screener.annex1_row(sid, cells, carried, {"profile": profile}, spec["columns"])
                m = re.search(r"(\d+)周岁", spec["title"])
                rows[sid] = (row, bool(m and age is not None and age < int(m.group(1))))
        if rows:
            person["annex"] = rows
    return person


_WORKER = None


def _worker_init(screener, fields, carried, annex):
    global _WORKER
    _WORKER = (screener, fields, carried, annex)


def _worker_screen(rows):
    screener, fields, carried, annex = _WORKER
    return [_screen_person(screener, cells, fields, carried, annex) for cells in rows]


def _read_spool(spool, number):
    if spool is None:
        return
    fh = spool[0]
    fh.seek(0)
    for n, row in enumerate(csv.reader(fh), start=1):
        if number is not None:
            row[number] = n
        yield row
    fh.close()


def _plain_number(x):
    """60.0 → 60, so the CSV says 60 (Excel-like), 286.5 stays."""
    return int(x) if isinstance(x, float) and x == int(x) else x


def _cell(cells, carried, key) -> str:
    i = carried.get(key)
    return cells[i].strip() if i is not None and i < len(cells) else ""


def _amount_text(amount) -> str:
    return (amount or {}).get("text") or ""


def _as_of(value) -> _dt.date:
    if value is None:
        return _dt.date.today()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value))
    except ValueError:
        raise ProfileError("--as-of", f"“{short_text(str(value))}”不是日期：请写成 YYYY-MM-DD",
                           f"{str(value)[:40]!r} is not a date (YYYY-MM-DD)") from None


# ---------------------------------------------------------------- files

def screen_stream(source, out_fh, as_of=None, *, name=None, out_format="csv", annex1_fh=None, annex1_format=None,
                  county=None, progress=None, engine=None, jobs=1) -> dict:
    """Screen the register `source` (a path or bytes) into the binary file `out_fh`, row by row, and,
    with `annex1_fh`, write the 附件1 list there. Returns the summary. Raises TableError (with line and
    cell) for a file that cannot be read as a register; bad rows are reported in the output, never raised."""
    table = open_table(source, name)
    screener = Screener(engine, as_of, county)
    if jobs is None:  # big registers on CPython: worker processes screen, this one reads and writes
        jobs = 1
        if table.lines > 50_000 and engine is None and _can_fork():
            jobs = min(4, os.cpu_count() or 1)
    run = screener.stream(table.rows, annex1=annex1_fh is not None, progress=progress, total=table.lines, jobs=jobs)
    # past ~1.3 million rows the result sheet's XML passes 4 GB: zip64 (only then: some readers dislike it)
    write_table_to(out_fh, out_format, [("排摸结果", [run.out_header], run.rows)], large=table.lines > 500_000)
    summary = run.summary
    summary.update(register=str(name or source if not isinstance(source, (bytes, bytearray, memoryview)) else name or "register"),
                   encoding=table.encoding)
    if annex1_fh is not None:
        sections = run.annex_sections()
        fmt = annex1_format or "csv"
        sheets = []
        for i, (sheet, columns, title, rows) in enumerate(sections):
            head = [[title], columns] if (fmt == "xlsx" or i > 0) else [columns]
            sheets.append((sheet, head, rows))
        write_table_to(annex1_fh, fmt, sheets)
        if len(sections) > 1:
            summary["annex1_note"] = ("附件1的标题只写了80周岁：不满80周岁、但也符合条件的计划生育特殊家庭老人"
                                      "单列在名单后面（xlsx 是第二个工作表）")
    return summary


def _can_fork() -> bool:
    try:
        import multiprocessing
        return "fork" in multiprocessing.get_all_start_methods()
    except Exception:  # Pyodide has no processes
        return False


def screen_bytes(data, name="register.csv", as_of=None, *, out_format="csv", annex1_format=None, county=None,
                 progress=None, engine=None) -> dict:
    """The core of screen_file, in memory (the browser worker calls this): register bytes in,
    {"summary", "output": bytes, "annex1": bytes or None} out. Raises TableError for a file that
    cannot be read as a register at all."""
    out = io.BytesIO()
    annex = io.BytesIO() if annex1_format is not None else None
    summary = screen_stream(bytes(data), out, as_of, name=str(name), out_format=out_format, annex1_fh=annex,
                            annex1_format=annex1_format, county=county, progress=progress, engine=engine)
    return {"summary": summary, "output": out.getvalue(), "annex1": annex.getvalue() if annex is not None else None}


# The browser screens registers up to this size (bytes): the page refuses bigger files before it
# starts and says how to split them. About 100,000 elders in each format (a row is ~100 bytes of CSV,
# ~60 of XLSX, ~230 of XLS): 200,000 rows still screen in Pyodide (61 s to XLSX), but their CSV result
# is 760 MB, held two or three times in the tab's memory (BENCHMARKS.md).
BROWSER_LIMIT = {"csv": 10_000_000, "xlsx": 6_000_000, "xls": 24_000_000}  # each about 100,000 elders


def wanted_json(data, options_json: str) -> str:
    """For the browser workers, before screening a register or opening it as the visit list (options
    as screen_json's): [[code, file], …] of the counties its rows need whose entries the shared
    engine has not been given (checker.wanted_json's form; every county's when a row names none).
    A file that cannot be read wants nothing: screening it then says what is wrong."""
    import json
    from . import engine as shared_engine
    try:
        options = json.loads(options_json)
        if hasattr(data, "to_bytes"):  # a JavaScript Uint8Array
            data = data.to_bytes()
        eng = shared_engine()
        table = open_table(bytes(data), str(options.get("name") or "register.csv"))
        codes = Screener(eng, options.get("as_of"), options.get("county")).counties_named(table.rows)
    except (TableError, ProfileError, ValueError, MemoryError):
        return "[]"
    wanted = eng.wanted(None) if codes is None else eng.wanted_codes(codes)
    return json.dumps([[code, eng.briefs[code].get("file")] for code in wanted])


def screen_json(data, options_json: str, progress=None) -> str:
    """For the browser worker: options as JSON ({name, as_of, out_format, annex1_format, county}); returns
    JSON {"ok": true, "summary"} or {"ok": false, "error": {zh, en}}; the files stay in `last_result`."""
    import json
    global last_result
    last_result = None
    try:
        options = json.loads(options_json)
        if hasattr(data, "to_bytes"):  # a JavaScript Uint8Array
            data = data.to_bytes()
        last_result = screen_bytes(data, options.get("name") or "register.csv", options.get("as_of"),
                                   out_format=options.get("out_format") or "xlsx",
                                   annex1_format=options.get("annex1_format"), county=options.get("county"),
                                   progress=progress)
    except (TableError, ProfileError) as err:
        last_result = None
        return json.dumps({"ok": False, "error": {"zh": err.zh, "en": err.en}}, ensure_ascii=False)
    except MemoryError:
        last_result = None
        return json.dumps({"ok": False, "error": {
            "zh": "登记表太大，这台设备的浏览器内存不够。请把登记表拆成几个小文件（例如每个村或每个镇一个文件）分别排摸，"
                  "或者在电脑上用命令行排摸",
            "en": "out of memory: split the register"}}, ensure_ascii=False)
    return json.dumps({"ok": True, "summary": last_result["summary"]}, ensure_ascii=False)


last_result = None


class Outputs:
    """Output files written safely: each goes to a temporary file beside it, created before anything
    is read (so an unwritable path is refused first, with nothing written), and is renamed into place
    only when everything succeeded."""

    def __init__(self, paths):
        self.items = []
        try:
            for path in paths:
                path = os.fspath(path)
                if os.path.isdir(path):
                    raise TableError(f"输出文件 {path} 是一个文件夹", f"output {path} is a directory")
                folder = os.path.dirname(os.path.abspath(path))
                tmp = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.part")
                try:
                    fh = open(tmp, "wb")
                except OSError as err:
                    raise TableError(f"无法写入输出文件 {path}：{err.strerror}（文件夹不存在或没有写权限）。什么都没有写",
                                     f"cannot write {path}: {err.strerror}; nothing was written") from None
                self.items.append((path, tmp, fh))
        except BaseException:
            self.discard()
            raise

    def __getitem__(self, i):
        return self.items[i][2]

    def commit(self):
        for path, tmp, fh in self.items:
            fh.close()
        for path, tmp, fh in self.items:
            try:
                os.replace(tmp, path)
            except OSError as err:
                self.discard()
                raise TableError(f"无法写入输出文件 {path}：{err.strerror}", f"cannot write {path}: {err.strerror}") from None

    def discard(self):
        for _, tmp, fh in self.items:
            try:
                fh.close()
                os.unlink(tmp)
            except OSError:
                pass


def screen_file(register, output, as_of=None, *, annex1=None, county=None, progress=None, engine=None, jobs=None) -> dict:
    """Screen REGISTER (.csv, .xlsx or .xls) into OUTPUT (.csv or .xlsx by extension), streaming; with
    `annex1`, also write the 附件1 list there. Returns the summary. Raises TableError or ProfileError
    (never anything else for a bad input) with nothing written."""
    as_of = _as_of(as_of)
    if not os.path.isfile(register):
        what = "是一个文件夹，不是登记表文件" if os.path.isdir(register) else "不存在"
        raise TableError(f"登记表 {register} {what}", f"register {register}: not a file")
    outputs = Outputs([output] + ([annex1] if annex1 is not None else []))
    try:
        summary = screen_stream(register, outputs[0], as_of, name=str(register), out_format=table_format(output),
                                annex1_fh=outputs[1] if annex1 is not None else None,
                                annex1_format=table_format(annex1) if annex1 is not None else None,
                                county=county, progress=progress, engine=engine, jobs=jobs)
        outputs.commit()
    except BaseException:
        outputs.discard()
        raise
    summary["output"] = str(output)
    if annex1 is not None:
        summary["annex1"] = str(annex1)
    return summary


TEMPLATE_COLUMNS = ["姓名", "身份证号", "性别", "出生日期", "户籍", "户籍镇（街道）", "常住地", "常住镇（街道）",
                    "实际居住地", "电话", "经济状况", "能力评估", "计划生育特殊家庭", "居住情况", "是否入住养老机构",
                    "残疾等级", "已享受", "备注"]


def template_bytes(fmt: str = "csv") -> bytes:
    """A blank register: the header row only (UTF-8 with BOM for CSV)."""
    return table_bytes(fmt, TEMPLATE_COLUMNS, [], "登记表")


__all__ = ["screen_file", "screen_bytes", "screen_json", "Screener", "brief_results", "map_columns", "parse_cell", "template_bytes",
           "ANNEX1_COLUMNS", "RESULT_COLUMNS", "TEMPLATE_COLUMNS", "HOME_CARE", "TableError", "table_format"]
