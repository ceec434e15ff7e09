"""走访 (issue #14): a village cadre's visit list as a register, and a register as a visit list.

A visit is the record the checker page keeps on the device (content/pages/assets/checker/visits.js,
localStorage "yl-visits-v1"; checker/README.md "走访" describes it): the profile the checker answered,
the visit date, the optional village, name, note and 身份证号, and where it came from.

- `export_bytes(visits, fmt)` writes the visits as a register (CSV or XLSX) that `python -m checker
  screen` and the 批量排摸 page read back to the same answers: one row per visit, always (a visit the
  engine refuses gets its row with the reason in 错误), with 走访日期, and the result columns screening
  writes (应享未享, 应享未享去哪里办 …), computed by screening's own code from those very cells.
- `from_register(data, name)` reads a register (what screening reads: CSV, XLSX, XLS) as draft visits:
  one per row screening outputs (rows in = rows out), each with the profile the row says and nothing
  more (unknown stays unknown), the `questions` the answer names, and, for a row screening cannot read,
  screening's own 错误 text.
- `export_json` / `from_register_json`: the same for the browser worker (JSON text in).

Standard library only (CPython 3.11 and Pyodide; on Pyodide the screening page's extra stdlib zip must
be on sys.path first, for csv and xml.etree).
"""
from __future__ import annotations

import io
import json

from .profile import FIELDS, OTHER_COUNTY, ProfileError, parse_profile
from .screen import (CARRIED, HEADERS, RESULT_COLUMNS, ROW_COLUMN, TEMPLATE_COLUMNS, CellError, Screener,
                     norm_text, parse_cell, parse_date_cell, strip_paren)
from .tables import TableError, open_table, write_table_to

# The export's own columns (besides the profile's and the register's)
VISIT_DATE = "走访日期"
VISIT_STATUS = "走访状态"
VILLAGE = "村（社区）"
SOURCE_FILE = "登记表"
SOURCE_LINE = "登记表行号"
AS_OF = FIELDS["as_of"][1]  # 本次查询日期: screening reads it as the row's own day
STATUS_TEXT = {"visited": "已走访", "todo": "未走访（登记表里的）"}
SHEET = "走访登记表"

# Header spellings read as the village (screening itself does not use them)
VILLAGE_HEADERS = {norm_text(h) for h in (VILLAGE, "村", "村（居）", "村居", "村（居）委会", "所在村", "村名", "社区",
                                          "村（社区）名称", "村委会", "所在村（社区）")}
# Columns an export writes that a new export computes again: not kept from an imported register
OWN_COLUMNS = {norm_text(h) for h in (VISIT_STATUS, SOURCE_FILE, SOURCE_LINE, ROW_COLUMN, *RESULT_COLUMNS)}
TOP_LEVEL = {"name": "name", "id": "id_number", "note": "note"}  # carried register columns kept on the visit itself


def _field_headers():
    """{field: header}: the template's spelling where the blank register has one, else FIELDS' label."""
    out = {}
    for h in TEMPLATE_COLUMNS:
        hit = HEADERS.get(norm_text(h))
        if hit and hit[0] == "field":
            out[hit[1]] = h
    for field, (_, label, _) in FIELDS.items():
        out.setdefault(field, label)
    return out


FIELD_HEADERS = _field_headers()
# the fields an export always has a column for: the blank register's (出生日期 makes it a register)
ALWAYS = [f for f in FIELDS if f in {HEADERS[norm_text(h)][1] for h in TEMPLATE_COLUMNS
                                      if HEADERS.get(norm_text(h), ("",))[0] == "field"}]


# ---------------------------------------------------------------- profile value → register cell

class _Spelling:
    """The cell text for a profile value that screening reads back as that same value: the Chinese
    label where it round-trips (低保, 重度失能, 是), else the profile's own code."""

    def __init__(self, screener: Screener):
        self.counties = screener.counties
        self._memo = {}

    def _reads_back(self, field, text, value) -> bool:
        try:
            return parse_cell(field, text, self.counties) == value
        except CellError:
            return False

    def one(self, field, value) -> str:
        key = (field, value)
        hit = self._memo.get(key)
        if hit is None:
            kind, label, values = FIELDS[field]
            candidates = []
            if values is not None and value in values:
                candidates = [values[value], strip_paren(values[value].replace("（", "(").replace("）", ")"))]
            if kind == "county":
                if value == OTHER_COUNTY:
                    candidates = ["其他地方"]
                else:
                    candidates = [self.counties.name(value)]
            candidates.append(str(value))
            test = (lambda t: self._reads_back(field, t, [value])) if kind == "enum_list" else \
                (lambda t: self._reads_back(field, t, value))
            hit = next((c for c in candidates if test(c)), str(value))
            self._memo[key] = hit
        return hit

    def cell(self, field, value) -> str:
        if value is None:
            return ""
        kind = FIELDS[field][0]
        try:
            if kind == "bool" and isinstance(value, bool):
                return "是" if value else "否"
            if kind in ("int", "number") and isinstance(value, (int, float)) and not isinstance(value, bool):
                return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)
            if kind == "enum_list" and isinstance(value, list):
                return "、".join(self.one(field, v) for v in value) if value else "无"
            if kind in ("enum", "county"):
                return self.one(field, value)
        except TypeError:  # an unhashable value: written as it is, screening says what is wrong with it
            pass
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# ---------------------------------------------------------------- export

def _text(value) -> str:
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else str(value)


def _canonical(header: str):
    """A register column kept on a visit → the header an export writes for it (one spelling per
    screening key, so two registers' 电话/联系电话 become one column), or None to leave it out."""
    key = norm_text(header)
    if not key or key in OWN_COLUMNS or key in VILLAGE_HEADERS or key == norm_text(VISIT_DATE):
        return None
    hit = HEADERS.get(key) or HEADERS.get(strip_paren(key))
    if hit is None:
        return str(header).strip()
    kind, name = hit
    if kind == "field" or name in TOP_LEVEL:
        return None
    return CARRIED[name][0]


def _unread(v) -> dict:
    """{field: cell text} of a register row not visited yet: the cells screening could not read (the
    draft's `unread`), written back as they were so the export gives the register's own 错误 again."""
    unread = v.get("unread") if v.get("status") == "todo" else None
    if not isinstance(unread, dict):
        return {}
    return {f: t for f, t in unread.items() if f in FIELDS and f != "as_of" and isinstance(t, str)}


def export_rows(visits, as_of=None, *, engine=None):
    """(header, rows): the visit list as a register with screening's result columns. One row per
    visit, in the given order, whatever is wrong with it."""
    screener = Screener(engine, as_of)
    spell = _Spelling(screener)
    visits = list(visits)
    fields = list(ALWAYS)
    extra = []  # register columns carried on the visits, first seen first
    problems = {}  # visit index → what is wrong with the record itself
    for i, v in enumerate(visits):
        if not isinstance(v, dict):
            problems[i] = "这一条走访记录看不懂（不是一条记录），请重新填写"
            continue
        profile = v.get("profile")
        if profile is not None and not isinstance(profile, dict):
            problems[i] = "这一条走访记录的情况看不懂，请重新填写"
            continue
        for field, value in (profile or {}).items():
            if field in FIELDS and field != "as_of" and value is not None and field not in fields:
                fields.append(field)
        for field in _unread(v):
            if field not in fields:
                fields.append(field)
        cells = v.get("register_cells")
        if isinstance(cells, dict):
            for h in cells:
                c = _canonical(h)
                if c is not None and c not in extra:
                    extra.append(c)
    fields.sort(key=list(FIELDS).index)
    head = [VISIT_DATE, VISIT_STATUS, VILLAGE, CARRIED["name"][0], CARRIED["id"][0], AS_OF]
    head += [FIELD_HEADERS[f] for f in fields]
    head += extra + [CARRIED["note"][0], SOURCE_FILE, SOURCE_LINE]
    rows = []
    for i, v in enumerate(visits):
        if i in problems:
            v = v if isinstance(v, dict) else {}
        profile = v.get("profile") if isinstance(v.get("profile"), dict) else {}
        visited = _text(v.get("visited"))
        status = "todo" if v.get("status") == "todo" else "visited"
        day = _text(profile.get("as_of")) or (visited if status == "visited" else "")
        row = [visited, STATUS_TEXT[status], _text(v.get("village")), _text(v.get("name")), _text(v.get("id_number")), day]
        unread = _unread(v)
        row += [spell.cell(f, profile.get(f)) if profile.get(f) is not None or f not in unread else unread[f] for f in fields]
        cells = v.get("register_cells") if isinstance(v.get("register_cells"), dict) else {}
        kept = {}
        for h, text in cells.items():
            c = _canonical(h)
            if c is not None and _text(text) and c not in kept:
                kept[c] = _text(text)
        row += [kept.get(c, "") for c in extra]
        source = v.get("source") if isinstance(v.get("source"), dict) else {}
        row += [_text(v.get("note")), _text(source.get("register")), _text(source.get("line"))]
        rows.append(row)
    # screening's own code answers the rows: the result columns are what `python -m checker screen` writes
    run = screener.stream([(1, head), *((n, r) for n, r in enumerate(rows, start=2))], total=len(rows) + 1)
    width = len(head)
    out = [r[1:] for r in run.rows]
    assert len(out) == len(rows), "every visit has its row"
    error, hint = width + RESULT_COLUMNS.index("错误"), width + RESULT_COLUMNS.index("提示")
    for i, (v, r) in enumerate(zip(visits, out)):
        if i in problems:
            refused, note = problems[i], ""
        elif r[error]:  # screening could not read the row: its own 错误 text stands
            continue
        else:
            refused, note = _compare(screener, run, r[:width], v.get("profile") or {})
            if v.get("status") == "todo" and isinstance(v.get("error"), str) and v["error"]:
                # a register row screening could not read, not visited yet, whose fault the cells no longer show
                note = "；".join(x for x in (note, f"登记表里这一行原来有错，还没有走访核实：{v['error']}") if x)
        if refused:  # the checker gave no answer for this visit: its row says why, with no result
            r[width:] = [""] * (len(RESULT_COLUMNS) - 1) + [refused]
        elif note:
            r[hint] = "；".join(x for x in (r[hint], note) if x)
    return head + RESULT_COLUMNS, out


def _compare(screener, run, cells, profile):
    """(refused, note): the engine's reason when it refuses the visit's own profile; else a note for 提示
    when the register row says something else (the ID number can add a birth date or sex the visit did
    not have; a value a register cannot say)."""
    raw, _, _ = screener.read_row(cells, run.fields, run.carried)
    try:
        door = parse_profile({"as_of": raw.get("as_of"), **profile}, screener.as_of)
    except ProfileError as err:
        return f"走访时填写的情况有误，没有结果：{err.zh}", ""
    try:
        read = parse_profile(raw, screener.as_of)
    except ProfileError:
        return "", ""
    differ = [FIELDS[f][1] for f in FIELDS if door.get(f) != read.get(f)]
    if not differ:
        return "", ""
    return "", f"这一行的{'、'.join(differ)}与走访时填写的不一样（多半是按身份证号补上的），结果按这一行算"


def export_bytes(visits, fmt: str = "xlsx", as_of=None, *, engine=None) -> bytes:
    """The visits as a register file: fmt "xlsx" or "csv" (UTF-8 with BOM; formula-looking cells get a
    leading ' as screening's own output does). `as_of` is the day for rows that have none of their own
    (a register row not visited yet); default today."""
    if fmt not in ("csv", "xlsx"):
        raise ValueError(f"format must be csv or xlsx, not {fmt!r}")
    header, rows = export_rows(visits, as_of, engine=engine)
    out = io.BytesIO()
    write_table_to(out, fmt, [(SHEET, [header], rows)])
    return out.getvalue()


# ---------------------------------------------------------------- import

def _unneutralise(text: str) -> str:
    """'=… (a formula neutralised by an earlier export) → =…, so an export → import → export keeps one '."""
    return text[1:] if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@") else text


# The browser's visit list lives in localStorage (a few MB): a register longer than this is refused
# before it is all read, with how to split it (the page itself keeps at most 2,000 elders in its list).
BROWSER_MAX_ROWS = 5000


def from_register(data, name: str = "register.csv", as_of=None, *, county=None, engine=None, max_rows=None) -> dict:
    """A register as draft visits: {"register", "rows", "summary"}. Every row screening outputs comes
    back, in order (blank rows are skipped, as screening skips them):
      {"line", "name", "id_number", "village", "note", "visited", "profile", "questions", "error", "hint",
       "total", "result", "register_cells", "source"}
    `profile` holds what the row says (JSON, no `as_of`: the visit's day decides), nothing guessed;
    `questions` the fields the answer asks for, most useful first; `error` screening's 错误 text ("" when
    the row was read; then `profile` holds the cells that could be read); `hint` screening's 提示 (the
    same person twice …); `total` a 合计 row (not a person); `result` the row's result columns;
    `register_cells` the row's other columns (电话, 已享受 …) that an export writes back.
    Raises TableError (zh, en) for a file that is not a register at all, as screening does, and, with
    `max_rows`, for a register with more rows than that (before reading the rest)."""
    table = open_table(bytes(data), str(name))
    screener = Screener(engine, as_of, county)
    run = screener.stream(table.rows, total=table.lines)
    header, width = run.header, run.width
    top, village, visited, kept = {}, None, None, []
    for i, h in enumerate(header):
        key = norm_text(h)
        kind, what = run.mapping.get(i, (None, None))
        if kind == "carried" and what in TOP_LEVEL:
            top[TOP_LEVEL[what]] = i
        elif kind == "field":
            continue
        elif key in VILLAGE_HEADERS and village is None:
            village = i
        elif key == norm_text(VISIT_DATE) and visited is None:
            visited = i
        elif _canonical(h) is not None:
            kept.append(i)
    engine = screener.engine
    rows = []
    for out in run.rows:
        if max_rows is not None and len(rows) >= max_rows:
            raise TableError(f"这个登记表超过 {max_rows} 行，走访名单一次装不下这么多。请按村拆开，每次打开一个村的登记表",
                             f"the register has more than {max_rows} rows: open one village at a time")
        line, cells, columns = out[0], out[1:1 + width], out[1 + width:]
        result = dict(zip(RESULT_COLUMNS, columns))
        cell = lambda i: _unneutralise(cells[i].strip()) if i is not None else ""  # noqa: E731
        raw, _, _ = screener.read_row(cells, run.fields, run.carried)
        raw.pop("as_of", None)
        error = result["错误"]
        questions = []
        if not error:
            try:
                questions = engine.brief(parse_profile(raw, screener.as_of))[2]
            except ProfileError:  # screening read it: cannot happen, but never lose the row
                questions = []
        unread = {}
        if error:  # which cells screening could not read: an export of the row not yet visited writes them back
            for i, field in run.fields.items():
                if field != "as_of":
                    try:
                        parse_cell(field, cells[i], screener.counties)
                    except CellError:
                        unread[field] = cells[i].strip()
        day = cell(visited)
        try:  # 2026-11-23, 2026/11/23, 2026年11月23日, a date cell …, as screening reads dates
            day = parse_date_cell(VISIT_DATE, day) if day else None
        except CellError:
            day = None
        rows.append({
            "line": line, "name": cell(top.get("name")), "id_number": cell(top.get("id_number")),
            "village": cell(village), "note": cell(top.get("note")), "visited": day,
            "profile": raw, "questions": questions, "error": error, "unread": unread, "hint": result["提示"], "total": False,
            "result": result, "register_cells": {str(header[i]).strip(): cell(i) for i in kept if cell(i)},
            "source": {"register": str(name), "line": line},
        })
    totals = set(run.summary.get("total_rows") or ())
    for r in rows:
        if r["line"] in totals:
            r["total"] = True
            r["profile"], r["questions"], r["unread"] = {}, [], {}
    summary = {k: v for k, v in run.summary.items() if k not in ("missing_out", "service_names")}
    summary.update(register=str(name), encoding=table.encoding)
    return {"register": str(name), "rows": rows, "summary": summary}


# ---------------------------------------------------------------- the browser worker

def _bytes(data) -> bytes:
    if hasattr(data, "to_bytes"):  # a JavaScript Uint8Array
        data = data.to_bytes()
    return bytes(data)


def export_json(visits_json: str, options_json: str = "{}") -> bytes:
    """For the browser worker: the visit list as JSON text, options {format: "xlsx"|"csv", as_of};
    returns the file's bytes. Raises ValueError for text that is not a list of visits."""
    options = json.loads(options_json or "{}") or {}
    visits = json.loads(visits_json)
    if isinstance(visits, dict) and isinstance(visits.get("visits"), list):  # the whole stored record
        visits = visits["visits"]
    if not isinstance(visits, list):
        raise ValueError("visits must be a JSON list")
    return export_bytes(visits, options.get("format") or "xlsx", options.get("as_of"))


def from_register_json(data, options_json: str = "{}") -> str:
    """For the browser worker: register bytes, options {name, as_of, county, max_rows (default
    BROWSER_MAX_ROWS; null for no limit)}; returns JSON
    {"ok": true, "register", "rows", "summary"} or {"ok": false, "error": {zh, en}} (a file screening
    cannot read either)."""
    try:
        options = json.loads(options_json or "{}") or {}
        result = from_register(_bytes(data), options.get("name") or "register.csv", options.get("as_of"),
                               county=options.get("county"), max_rows=options.get("max_rows", BROWSER_MAX_ROWS))
    except (TableError, ProfileError) as err:
        return json.dumps({"ok": False, "error": {"zh": err.zh, "en": err.en}}, ensure_ascii=False)
    except MemoryError:
        return json.dumps({"ok": False, "error": {"zh": "登记表太大，这台设备的浏览器内存不够。请把登记表拆成几个小文件（例如每个村一个文件）",
                                                  "en": "out of memory: split the register"}}, ensure_ascii=False)
    return json.dumps({"ok": True, **result}, ensure_ascii=False)


__all__ = ["export_bytes", "export_rows", "export_json", "from_register", "from_register_json",
           "VISIT_DATE", "VISIT_STATUS", "VILLAGE", "SOURCE_FILE", "SOURCE_LINE"]
