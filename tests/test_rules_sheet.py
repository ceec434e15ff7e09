"""The rule sheet (核对表) of every county (issue 11, item 3): the page /<province>/<county>/rules/ lists
every service with the document's words, every condition the checker checks (the engine's labels),
each of our readings marked with its reason, the amount rule and the cases that name the service;
it stays out of the elder-facing nav but the county page links to it; the PDF beside the booklet
holds every service name. Expectations come from the catalogue and the case files, never from
today's content; a made-up county checks the shapes no county uses yet (choose, contested …).

The HTML checks render the page as the build does (no build needed); the built files and the PDF
are checked when the site is built (`python -m site_build`; MB_SITE_DIR for another build)."""
from __future__ import annotations

import copy
import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from checker.catalogue import load_catalogue
from checker.engine import compile_condition
from site_build import pages as site_pages
from site_build import rules

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("MB_SITE_DIR") or ROOT / "site")
CATALOGUE = load_catalogue()
SITE_MODEL = site_pages.Site(CATALOGUE)
COUNTIES = sorted(CATALOGUE["counties"].values(), key=lambda c: c["code"])


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def text_of(page_html: str) -> str:
    """Visible text, tags removed, entities decoded, whitespace dropped (glossary links split words)."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page_html, flags=re.S)
    return squash(html.unescape(re.sub(r"<[^>]+>", "", body)))


def sections(page_html: str) -> dict:
    """{service id: visible text of its section}."""
    out = {}
    parts = re.split(r'(?=<section class="rules-item")', page_html)
    for part in parts[1:]:
        sid = re.search(r'data-service="([^"]+)"', part).group(1)
        out[sid] = text_of(part.split('<section class="rules-signoff"')[0])
    return out


def conditions(conds):
    """Every condition node, nested ones too (the `if` of amount cases is checked separately)."""
    for c in conds:
        yield c
        for key in ("any", "all", "contested"):
            yield from conditions(c.get(key, ()))
        if "not" in c:
            yield from conditions([c["not"]])


def shown_label(c, catalogue=CATALOGUE):
    """What the sheet must say for a condition: the engine's label; for a composite without a label of
    its own, the words that spell it out (以下全部/以下之一/不属于/两种读法; its parts are checked one by one)."""
    kind = next((k for k in ("any", "all", "not", "contested") if k in c), None)
    if kind and "label" not in c:
        return rules.HEADS[kind]
    return compile_condition(c, catalogue)[0]


def reading_kinds(c):
    kinds = [c["reading"]] if c.get("reading") else []
    if c.get("at_most") == "maybe":
        kinds.append("at_most")
    if "contested" in c:
        kinds.append("contested")
    return kinds


ALL_CASES = [case for path in sorted((ROOT / "tests" / "cases").glob("*/*.yaml"))
             for case in yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or []]


def cases_naming(sid):
    return [case for case in ALL_CASES if sid in case.get("expect", {})]


def render(site, county) -> str:
    return site.render(rules.page_src(county))


@pytest.fixture(scope="module")
def rendered():
    return {c["code"]: render(SITE_MODEL, c) for c in COUNTIES}


# ---------------------------------------------------------------- the page, rendered as the build does

@pytest.mark.parametrize("county", COUNTIES, ids=lambda c: c["slug"])
def test_every_service_is_listed_in_the_documents_order(rendered, county):
    found = list(sections(rendered[county["code"]]))
    assert found == [s["id"] for s in county["services"]]


@pytest.mark.parametrize("county", COUNTIES, ids=lambda c: c["slug"])
def test_each_service_shows_its_wording_rule_readings_amount_and_cases(rendered, county):
    texts = sections(rendered[county["code"]])
    problems = []
    for s in county["services"]:
        text = texts[s["id"]]

        def need(what, value):
            if squash(value) not in text:
                problems.append(f"{s['id']} {what}: {value[:60]!r}")
        need("name", s["name"])
        need("target", s["target"])
        need("wording", s["wording"])
        need("where", s["where"])
        for c in conditions(s["conditions"]):
            need("condition", shown_label(c))
            if c.get("law") and not reading_kinds(c):
                need("law", c["law"])
            for kind in reading_kinds(c):
                need("reading mark", rules.MARKS[kind])
                need("doubt", c["doubt"])
        for a in s.get("also") or []:
            need("另需", a)
        if s.get("amount"):
            need("amount", s["amount"]["text"])
        for ex in s.get("excludes") or []:
            need("excludes", ex["text"])
        for n in s.get("notes") or []:
            need("note", n)
        for case in cases_naming(s["id"]):
            need("case", case["name"])
        if not cases_naming(s["id"]):
            need("no cases said", "没有用例")
    assert not problems, "\n".join(problems[:20])


@pytest.mark.parametrize("county", COUNTIES, ids=lambda c: c["slug"])
def test_the_documents_words_are_marked_as_such_and_only_unmarked_conditions(rendered, county):
    """A leaf condition outside any reading is 文件原文; a reading never is."""
    sheet = rules.sheet(SITE_MODEL, county)
    for v in sheet["services"]:
        for node in rules.walk(v["conditions"]):
            kinds = [k for k, _ in node["marks"]]
            assert not ("document" in kinds and node["reading"]), (v["s"]["id"], node["label"])
        top_leaves = [n for n in v["conditions"] if n["kind"] == "leaf"]
        for n in top_leaves:
            assert n["marks"], (v["s"]["id"], n["label"], "a top-level condition is the document's or a reading")


def test_the_sheet_is_not_in_the_elder_facing_nav_and_the_county_page_links_to_it():
    nav = repr(SITE_MODEL.nav(set()))
    for county in COUNTIES:
        page = SITE_MODEL.pages[rules.page_src(county)]
        assert page.in_nav is False and rules.page_src(county) not in nav
        county_html = SITE_MODEL.render(f"{county['url']}index.md")
        assert 'href="rules/"' in county_html and rules.LINK_TEXT in county_html


# ---------------------------------------------------------------- shapes no county may use yet

def made_up_catalogue():
    """The real catalogue with one service rewritten to use every shape of the rules model."""
    cat = copy.deepcopy(CATALOGUE)
    county = cat["counties"][COUNTIES[0]["code"]]
    code = county["code"]
    s = county["services"][0]
    s["conditions"] = [
        {"hukou": [code], "reading": "convention", "doubt": "文件没有写要本地户籍，请问12345。"},
        {"contested": [{"age": {"min": 60, "max": 80}}, {"age": {"min": 60}}],
         "label": "年满60周岁（文件两处说法不一）", "doubt": "文件前后不一致，请问12345。"},
        {"any": [{"field": "economic", "in": ["dibao"]},
                 {"field": "military", "in": ["key_entitled"], "at_most": "maybe", "doubt": "文件没写重点优抚对象包括谁。"}]},
        {"not": {"field": "barrier_free_done", "is": True}},
        {"all": [{"age": {"min": 70}}, {"field": "only_child_died", "is": True}], "label": "七十岁以上失独",
         "reading": "inference", "doubt": "本页推断。"},
    ]
    s["amount"] = {"text": "按情况给钱", "per": "month", "choose": [
        {"if": {"field": "economic", "in": ["dibao"]}, "yuan": 300, "text": "每月300元"},
        {"if": {"not": {"field": "in_institution", "is": True}},
         "by": {"field": "in_institution", "cases": {"true": {"yuan": 1, "text": "一元"}, "false": {"text": "按规定"}}},
         "text": "看住哪里"},
        {"if": {"age": {"min": 90}}, "tiers": [{"min": 90, "max": 99, "yuan": 100, "text": "每月100元"},
                                               {"min": 100, "yuan": 200, "text": "每月200元"}], "text": "按年龄"},
        {"if": {"field": "per_capita_income", "max": 800}, "gap": {"standard": 1000}, "text": "补差"},
        {"if": {"field": "care_level", "in": ["severe"]}, "percent": 80, "base": "当地月最低工资标准", "text": "八成"},
    ]}
    s["apply"], s["apply_at"] = "unknown", "unknown"
    s["also"] = ["经经办部门认定"]
    return cat, county, s


def test_a_made_up_service_with_every_shape_is_spelled_out():
    cat, county, s = made_up_catalogue()
    site = site_pages.Site(cat)
    text = sections(render(site, county))[s["id"]]
    for c in conditions(s["conditions"]):
        assert squash(shown_label(c, cat)) in text
    for word in ("以下全部", "以下之一", "不属于", "两种读法", "读法一", "读法二",
                 rules.MARKS["convention"], rules.MARKS["inference"], rules.MARKS["at_most"], rules.MARKS["contested"],
                 "文件没有写要本地户籍", "文件前后不一致", "文件没写重点优抚对象包括谁", "本页推断",
                 "如果", "那么", "每月300元", "每月100元", "90至99周岁", "100周岁以上", "低保标准1000元减去家庭人均月收入",
                 "当地月最低工资标准的80%", "已入住养老机构", "一元", "文件没写（要不要申请）", "文件没写（去哪里办）",
                 "经经办部门认定"):
        assert squash(word) in text, word


# ---------------------------------------------------------------- the built site and the PDF

def built(path: Path) -> Path:
    if not (SITE / "handouts.json").is_file():
        pytest.skip("the site is not built with PDFs (`python -m site_build`)")
    return path


@pytest.mark.parametrize("county", COUNTIES, ids=lambda c: c["slug"])
def test_the_built_page_and_the_pdf_exist_and_hold_every_service(county):
    page = built(SITE / rules.page_url(county) / "index.html")
    assert page.is_file(), f"no page at /{rules.page_url(county)}"
    assert list(sections(page.read_text(encoding="utf-8"))) == [s["id"] for s in county["services"]]
    pdf = SITE / rules.pdf_url(county)
    assert pdf.is_file(), f"no PDF at /{rules.pdf_url(county)}"
    if not shutil.which("pdftotext"):
        pytest.skip("poppler-utils is missing")
    text = squash(subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                                 check=True).stdout)
    missing = [s["name"] for s in county["services"] if squash(s["name"]) not in text]
    assert not missing, missing
    assert "核对人" in text
