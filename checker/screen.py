"""Batch screening (应享未享排摸): a register of elders in, one row per person out with what they can
get, what they get but do not receive yet, and where to apply; plus 慈溪's 附件1 list (seed 004).

Registers are CSV or XLSX (see tables.py) with Chinese headers (出生日期, 性别, 户籍 …, matched
against the labels of profile.FIELDS and the aliases below) or the profile's own field names.
A bad row never stops the batch and is never dropped: it comes back with the reason in 错误.
Standard library only, so the same code runs on CPython and in the browser (Pyodide); XLSX is read
and written by our own small stdlib reader/writer (tables.py says why not openpyxl). The command
line (screen_file) and the browser worker (screen_json) share screen_bytes, so both give the same bytes.
"""
from __future__ import annotations

import datetime as _dt
import re

from .idcard import IdCardError, parse_id
from .profile import FIELDS, ProfileError, age_on, is_county_code, parse_profile
from .tables import TableError, read_table, table_bytes, table_format

HOME_CARE = "330282-home-care"  # 慈溪: 每月3小时免费居家养老服务 (seed 004)
ANNEX1_TITLE = "全市80周岁老年人未享受居家养老服务老人名单"
ANNEX1_COLUMNS = ["序号", "行政区划", "姓名", "身份证", "调查到的情况说明", "未享受原因", "电话", "实际居住地", "备注"]

RESULT_COLUMNS = ["应享未享", "应享未享去哪里办", "可以享受", "每月合计（元）", "可能可以享受（待核实）",
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


def _norm(text: str) -> str:
    """Header/cell text for matching: no spaces, half-width brackets, lower case, no * markers."""
    return _NOISE.sub("", str(text).translate(_WIDTH).strip().lower())


_WIDTH = str.maketrans({"（": "(", "）": ")", "，": ",", "　": " ", "\ufeff": ""})


def _strip_paren(text: str) -> str:
    return re.sub(r"\([^)]*\)$", "", text)


# ---------------------------------------------------------------- headers

def _header_index():
    index = {}
    for key, names in CARRIED.items():
        for n in names:
            index[_norm(n)] = ("carried", key)
    for field, (_, label, _) in FIELDS.items():
        for n in [field, label, *FIELD_ALIASES.get(field, [])]:
            index.setdefault(_norm(n), ("field", field))
    return index


HEADERS = _header_index()


def map_columns(header):
    """{column index: ("field"|"carried", key)}; raises TableError on a column meant twice."""
    mapping, seen = {}, {}
    for i, h in enumerate(header):
        key = _norm(h)
        hit = HEADERS.get(key) or HEADERS.get(_strip_paren(key))
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
            for spelling in (str(value), label, _strip_paren(_norm(label)), *re.findall(r"\(([^)]*)\)", _norm(label))):
                table.setdefault(_norm(spelling), value)
        for spelling, value in VALUE_ALIASES.get(field, {}).items():
            table[_norm(spelling)] = value
        if field == "disability_type":
            for value, label in values.items():
                table[_norm(label + "残疾")] = value
        out[field] = table
    return out


VALUES = _value_index()


def _allowed_text(field: str) -> str:
    kind, _, values = FIELDS[field]
    if values:
        return "、".join(str(v) for v in values.values())
    return {"bool": "是、否", "int": "整数", "number": "数字", "date": "日期，例如 1945-03-07",
            "county": "县（市）名称或6位行政区划代码"}[kind]


_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?|(\d{4})(\d{2})(\d{2})")


def parse_date_cell(label: str, text: str) -> str:
    t = text.strip()
    m = _DATE.fullmatch(t)
    if not m:
        raise CellError(f"{label}“{text}”看不懂：请写成 1945-03-07 这样的日期")
    y, mo, d = (int(g) for g in m.groups() if g is not None)
    try:
        return _dt.date(y, mo, d).isoformat()
    except ValueError:
        raise CellError(f"{label}“{text}”这一天不存在") from None


def parse_cell(field: str, text: str, counties):
    """One register cell → the profile value (None = unknown); raises CellError in Chinese."""
    t = text.strip()
    if t in UNKNOWN_WORDS:
        return None
    kind, label, _ = FIELDS[field]
    if kind == "date":
        return parse_date_cell(label, t)
    if kind == "enum":
        value = VALUES[field].get(t)
        if value is not None:
            return value
    key = _norm(t)
    if key in UNKNOWN_WORDS:
        return None
    if kind == "int":
        m = re.fullmatch(r"(\d+)(?:\.0+)?(?:周?岁|个?月)?", key)
        if not m:
            raise CellError(f"{label}“{text}”不是整数")
        return int(m.group(1))
    if kind == "number":
        m = re.fullmatch(r"(\d+(?:\.\d+)?)元?", key.replace(",", ""))
        if not m:
            raise CellError(f"{label}“{text}”不是数字")
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
            value = table.get(_norm(part))
            if value is None:
                raise CellError(f"{label}“{part}”看不懂：可填 {_allowed_text(field)}（几项用顿号隔开），没有填“无”")
            out.append(value)
        return out
    value = table.get(key)
    if value is None:
        value = table.get(_strip_paren(key))
    if value is None:
        raise CellError(f"{label}“{text}”看不懂：可填 {_allowed_text(field)}，不知道就空着")
    return value


class Counties:
    """County names and codes → code, from the catalogue (永嘉县, 永嘉, 温州市永嘉县, 330324)."""

    def __init__(self, catalogue):
        self.catalogue = catalogue
        self.exact, self.full, self.short = {}, {}, {}
        for code, c in catalogue["counties"].items():
            name = c["name"]
            short = name[:-1] if len(name) > 2 and name[-1] in "县市区" else name
            for spelling in (name, short, c.get("prefecture", "") + name, c.get("province", "") + c.get("prefecture", "") + name):
                self.exact[_norm(spelling)] = code
            self.full[name] = code
            self.short[short] = code
        self.known = "、".join(c["name"] for c in catalogue["counties"].values())
        self._cache = {}

    def resolve(self, label: str, text: str) -> str:
        t = text.strip()
        hit = self._cache.get(t)
        if hit is not None:
            return hit
        key = _norm(t)
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
        c = self.catalogue["counties"].get(code)
        return c["name"] if c else code


# ---------------------------------------------------------------- the engine, briefly

def brief_results(engine, profile: dict):
    """The engine's answer for a parsed profile as a batch needs it (Engine.brief: the services that
    are not ineligible, the monthly total and the questions), with each result's catalogue entry."""
    results, total, questions = engine.brief(profile)
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
        self.topics = {_norm(t["name"]): k for k, t in catalogue.get("topics", {}).items()}
        self._cache = {}

    def match(self, text: str, codes):
        """(set of service ids, [tokens not recognised])."""
        ids, unknown = set(), []
        if not text:
            return ids, unknown
        for token in _RECEIVED_SPLIT.split(text):
            token = token.strip()
            if not token or _norm(token) in NO:
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
        key = _norm(token)
        entries = [e["s"] for c in codes for e in self.engine.by_county.get(c, [])]
        m = re.fullmatch(r"第?(\d+)项?", key)
        if m:
            return {s["id"] for s in entries if s.get("item") == int(m.group(1))}
        names = {s["id"] for s in entries if _norm(s["name"]) == key}
        if names:
            return names
        topic = self.topics.get(key)
        if topic:
            return {s["id"] for s in entries if s.get("topic") == topic}
        if len(key) >= 3:
            return {s["id"] for s in entries if key in _norm(s["name"]) or _norm(s["name"]) in key}
        return set()


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

    def screen(self, header, rows, progress=None, annex1=False):
        """(output header, output rows, 附件1 rows or None, summary)."""
        mapping = map_columns(header)
        if annex1 and HOME_CARE not in self.engine.services:
            raise TableError(f"目录里没有慈溪的居家养老服务（{HOME_CARE}），无法生成附件1",
                             f"the catalogue has no {HOME_CARE}: cannot write 附件1")
        fields = {i: key for i, (kind, key) in mapping.items() if kind == "field"}
        carried = {key: i for i, (kind, key) in mapping.items() if kind == "carried"}
        out_rows, annex_rows = [], ([] if annex1 else None)
        counts = {"rows": len(rows), "screened": 0, "errors": 0, "people_missing_out": 0}
        missing_out: dict = {}
        total = len(rows)
        step = max(1, min(250, total // 40 or 1))
        for n, cells in enumerate(rows):
            person = self.screen_row(cells, fields, carried)
            out_rows.append([n + 2, *cells, *person["columns"]])
            if person["error"]:
                counts["errors"] += 1
            else:
                counts["screened"] += 1
                if person["missing_out"]:
                    counts["people_missing_out"] += 1
                for sid in person["missing_out"]:
                    missing_out[sid] = missing_out.get(sid, 0) + 1
                if annex_rows is not None and HOME_CARE in person["missing_out"]:
                    annex_rows.append(self._annex1_row(len(annex_rows) + 1, cells, carried, person))
            if progress is not None and ((n + 1) % step == 0 or n + 1 == total):
                progress(n + 1, total)
        summary = {
            **counts,
            "missing_out": dict(sorted(missing_out.items(), key=lambda kv: (-kv[1], kv[0]))),
            "service_names": {sid: self._text("name", sid, True) for sid in sorted(missing_out)},
            "as_of": self.as_of.isoformat(),
            "columns": {header[i]: (key if kind == "field" else f"（照抄）{key}") for i, (kind, key) in mapping.items()},
            "ignored_columns": [h for i, h in enumerate(header) if i not in mapping],
        }
        if "received" not in carried:
            summary["note"] = "登记表没有“已享受”列：应享未享列出了所有可以享受的服务"
        if annex_rows is not None:
            summary["annex1_rows"] = len(annex_rows)
        return [ROW_COLUMN, *header, *RESULT_COLUMNS], out_rows, annex_rows, summary

    def screen_row(self, cells, fields, carried):
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
                if FIELDS[field][0] != "date" and len(memo) < 50000:
                    memo[key] = value
            if value.__class__ is CellError:
                errors.append(str(value))
            elif value is not None:
                raw[field] = value
        id_text = _cell(cells, carried, "id")
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
            raw["lives_outside_hukou_town"] = _norm(h_town) != _norm(r_town)
        known = self.engine.by_county
        if not errors and "hukou" in raw and raw["hukou"] not in known and raw.get("residence", raw["hukou"]) not in known:
            errors.append(f"户籍和常住地都不在本目录收录的县（市）中（本目录只收录 {self.counties.known}），无法排摸")
        profile = None
        if not errors:
            try:
                profile = parse_profile(raw, self.as_of)
            except ProfileError as err:
                errors.append(err.zh)
        if errors:
            return {"error": True, "missing_out": [], "columns": [""] * (len(RESULT_COLUMNS) - 1) + ["；".join(errors)]}
        return self._result_columns(profile, cells, carried)

    def _result_columns(self, profile, cells, carried):
        results, monthly, questions = brief_results(self.engine, profile)
        codes = [c for c in dict.fromkeys((profile.get("hukou"), profile.get("residence"))) if c in self.engine.by_county]
        if not codes:
            codes = list(self.engine.by_county)
        two = len(codes) > 1
        received, unknown = self.received.match(_cell(cells, carried, "received"), codes)
        text = self._text
        can, later, maybe, missing_out, missed_names, where = [], [], [], [], [], []
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
                maybe.append(text("maybe", r["service"], two, tuple(r["missing"])))
        notes = []
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
            hit = self._texts[key] = self._build_text(*key)
        return hit

    def _build_text(self, what, *args):
        if what == "questions":
            return "、".join(FIELDS[q][1] for q in args[0])
        sid, two = args[0], args[1]
        s = self.engine.services[sid]["s"]
        name = f"{self.counties.name(s['county'])}·{s['name']}" if two else s["name"]
        if what == "name":
            return name
        if what == "can":
            return f"{name}（{args[2]}）" if args[2] else name
        if what == "later":
            extra = "，".join(x for x in (f"{args[2]}起" if args[2] else "以后", args[3]) if x)
            return f"{name}（{extra}）"
        if what == "maybe":
            need = "、".join(FIELDS[m][1] for m in args[2])
            return f"{name}（需核实：{need}）" if need else name
        text = s["where"]  # what == "where"
        if s["apply"] == "automatic" and "不用申请" not in text and "无需申请" not in text:
            text = f"不用申请；{text}"
        if args[2] and s.get("away"):
            text += f"（人户分离：{' '.join(s['away'].split())}）"
        return f"【{name}】{text}"

    def _annex1_row(self, number, cells, carried, person):
        p = person["profile"]
        county = self.counties.name(p["hukou"])
        h_town, r_town = _cell(cells, carried, "hukou_town"), _cell(cells, carried, "residence_town")
        division = _cell(cells, carried, "division") or (county + h_town if h_town and not h_town.startswith(county) else h_town or county)
        survey = _cell(cells, carried, "survey")
        if not survey:
            age = age_on(p["birth_date"], p["as_of"]) if "birth_date" in p else p.get("age")
            parts = [f"{age}周岁"] if age is not None else []
            if p.get("family_planning_special") and (age is None or age < 80):
                parts.append("计划生育特殊家庭")
            parts.append(f"户籍{county}{h_town}")
            if p.get("lives_outside_hukou_town"):
                parts.append(f"住在{r_town or '市内另一个镇（街道）'}（人户分离）")
            survey = "，".join(parts) + "；符合每月3小时免费居家养老服务条件，未享受"
        return [number, division, _cell(cells, carried, "name"), _cell(cells, carried, "id"), survey,
                _cell(cells, carried, "reason"), _cell(cells, carried, "phone"), _cell(cells, carried, "address"),
                _cell(cells, carried, "note")]


def _plain_number(x):
    """60.0 → 60, so the CSV says 60 (Excel-like), 286.5 stays."""
    return int(x) if isinstance(x, float) and x == int(x) else x


def _cell(cells, carried, key) -> str:
    i = carried.get(key)
    return cells[i].strip() if i is not None and i < len(cells) else ""


def _amount_text(amount) -> str:
    return (amount or {}).get("text") or ""


def _with_amount(name, amount) -> str:
    text = _amount_text(amount)
    return f"{name}（{text}）" if text else name


def _as_of(value) -> _dt.date:
    if value is None:
        return _dt.date.today()
    if isinstance(value, _dt.date):
        return value
    try:
        return _dt.date.fromisoformat(str(value))
    except ValueError:
        raise ProfileError("--as-of", f"“{value}”不是日期：请写成 YYYY-MM-DD", f"{value!r} is not a date (YYYY-MM-DD)") from None


# ---------------------------------------------------------------- files

def screen_bytes(data, name="register.csv", as_of=None, *, out_format="csv", annex1_format=None, county=None,
                 progress=None, engine=None) -> dict:
    """The core of screen_file, in memory (the browser worker calls this): register bytes in,
    {"summary", "output": bytes, "annex1": bytes or None} out. Raises TableError for a file that
    cannot be read as a register at all."""
    header, rows, encoding = read_table(bytes(data), name)
    screener = Screener(engine, as_of, county)
    out_header, out_rows, annex_rows, summary = screener.screen(header, rows, progress, annex1=annex1_format is not None)
    summary.update(register=str(name), encoding=encoding)
    result = {"summary": summary, "output": table_bytes(out_format, out_header, out_rows, "排摸结果"), "annex1": None}
    if annex1_format is not None:
        result["annex1"] = table_bytes(annex1_format, ANNEX1_COLUMNS, annex_rows, ANNEX1_TITLE)
    return result


def screen_json(data, options_json: str, progress=None) -> str:
    """For the browser worker: options as JSON ({name, as_of, out_format, annex1_format, county}); returns
    JSON {"ok": true, "summary"} or {"ok": false, "error": {zh, en}}; the files stay in `last_result`."""
    import json
    global last_result
    options = json.loads(options_json)
    if hasattr(data, "to_bytes"):  # a JavaScript Uint8Array
        data = data.to_bytes()
    try:
        last_result = screen_bytes(data, options.get("name") or "register.csv", options.get("as_of"),
                                   out_format=options.get("out_format") or "xlsx",
                                   annex1_format=options.get("annex1_format"), county=options.get("county"),
                                   progress=progress)
    except (TableError, ProfileError) as err:
        last_result = None
        return json.dumps({"ok": False, "error": {"zh": err.zh, "en": err.en}}, ensure_ascii=False)
    return json.dumps({"ok": True, "summary": last_result["summary"]}, ensure_ascii=False)


last_result = None


def screen_file(register, output, as_of=None, *, annex1=None, county=None, progress=None, engine=None) -> dict:
    """Screen REGISTER (.csv or .xlsx) into OUTPUT (.csv or .xlsx by extension); with `annex1`, also
    write 慈溪's 附件1 list there. Returns the summary. Raises TableError for a file that cannot be read
    at all; bad rows are reported in the output, never raised."""
    try:
        with open(register, "rb") as fh:
            data = fh.read()
    except OSError as err:
        raise TableError(f"无法读取文件 {register}：{err.strerror}", f"cannot read {register}: {err.strerror}") from None
    result = screen_bytes(data, str(register), as_of, out_format=table_format(output),
                          annex1_format=table_format(annex1) if annex1 is not None else None,
                          county=county, progress=progress, engine=engine)
    with open(output, "wb") as fh:
        fh.write(result["output"])
    summary = result["summary"]
    summary["output"] = str(output)
    if annex1 is not None:
        with open(annex1, "wb") as fh:
            fh.write(result["annex1"])
        summary["annex1"] = str(annex1)
    return summary


TEMPLATE_COLUMNS = ["姓名", "身份证号", "性别", "出生日期", "户籍", "户籍镇（街道）", "常住地", "常住镇（街道）",
                    "实际居住地", "电话", "经济状况", "能力评估", "计划生育特殊家庭", "居住情况", "残疾等级",
                    "已享受", "备注"]


def template_bytes(fmt: str = "csv") -> bytes:
    """A blank register: the header row only (UTF-8 with BOM for CSV)."""
    return table_bytes(fmt, TEMPLATE_COLUMNS, [], "登记表")


__all__ = ["screen_file", "screen_bytes", "screen_json", "Screener", "brief_results", "map_columns", "parse_cell", "template_bytes",
           "ANNEX1_COLUMNS", "RESULT_COLUMNS", "TEMPLATE_COLUMNS", "HOME_CARE", "TableError", "table_format"]
