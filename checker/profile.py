"""The checker's input profile: its fields, their allowed values and Chinese labels, and validation.

This is the contract of checker/README.md. Bad input raises ProfileError naming the field and
what is allowed, in Chinese and English; nothing is guessed.
"""
from __future__ import annotations

import datetime as _dt
import math as _math
import re

# Province-level prefixes of GB/T 2260 (the first two digits of every county code).
PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82".split()
)

# name -> (kind, Chinese label, allowed values {value: Chinese label} or None)
FIELDS: dict[str, tuple[str, str, dict | None]] = {
    "as_of": ("date", "本次查询日期", None),
    "birth_date": ("date", "出生日期", None),
    "age": ("int", "年龄（周岁）", None),
    "sex": ("enum", "性别", {"male": "男", "female": "女"}),
    "hukou": ("county", "户籍所在县（市、区）", None),
    "residence": ("county", "常住地县（市、区）", None),
    "lives_outside_hukou_town": ("bool", "常住镇（街道）与户籍镇（街道）不同", None),
    "months_at_residence": ("int", "在常住地已居住月数", None),
    "fixed_residence": ("bool", "在常住地有固定住所", None),
    "island_relocated": ("bool", "由小岛（离岛）迁居到大岛（本岛）", None),
    "relocated_on": ("date", "迁居日期", None),
    "economic": ("enum", "家庭经济状况", {"none": "非困难", "dibao": "低保", "dibian": "低保边缘（低边）", "tekun": "特困"}),
    "tekun_mode": ("enum", "特困供养方式", {"home": "分散供养（在家）", "institution": "集中供养（机构）"}),
    "per_capita_income": ("number", "家庭人均月收入（元）", None),
    "care_level": ("enum", "能力评估结果", {"intact": "能力完好", "mild": "轻度失能", "moderate": "中度失能", "severe": "重度失能"}),
    "dementia": ("bool", "失智", None),
    "disability_grade": ("enum", "残疾等级", {1: "一级", 2: "二级", 3: "三级", 4: "四级"}),
    "has_disability_card": ("bool", "持有残疾人证", None),
    "disability_type": ("enum", "残疾类别", {
        "physical": "肢体", "visual": "视力", "hearing": "听力", "speech": "言语",
        "intellectual": "智力", "mental": "精神", "multiple": "多重"}),
    "family_planning_special": ("bool", "计划生育特殊家庭", None),
    "living": ("enum", "居住情况", {"alone": "独居", "empty_nest": "空巢", "left_behind": "留守", "with_family": "与家人同住"}),
    "no_supporter": ("bool", "无法定赡养（扶养）人或其无赡养能力", None),
    "military": ("enum_list", "优抚身份", {
        "disabled_soldier": "残疾军人", "veteran": "退役军人", "martyr_family": "三属（烈士、因公牺牲、病故军人遗属）",
        "key_entitled": "重点优抚对象"}),
    "state_pension_for_entitled": ("bool", "享受国家定期抚恤补助", None),
    "rural_veteran_soldier": ("bool", "部分农村籍退役士兵", None),
    "heroic_injury": ("bool", "见义勇为受伤致残", None),
    "employee_pension": ("bool", "参加职工基本养老保险并达到领取条件", None),
    "resident_pension": ("bool", "参加城乡居民基本养老保险并达到领取条件", None),
    "resident_medical": ("bool", "参加城乡居民基本医疗保险", None),
    "in_institution": ("bool", "已入住养老机构", None),
    "homeless": ("bool", "生活无着的流浪、乞讨人员", None),
    "retrofit_done": ("bool", "已做过适老化改造或“无障碍设施进家庭”改造", None),
    "chronic": ("enum_list", "慢性病", {"hypertension": "高血压", "diabetes": "糖尿病"}),
    "child_hukou": ("county", "成年子女户籍所在县（市）", None),
    "lives_with_child_in_town": ("bool", "与城镇户口的成年子女共同居住", None),
    # extensions (checker/README.md): questions worded as the documents ask them
    "barrier_free_done": ("bool", "已开展过“无障碍设施进家庭”改造", None),
    "lives_with_child_in_urban_area": ("bool", "与住在城镇地区的成年子女共同居住", None),
    "only_child_died": ("bool", "独生子女已去世（计划生育特殊家庭中独生子女死亡的）", None),
}

OTHER_COUNTY = "other"

DATE_YEARS = (1800, 2200)
INT_RANGE = {"age": (0, 130), "months_at_residence": (0, 1600)}

KIND_RULE = {
    "date": ("一个存在的日期，格式 YYYY-MM-DD（1800年至2200年）", "an existing date, YYYY-MM-DD (years 1800-2200)"),
    "int": ("不小于 0 的整数（年龄不超过 130）", "a whole number ≥ 0 (an age at most 130)"),
    "int:months_at_residence": ("0 到 1600 之间的整数（月）", "a whole number of months from 0 to 1600"),
    "number": ("不小于 0 的有限数（元/月）", "a finite number ≥ 0 (yuan a month)"),
    "bool": ("true 或 false（是/否）", "true or false"),
    "county": ("6位县级行政区划代码（GB/T 2260），例如 330324；或 other（不在本目录中的县）",
               "a 6-digit GB/T 2260 county code, e.g. 330324, or other (a county outside this catalogue)"),
}


class ProfileError(ValueError):
    """A profile value that is not allowed. `field` names it; the message is Chinese then English."""

    def __init__(self, field: str, zh: str, en: str):
        self.field, self.zh, self.en = field, zh, en
        super().__init__(f"{field}：{zh} / {field}: {en}")


def _allowed(field: str) -> tuple[str, str]:
    kind, _, values = FIELDS[field]
    if values is not None:
        listed = ", ".join(f"{v}（{zh}）" for v, zh in values.items())
        plain = ", ".join(str(v) for v in values)
        if kind == "enum_list":
            return f"以下值组成的列表：{listed}", f"a list of: {plain}"
        return f"以下之一：{listed}", f"one of: {plain}"
    return KIND_RULE.get(f"{kind}:{field}") or KIND_RULE[kind]


def _show(value, limit: int = 80) -> str:
    """The value as the message shows it: its repr, cut short (a 10 MB string, a 5000-digit number
    or a list nested 900 deep must not become the message or crash it)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 3 * limit:
        return "<很长的整数 / a very long whole number>"
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fail(field: str, value, problem_zh: str = "", problem_en: str = ""):
    zh_rule, en_rule = _allowed(field)
    label = FIELDS[field][1]
    shown = _show(value)
    zh = f"{label}的值 {shown} 不可用{problem_zh}。允许：{zh_rule}"
    en = f"{shown} is not allowed{problem_en}; allowed: {en_rule}"
    raise ProfileError(field, zh, en)


def _scalar(value) -> bool:
    """A JSON scalar that can be looked up in a list of allowed values (lists and objects cannot)."""
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def parse_date(field: str, value) -> _dt.date:
    if isinstance(value, _dt.date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        _fail(field, value)
    try:
        day = _dt.date.fromisoformat(value)
    except ValueError:
        _fail(field, value, "（这一天不存在）", " (no such day)")
    if not DATE_YEARS[0] <= day.year <= DATE_YEARS[1]:
        # the answer counts up to 130 years on from these dates: year 9999 would overflow
        _fail(field, value, "（年份不在1800年至2200年之间）", " (year outside 1800-2200)")
    return day


def is_county_code(value) -> bool:
    return (isinstance(value, str) and re.fullmatch(r"\d{6}", value) is not None
            and value[:2] in PROVINCE_PREFIXES and value[4:] != "00")


def parse_profile(raw, today: _dt.date | None = None) -> dict:
    """Check a profile (a dict from JSON) and return a clean copy: dates as date objects,
    `residence` defaulted to `hukou`, unknown (None) fields dropped. Raises ProfileError."""
    if not isinstance(raw, dict):
        raise ProfileError("profile", "查询内容必须是一个 JSON 对象（{…}）", "the profile must be a JSON object")
    clean: dict = {}
    for field, value in raw.items():
        if field not in FIELDS:
            if field.startswith("_") or field in ("name", "note", "姓名", "备注"):
                continue  # free notes are carried by callers, never evaluated
            known = ", ".join(FIELDS)
            field = field if len(field) <= 80 else field[:79] + "…"
            raise ProfileError(field, f"不认识的字段。可用的字段：{known}", f"unknown field; known fields: {known}")
        if value is None:
            continue
        kind, _, values = FIELDS[field]
        if kind == "date":
            clean[field] = parse_date(field, value)
        elif kind == "int":
            low, high = INT_RANGE[field]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                _fail(field, value)
            clean[field] = value
        elif kind == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or not _math.isfinite(value):
                _fail(field, value)
            # 800.0 and 800 are the same JSON number: one form, so CLI and browser print the same
            clean[field] = int(value) if isinstance(value, float) and value.is_integer() else value
        elif kind == "bool":
            if not isinstance(value, bool):
                _fail(field, value)
            clean[field] = value
        elif kind == "county":
            # extension: "other" = a county that is not in this catalogue (the form's 其他地方)
            if value != OTHER_COUNTY and not is_county_code(value):
                _fail(field, value)
            clean[field] = value
        elif kind == "enum":
            if not _scalar(value) or value not in values:
                _fail(field, value)
            clean[field] = next(v for v in values if v == value)  # 1.0 → 1: the listed form
        elif kind == "enum_list":
            if not isinstance(value, list) or any(not _scalar(v) or v not in values for v in value):
                _fail(field, value)
            clean[field] = list(dict.fromkeys(next(v for v in values if v == x) for x in value))
    as_of = clean.get("as_of") or today or _dt.date.today()
    clean["as_of"] = as_of
    birth = clean.get("birth_date")
    if birth is not None:
        if birth > as_of:
            raise ProfileError("birth_date", f"出生日期 {birth.isoformat()} 晚于查询日期 {as_of.isoformat()}，请检查。",
                               f"birth date {birth.isoformat()} is after as_of {as_of.isoformat()}")
        derived = age_on(birth, as_of)
        if derived > 130:
            _fail("birth_date", birth.isoformat(), "（年龄超过130岁）", " (older than 130)")
        if "age" in clean and clean["age"] != derived:
            raise ProfileError("age", f"年龄 {clean['age']} 与出生日期算出的 {derived} 周岁不一致，请只填一个或改正。",
                               f"age {clean['age']} does not match the birth date ({derived} on {as_of.isoformat()})")
    relocated = clean.get("relocated_on")
    if relocated is not None and relocated > as_of:
        raise ProfileError("relocated_on", f"迁居日期 {relocated.isoformat()} 晚于查询日期，请检查。",
                           f"relocated_on {relocated.isoformat()} is after as_of")
    if "residence" not in clean and "hukou" in clean:
        clean["residence"] = clean["hukou"]
    return clean


def age_on(birth: _dt.date, day: _dt.date) -> int:
    """周岁 on `day`: completed years; one reaches N on the Nth birthday (29 Feb → 1 Mar)."""
    years = day.year - birth.year
    if (day.month, day.day) < (birth.month, birth.day):
        years -= 1
    return years


def birthday(birth: _dt.date, years: int) -> _dt.date:
    """The date one reaches `years` 周岁. Born on 29 February: 1 March in common years."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return _dt.date(birth.year + years, 3, 1)
