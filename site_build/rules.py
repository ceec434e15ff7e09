"""The rule sheet (核对表) of a county, generated from the compiled catalogue: what a county official
signs off and what a second reader checks against the document.

For every service, in the catalogue's (= the document's) order: the item number or section and the
name; the document's own words (`target`, `wording`); the machine rule in plain Chinese — every
condition, `any`/`all`/`not` spelled out, each marked as the document's words or as our reading
(convention, inference, at_most, contested with both readings) with its `doubt`; the amount rule
(tiers, by, choose with their conditions, gap, percent …); whether and where to apply; 另需 (`also`);
二选一/不重复享受 (`excludes`, both directions); notes; and the test cases whose `expect` names the
service (tests/cases/<province>/<county>.yaml, and any other case file that names it).

Labels come from the engine (checker.engine.compile_condition), so the sheet says what the checker
checks. Nothing here knows about a particular county.

  sheet(site, county)   the data the templates read (content/templates/rules.html)
  page_src / page_url   the HTML page at /<province>/<county>/rules/ (site_build/pages.py adds it)
  pdf_url, print_job    the PDF beside the booklet (site_build/handouts.py prints it)
"""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import yaml

from checker.engine import PER_TEXT, compile_condition
from checker.profile import FIELDS, OTHER_COUNTY, age_on

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = ROOT / "tests" / "cases"
SLUG = "rules"                     # /<province>/<county>/rules/ and rules.pdf
TITLE = "核对表"
LINK_TEXT = "核对表（给工作人员核对用）"

# How each condition is marked: the document's words, or which kind of reading of ours.
MARKS = {
    "document": "文件原文",
    "law": "法律的规定（文件没写，按下面的法律条文）",
    "convention": "本页的约定（文件没有写）",
    "inference": "本页的推断",
    "at_most": "文件没写清楚条件：最多答“可能”",
    "contested": "文件前后不一：两种读法都符合才答“可以”，只符合一种答“可能”",
}
HEADS = {"all": "以下全部", "any": "以下之一", "not": "不属于", "contested": "两种读法"}
STATUS_TEXT = {"eligible": "可以享受", "maybe": "可能可以", "upcoming": "以后可以", "ineligible": "不符合"}
APPLY_TEXT = {"automatic": "不用申请", "apply": "需要申请", "unknown": "文件没写（要不要申请）"}
APPLY_AT_TEXT = {
    "hukou": "户籍地（户口所在地）", "residence": "常住地（平时住的地方）", "venue": "直接到提供服务的地方",
    "none": "不用去哪里办", "unknown": "文件没写（去哪里办）",
}
PAID_BY_TEXT = {"hukou": "户籍地发放", "residence": "常住地发放", "shared": "户籍地和常住地分担"}


def page_src(county) -> str:
    """The generated page's path in docs_dir; refuses a county whose service slug would clash."""
    clash = [s["id"] for s in county["services"] if s["slug"] == SLUG]
    if clash:
        raise ValueError(f"{county['file']}: service slug {SLUG!r} ({', '.join(clash)}) clashes with the rule sheet page")
    return f"{county['url']}{SLUG}.md"


def page_url(county) -> str:
    return f"{county['url']}{SLUG}/"


def pdf_url(county) -> str:
    return f"{county['url']}{SLUG}.pdf"


# ------------------------------------------------------------------ conditions

def condition_node(cond, catalogue, covered=False, role=None) -> dict:
    """One condition as the sheet shows it.

    label: the engine's label (the catalogue's `label`, else the engine's own wording); machine: for a
    leaf with its own label, the engine's wording of what it checks; head: 以下全部/以下之一/不属于/两种读法
    for a composite; marks: [(kind, text)]; doubt; children. `covered`: inside a node already marked as
    our reading (its children are part of that reading, not marked again)."""
    label = compile_condition(cond, catalogue)[0]
    kind = next((k for k in ("any", "all", "not", "contested") if k in cond), "leaf")
    marks = []
    if cond.get("reading"):
        marks.append(cond["reading"])
    if cond.get("at_most") == "maybe":
        marks.append("at_most")
    if kind == "contested":
        marks.append("contested")
    if not marks and not covered and kind == "leaf":
        marks.append("law" if cond.get("law") else "document")
    node = {"label": label, "kind": kind, "head": HEADS.get(kind), "role": role,
            "marks": [(m, MARKS[m]) for m in marks], "reading": any(m not in ("document", "law") for m in marks),
            "doubt": cond.get("doubt"), "note": cond.get("note"), "source": cond.get("source"), "law": cond.get("law"),
            "machine": None, "children": []}
    if kind == "leaf":
        if "label" in cond:
            machine = compile_condition({k: v for k, v in cond.items() if k != "label"}, catalogue)[0]
            if machine != label:
                node["machine"] = machine
        if cond.get("age", {}).get("month_start"):
            node["month_start"] = True
    inner_covered = covered or node["reading"]
    if kind == "not":
        node["children"] = [condition_node(cond["not"], catalogue, inner_covered)]
    elif kind == "contested":
        node["children"] = [condition_node(c, catalogue, True, role=f"读法{'一二'[i]}")
                            for i, c in enumerate(cond["contested"])]
    elif kind in ("any", "all"):
        node["children"] = [condition_node(c, catalogue, inner_covered) for c in cond[kind]]
    node["custom_label"] = "label" in cond
    return node


def walk(nodes):
    for n in nodes:
        yield n
        yield from walk(n["children"])


# ------------------------------------------------------------------ amounts

def _money(x) -> str:
    return f"{x:g}" if isinstance(x, (int, float)) else str(x)


def amount_node(amount, catalogue, per=None) -> dict | None:
    """The amount rule: its text, the numbers the checker uses in words, and its tiers / by-cases /
    choose-cases (each case an amount node of its own)."""
    if not amount:
        return None
    per = amount.get("per") or per
    per_text = PER_TEXT.get(per, "")
    facts = []
    if "yuan" in amount:
        if "max_yuan" in amount:
            facts.append(f"{per_text}{_money(amount['yuan'])}元至{_money(amount['max_yuan'])}元")
        else:
            facts.append(f"{per_text}{'不低于' if amount.get('floor') else ''}{_money(amount['yuan'])}元")
    elif "max_yuan" in amount:
        facts.append(f"{per_text}最多{_money(amount['max_yuan'])}元")
    if "gap" in amount:
        facts.append(f"差额：低保标准{_money(amount['gap']['standard'])}元减去家庭人均月收入（{per_text or '每月'}）")
    if "percent" in amount:
        facts.append(f"{amount['base']}的{_money(amount['percent'])}%（文件没写{amount['base']}是多少，程序不算数字）")
    if "multiplier" in amount:
        facts.append(f"{'不低于' if amount.get('floor') else ''}{amount['base']}的{_money(amount['multiplier'])}倍"
                     f"（文件没写{amount['base']}是多少，程序不算数字）")
    if "hours" in amount:
        facts.append(f"{per_text}{_money(amount['hours'])}小时服务")
    if amount.get("in_kind"):
        facts.append("以服务的形式提供，不是现金，不计入每月合计")
    if not facts and per_text and not any(k in amount for k in ("tiers", "by", "choose")):
        facts.append(f"{per_text}（文件没写金额）" if "yuan" not in amount else per_text)
    node = {"text": amount.get("text"), "facts": facts, "note": amount.get("note"),
            "tiers": [], "by": None, "choose": []}
    for t in amount.get("tiers") or []:
        lo, hi = t["min"], t.get("max")
        ages = f"{lo}周岁以上" if hi is None else (f"{lo}周岁" if lo == hi else f"{lo}至{hi}周岁")
        money = f"{per_text}{_money(t['yuan'])}元" if "yuan" in t else "（文件没写金额）"
        node["tiers"].append({"ages": ages, "money": money, "text": t["text"]})
    if amount.get("by"):
        by = amount["by"]
        _, label, values = FIELDS[by["field"]]
        cases = []
        for key in by.get("order") or by["cases"]:     # the document's order of the cases
            case = by["cases"][key]
            if values:
                shown = next((str(v) for k, v in values.items() if str(k) == str(key)), str(key))
            else:
                shown = {"true": "是", "false": "否"}.get(str(key).lower(), str(key))
            cases.append({"value": shown, "amount": amount_node(case, catalogue, per)})
        node["by"] = {"field": label, "cases": cases}
    for case in amount.get("choose") or []:
        rest = {k: v for k, v in case.items() if k != "if"}
        node["choose"].append({"if": condition_node(case["if"], catalogue), "amount": amount_node(rest, catalogue, per)})
    return node


# ------------------------------------------------------------------ test cases

_CASES: dict = {}
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_cases(directory: Path = CASES_DIR):
    """[(relative file, case)] of every case file, and [(file, error)] for files that cannot be read."""
    out, errors = [], []
    for path in sorted(directory.glob("*/*.yaml")):
        rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
        key = (str(path), path.stat().st_mtime_ns)
        if key not in _CASES:
            try:
                data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER) or []
                if not isinstance(data, list):
                    raise ValueError("not a list of cases")
                _CASES[key] = ([c for c in data if isinstance(c, dict) and isinstance(c.get("expect"), dict)], None)
            except (yaml.YAMLError, ValueError, OSError) as err:
                _CASES[key] = ([], str(err).splitlines()[0] if str(err) else type(err).__name__)
                print(f"site_build.rules: cannot read {rel}: {_CASES[key][1]}", file=sys.stderr)
        cases, error = _CASES[key]
        if error:
            errors.append((rel, error))
        out.extend((rel, c) for c in cases)
    return out, errors


def _date(value) -> str:
    try:
        d = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return f"{d.year}年{d.month}月{d.day}日"


def fact_text(name, value, catalogue) -> tuple[str, str]:
    """(label, value) of one profile fact in plain Chinese."""
    if name not in FIELDS:
        return name, str(value)
    kind, label, values = FIELDS[name]
    if value is None:
        return label, "（不知道）"
    if kind == "county":
        if value == OTHER_COUNTY:
            return label, "本目录以外的县"
        county = catalogue["counties"].get(value)
        return label, county["name"] if county is not None else str(value)
    if kind == "bool":
        return label, "是" if value is True else "否" if value is False else str(value)
    if kind == "enum":
        return label, str(values.get(value, value)) if values else str(value)
    if kind == "enum_list":
        items = value if isinstance(value, list) else [value]
        return label, "、".join(str(values.get(v, v)) for v in items) if items else "无"
    if kind == "date":
        return label, _date(value)
    return label, str(value)


def case_view(rel, case, sid, catalogue) -> dict:
    profile = case.get("profile") or {}
    facts = []
    for name, value in profile.items():
        if name == "as_of":
            continue
        label, shown = fact_text(name, value, catalogue)
        if name == "birth_date" and profile.get("as_of"):
            try:
                shown += f"（查询日{age_on(dt.date.fromisoformat(str(value)), dt.date.fromisoformat(str(profile['as_of'])))}周岁）"
            except ValueError:
                pass
        facts.append((label, shown))
    expected = case["expect"][sid] or {}
    status = expected.get("status")
    parts = [STATUS_TEXT.get(status, str(status))]
    if expected.get("from"):
        parts.append(f"{_date(expected['from'])}起")
    if "yuan" in expected:
        parts.append("没有金额数字" if expected["yuan"] is None else f"金额{_money(expected['yuan'])}元")
    if expected.get("missing"):
        parts.append("还要问：" + "、".join(FIELDS[m][1] if m in FIELDS else str(m) for m in expected["missing"]))
    if expected.get("doubt"):
        parts.append("附上理由（为什么只能说“可能”）")
    return {"name": case.get("name", ""), "file": rel, "facts": facts,
            "as_of": _date(profile["as_of"]) if profile.get("as_of") else "测试当天",
            "status": status, "expect": "，".join(parts)}


# ------------------------------------------------------------------ the sheet

def service_view(site, county, s, cases, excluded_by) -> dict:
    catalogue = site.catalogue
    conditions = [condition_node(c, catalogue) for c in s["conditions"]]
    nodes = list(walk(conditions))
    # Both directions, one line per other service, its own text first (as the engine pairs them).
    excludes = {}
    for other_id, text in [(ex["service"], ex["text"]) for ex in s.get("excludes") or []] + \
            [(other["id"], text) for other, text in excluded_by.get(s["id"], [])]:
        if other_id not in excludes:
            other = site.services.get(other_id)
            excludes[other_id] = {"name": other["name"] if other else other_id,
                                  "where": site.source_where(other) if other else "", "text": text}
    excludes = list(excludes.values())
    mine = [case_view(rel, c, s["id"], catalogue) for rel, c in cases if s["id"] in c["expect"]]
    return {
        "s": s, "where": site.source_where(s) or "（文件没有编号）", "conditions": conditions,
        "labels": [n["label"] for n in nodes],
        "readings": [n for n in nodes if n["reading"]],
        "amount": amount_node(s.get("amount"), catalogue),
        "apply": APPLY_TEXT.get(s["apply"], s["apply"]),
        "apply_at": APPLY_AT_TEXT.get(s["apply_at"], s["apply_at"]),
        "paid_by": PAID_BY_TEXT.get(s.get("paid_by")) if s.get("paid_by") else None,
        "excludes": excludes, "cases": mine,
        "statuses": sorted({str(c["status"]) for c in mine},
                           key=lambda x: list(STATUS_TEXT).index(x) if x in STATUS_TEXT else 99),
    }


def sheet(site, county) -> dict:
    """Everything the rule sheet shows for one county (site: a site_build.pages.Site)."""
    cases, errors = load_cases()
    services = [service_view(site, county, s, cases, site.excluded_by) for s in county["services"]]
    files = sorted({c["file"] for v in services for c in v["cases"]})
    return {
        "county": county, "services": services, "case_files": files, "case_errors": errors,
        "ask": county.get("ask"), "recognition": county.get("recognition"),
        "n_readings": sum(len(v["readings"]) for v in services),
        "n_cases": len({(c["file"], c["name"]) for v in services for c in v["cases"]}),
        "without_cases": [v for v in services if not v["cases"]],
        "marks": MARKS, "page_url": page_url(county), "pdf_url": pdf_url(county),
    }


# ------------------------------------------------------------------ the PDF

def print_job(h, county):
    """The handouts job that prints the sheet (site_build/handouts.py): the same body as the page."""
    from markupsafe import Markup

    from .handouts import Job
    body = h.site.render_template("rules.html", page_url(county), county=county, sheet_of=sheet,
                                  province=None, print_mode=True)
    return Job("rules", pdf_url(county), f"{county['name']}{TITLE}", "rules.html",
               {"county": county, "body": Markup(body)})
