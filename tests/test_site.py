"""The built guide site (site/, from `make site`) checked against the catalogue, file by file:
every service has its page with amount, steps and source; comparison tables list every county with
the topic; nothing is loaded from another host; links resolve; pages stay small; the search index
covers every service. Expectations are computed from the catalogue, never hard-coded."""
from __future__ import annotations

import gzip
import html
import json
import re
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest

from checker.catalogue import load_catalogue
from site_build import pages as site_pages
from site_build import search as site_search

CATALOGUE = load_catalogue()
SITE_MODEL = site_pages.Site(CATALOGUE)
COUNTIES = list(CATALOGUE["counties"].values())
SERVICES = [s for c in COUNTIES for s in c["services"]]


def read(site_dir: Path, url: str) -> str:
    path = site_dir / url / "index.html"
    assert path.is_file(), f"no page at /{url}"
    return path.read_text(encoding="utf-8")


def text_of(page_html: str) -> str:
    """The page's visible text, tags removed and entities decoded, for "does it say X" checks."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page_html, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", body))


def article(page_html: str) -> str:
    match = re.search(r'<article class="md-content__inner md-typeset">(.*?)</article>', page_html, re.S)
    assert match, "page has no article"
    return match.group(1)


# ---------------------------------------------------------------- helpers (no build needed)

@pytest.mark.parametrize("target, from_url, expected", [
    ("glossary/", "zhejiang/yongjia/11/", "../../../glossary/"),
    ("glossary/#低保", "zhejiang/yongjia/", "../../glossary/#低保"),
    ("", "zhejiang/yongjia/11/", "../../../"),
    ("zhejiang/yongjia/", "", "zhejiang/yongjia/"),
    ("search/", "search/", "./"),
    ("zhejiang/yongjia/11/", "zhejiang/yongjia/", "11/"),
])
def test_relative_links_are_computed_from_the_page_url(target, from_url, expected):
    assert site_pages.rel_url(target, from_url) == expected


def test_a_glossary_word_is_linked_only_at_its_first_occurrence():
    terms = site_pages.Terms({"低保": {"full": "最低生活保障", "text": "补差额"}, "低保边缘": {"text": "边缘"}}, "../g/")
    out = str(terms("低保和低保边缘家庭；低保老人"))
    assert out.count('href="../g/#低保"') == 1
    assert out.count('href="../g/#低保边缘"') == 1, "the longer word wins where both match"
    assert out.endswith("；低保老人")
    assert [w for w, _ in terms.entries()] == ["低保", "低保边缘"]


def test_page_text_is_escaped():
    terms = site_pages.Terms({}, "g/")
    assert str(terms("<b>1</b>")) == "&lt;b&gt;1&lt;/b&gt;"


def test_age_tiers_and_dates_read_as_plain_chinese():
    assert site_pages.age_range(80, 89) == "80至89周岁"
    assert site_pages.age_range(100, None) == "100周岁以上"
    assert site_pages.date_text("2023-12-28") == "2023年12月28日"
    assert site_pages.date_text(None) == "文件未注明日期"


def test_there_is_a_catalogue_to_build():
    assert COUNTIES, "catalogue/ has no county files"


# ---------------------------------------------------------------- the built pages

@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s["id"])
def test_every_service_has_a_page_with_amount_steps_and_source(site_dir, service):
    county = CATALOGUE["counties"][service["county"]]
    text = text_of(article(read(site_dir, service["url"])))
    assert service["name"] in text
    assert {"automatic": "不用申请", "apply": "需要申请", "unknown": "文件没有写要不要申请"}[service["apply"]] in text
    if service["apply"] != "automatic":
        assert "不用去哪里办" not in text, "a page never says 需要申请 and 不用去哪里办"
    if service["apply"] == "unknown" or service["apply_at"] == "unknown":
        assert site_pages.ask(county) in text, "silence on applying says who to ask"
    for also in service.get("also") or []:
        assert f"另需：{html.unescape(also)}" in text
    if SITE_MODEL.has_readings(service):
        assert "本页的理解" in text or "本页的约定" in text or "本页的推断" in text or "文件前后说法不一" in text \
            or "文件没有写清楚条件" in text, "our readings are marked as ours on the page"
        assert "不是文件原话" in text
    if service.get("amount"):
        assert html.unescape(service["amount"]["text"]) in text
        for label, amount_text in SITE_MODEL.amount_rows(service["amount"]):
            assert label in text and amount_text in text
    for step in service.get("steps") or []:
        assert step in text, f"step missing: {step}"
    for doc in service.get("documents") or []:
        assert doc in text
    assert county["document"]["title"] in text
    assert service["source_text"] in text
    where = SITE_MODEL.source_where(service)
    assert where in text
    assert site_pages.date_text(county["document"]["date"]) in text
    assert f"文件状态：{county['document']['status_text']}" in text, "the page says the document's status"
    if service.get("revised_note"):
        assert service["revised_note"] in text, "a yearly standard says which year it is from"
    for heading in ("这是什么", "谁可以享受", "能得到什么", "要不要申请、怎么申请", "带什么材料", "去哪里办、电话",
                    "原文", "来源和日期"):
        assert heading in text
    if service.get("away"):
        assert "住在外地、人户分离怎么办" in text and service["away"] in text
    for ex in service.get("excludes") or []:
        assert ex["text"] in text
    for note in service.get("notes") or []:
        assert note in text
    assert service["target"] in text


@pytest.mark.parametrize("county", COUNTIES, ids=lambda c: c["code"])
def test_county_page_lists_every_service_by_group_with_phones_and_document(site_dir, county):
    page = read(site_dir, county["url"])
    body = article(page)
    text = text_of(body)
    for s in county["services"]:
        assert f'href="{s["slug"]}/"' in body, f"{s['id']} not linked from the county page"
        assert s["summary"] in text
    groups = [g["name"] for key, g, _ in SITE_MODEL.county_groups(county)]
    positions = [text.find(name) for name in groups]
    assert all(p >= 0 for p in positions) and positions == sorted(positions), "groups out of shared.yaml order"
    for ph in county.get("phones") or []:
        assert ph["number"] in text
    assert county["document"]["title"] in text
    assert (site_pages.date_text(county["document"]["date"]) if county["document"]["date"] else "文件未注明日期") in text
    assert f"文件状态：{county['document']['status_text']}" in text


def test_yongjia_pages_say_their_document_is_a_consultation_draft(site_dir):
    yongjia = CATALOGUE["counties"]["330324"]
    assert yongjia["document"]["status"] == "征求意见稿"
    for url in (yongjia["url"], yongjia["services"][0]["url"]):
        text = text_of(article(read(site_dir, url)))
        assert "征求意见稿" in text and "正式印发的文件可能有改动" in text and "2023年12月28日" in text


@pytest.mark.parametrize("topic", sorted({s["topic"] for s in SERVICES if s.get("topic")}))
def test_each_comparison_table_lists_every_county_with_the_topic(site_dir, topic):
    body = article(read(site_dir, f"compare/{topic}/"))
    rows = re.findall(r'<tr data-county="(\d{6})">(.*?)</tr>', body, re.S)
    expected = [s for s in SERVICES if s.get("topic") == topic]
    assert {code for code, _ in rows} == {s["county"] for s in expected}
    assert len(rows) == len(expected)
    for s in expected:
        assert any(s["name"] in text_of(row) and (not s.get("amount") or s["amount"]["text"] in html.unescape(row))
                   for _, row in rows), f"{s['id']} missing from compare/{topic}/"


def test_home_page_offers_every_county_and_the_checker(site_dir):
    body = article((site_dir / "index.html").read_text(encoding="utf-8"))
    for c in COUNTIES:
        assert f'href="{c["url"]}"' in body
    if (site_dir / "checker" / "index.html").is_file():
        assert 'href="checker/"' in body and "查一查能享受什么" in body


def test_glossary_page_explains_every_word(site_dir):
    body = article(read(site_dir, "glossary/"))
    for word, entry in CATALOGUE["glossary"].items():
        assert f'id="{word}"' in body and html.escape(entry["text"], quote=False) in body


def test_glossary_words_are_explained_where_they_appear(site_dir):
    service = next(s for s in SERVICES if "低保" in s["summary"] + s["target"] + s.get("what", ""))
    body = article(read(site_dir, service["url"]))
    assert 'href="../../../glossary/#低保"' in body
    assert "这页用到的词" in body


def test_away_page_covers_every_service_with_away_rules(site_dir):
    body = article(read(site_dir, "away/"))
    text = text_of(body)
    away = [s for s in SERVICES if s.get("away") or s.get("paid_by")]
    assert away, "the catalogue has no 人户分离 rules"
    for s in away:
        assert s.get("away", "") in text
        assert re.search(rf'href="\.\./{re.escape(s["url"])}"', body), s["id"]
    for s in (s for s in away if s.get("paid_by")):
        assert site_pages.PAID_BY_TEXT[s["paid_by"]] in body


# ---------------------------------------------------------------- nothing from other hosts

LOADS = re.compile(r'<(?:script|img|iframe|source|audio|video|embed)\b[^>]*\bsrc="([^"]+)"|<link\b[^>]*\bhref="([^"]+)"'
                   r'|\bsrcset="([^"]+)"', re.I)
EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.I)


def html_files(site_dir):
    return sorted(site_dir.rglob("*.html"))


def test_no_page_repeats_or_contradicts_whether_to_apply(site_dir):
    """Audit 2026-11-29 (嵊泗): "需要申请。不用去哪里办。" and "不用申请。不用申请，" were printed."""
    bad = []
    for path in [site_dir / "away" / "index.html"] + [site_dir / s["url"] / "index.html" for s in SERVICES]:
        text = text_of(path.read_text(encoding="utf-8"))
        if re.search(r"需要申请。\s*不用去哪里办", text) or re.search(r"不用申请。\s*(不用|无需)申请", text):
            bad.append(str(path.relative_to(site_dir)))
    assert not bad, bad


def test_no_page_loads_anything_from_another_host(site_dir):
    bad = []
    for path in html_files(site_dir):
        for match in LOADS.finditer(path.read_text(encoding="utf-8")):
            url = next(g for g in match.groups() if g)
            if EXTERNAL.match(url.strip()):
                bad.append(f"{path.relative_to(site_dir)}: {url}")
    assert not bad, "\n".join(bad[:20])


def test_no_stylesheet_or_script_of_the_pages_fetches_from_another_host(site_dir):
    referenced = set()
    for path in html_files(site_dir):
        for match in LOADS.finditer(path.read_text(encoding="utf-8")):
            url = next(g for g in match.groups() if g)
            target = (path.parent / urlparse(url).path).resolve()
            if target.suffix in (".css", ".js", ".mjs") and target.is_file():
                referenced.add(target)
    assert any(p.name == "site.css" for p in referenced) and any(p.name == "site.js" for p in referenced)
    bad = []
    for path in referenced:
        code = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".css":
            found = re.findall(r"(?:url\(\s*['\"]?|@import\s+['\"])((?:https?:)?//[^'\")]+)", code)
        else:
            found = re.findall(r"(?:fetch|import|importScripts)\(\s*['\"`]((?:https?:)?//[^'\"`]+)", code)
        bad += [f"{path.name}: {u}" for u in found]
    assert not bad, bad


def test_the_theme_does_not_pull_fonts_or_search_from_elsewhere(site_dir):
    page = read(site_dir, SERVICES[0]["url"])
    assert "fonts.googleapis" not in page and "fonts.gstatic" not in page
    assert "bundle." not in page, "Material's JS bundle is not needed and not loaded"
    assert "search_index.json" not in page and "search/meta.json" not in page and "search.js" not in page


# ---------------------------------------------------------------- links, size, nav pruning

def test_every_internal_link_resolves(site_dir):
    # `python -m site_build --no-pdf` skips the PDFs but keeps their links; `make site` builds them all
    pdfs_built = any(site_dir.rglob("*.pdf"))
    missing = []
    for path in html_files(site_dir):
        if path.name == "404.html":
            continue
        page_url = "http://site/" + str(path.relative_to(site_dir)).replace("index.html", "")
        for href in re.findall(r'\b(?:href|src)="([^"#?]+)(?:[#?][^"]*)?"', path.read_text(encoding="utf-8")):
            if EXTERNAL.match(href) or href.startswith(("tel:", "mailto:", "data:", "javascript:")):
                continue
            if href.endswith(".pdf") and not pdfs_built:
                continue
            target = urlparse(urljoin(page_url, href)).path
            local = site_dir / unquote(target.lstrip("/"))
            if not (local.is_file() or (local / "index.html").is_file()):
                missing.append(f"{path.relative_to(site_dir)} → {href}")
    assert not missing, "\n".join(missing[:20])


def test_a_service_page_carries_only_its_own_county_in_the_nav(site_dir):
    if len(COUNTIES) < 2:
        pytest.skip("needs two counties")
    here, other = COUNTIES[0], COUNTIES[1]
    page = read(site_dir, here["services"][0]["url"])
    foreign = [s["url"] for s in other["services"] if f'{s["url"]}"' in page]
    assert not foreign, f"nav embeds another county's services: {foreign[:3]}"
    assert f'{here["services"][-1]["url"].split("/")[-2]}/"' in page


def first_visit_bytes(site_dir, url):
    """HTML + stylesheets + scripts a first visit to `url` downloads: (raw, gzip -9)."""
    path = site_dir / url / "index.html"
    page = path.read_text(encoding="utf-8")
    files = [path]
    for match in LOADS.finditer(page):
        ref = next(g for g in match.groups() if g)
        target = (path.parent / urlparse(ref).path).resolve()
        if target.suffix in (".css", ".js") and target.is_file():
            files.append(target)
    raw = sum(f.stat().st_size for f in files)
    gz = sum(len(gzip.compress(f.read_bytes(), 9)) for f in files)
    return raw, gz


def test_a_service_page_first_visit_is_under_80_kb_compressed(site_dir):
    sizes = [first_visit_bytes(site_dir, s["url"]) for s in SERVICES]
    worst = max(gz for _, gz in sizes)
    assert worst <= 80 * 1024, f"largest service page first visit: {worst} bytes gzip"


# ---------------------------------------------------------------- search index

def test_search_index_has_every_service_and_finds_gaoling_everywhere(site_dir):
    index = site_search.load_index(site_dir / "search")
    urls = [d[0] for d in index["docs"]]
    for s in SERVICES:
        assert s["url"] in urls
    postings = {urls[p >> 1] for p in index["terms"].get("高龄津贴", [])}
    gaoling = {s["url"] for s in SERVICES if s.get("topic") == "gaoling"}
    assert gaoling <= postings
    assert index["terms"].get("低保") and index["terms"].get("体检")


def test_search_shards_hold_the_words_that_hash_to_them(site_dir):
    meta = json.loads((site_dir / "search" / "meta.json").read_text(encoding="utf-8"))
    for i in range(meta["term_shards"]):
        shard = json.loads((site_dir / "search" / f"t{i}.json").read_text(encoding="utf-8"))
        assert all(site_search.shard_of(w, meta["term_shards"]) == i for w in shard)
        assert len(json.dumps(shard, ensure_ascii=False).encode()) < 4 * site_search.TERM_SHARD_BYTES
    assert max(len(w) for i in range(meta["term_shards"])
               for w in json.loads((site_dir / "search" / f"t{i}.json").read_text(encoding="utf-8"))) == meta["max_len"]


def test_term_hash_matches_the_browsers():
    # values computed with search.js's termHash in Chromium
    assert site_search.term_hash("") == 0
    assert site_search.term_hash("a") == 97
    assert site_search.term_hash("高龄津贴") == ((((0x9AD8 * 31 + 0x9F84) * 31 + 0x6D25) * 31 + 0x8D34) & 0xFFFFFFFF)
