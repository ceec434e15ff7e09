"""The built site in Debian's Chromium (Playwright), as a phone (390×844) sees it: search finds every
county's 高龄津贴 and loads its index only when a search starts; no request leaves the site; body
text is large, with enough line height and contrast; nothing scrolls sideways; the 大字 switch
persists from page to page; tap targets are at least 48 px. Expectations come from the catalogue."""
from __future__ import annotations

import json
import re

import pytest

from checker.catalogue import load_catalogue
from site_build import search as site_search

CATALOGUE = load_catalogue()
COUNTIES = list(CATALOGUE["counties"].values())
SERVICES = [s for c in COUNTIES for s in c["services"]]
TOPICS = sorted({s["topic"] for s in SERVICES if s.get("topic")})


def sample_pages():
    """Home, a county, services of several kinds, a comparison, glossary, away, search, about."""
    county = COUNTIES[0]
    with_tiers = next((s for s in SERVICES if (s.get("amount") or {}).get("tiers")), SERVICES[0])
    with_steps = max(SERVICES, key=lambda s: len(s.get("steps") or []))
    longest = max(SERVICES, key=lambda s: len(s["wording"]))
    return ["", county["url"], with_tiers["url"], with_steps["url"], longest["url"],
            f"compare/{TOPICS[0]}/" if TOPICS else "compare/", "compare/", "glossary/", "away/", "search/", "search/?q=高龄津贴",
            "about/", f"{county['province_slug']}/"]


def search(page, base, query):
    page.goto(base + "search/")
    page.fill("#mb-q", query)
    page.click(".mb-search button[type=submit]")
    page.wait_for_selector("#mb-results[data-state=done]")
    while page.locator(".mb-more").count():
        page.click(".mb-more")
        page.wait_for_selector("#mb-results[data-state=done]")
    return [page.evaluate("(a) => decodeURIComponent(new URL(a.href).pathname + new URL(a.href).hash)", a)
            for a in page.query_selector_all("#mb-results ol.mb-results__list a")]


def test_search_for_gaoling_lists_every_countys_gaoling_pages(page, site_server):
    found = search(page, site_server, "高龄津贴")
    expected = {"/" + s["url"] for s in SERVICES if s.get("topic") == "gaoling"}
    assert expected, "no 高龄津贴 in the catalogue"
    assert expected <= set(found), f"missing: {expected - set(found)}"
    # the 高龄 pages come first: they carry the word in their title
    top = [u for u in found[: len(expected) + 2] if u != "/compare/gaoling/" and not u.startswith("/glossary/")]
    assert set(top) <= expected, top


@pytest.mark.parametrize("query, must_find", [
    ("低保", lambda s: "低保" in s["name"] + s["summary"] + s["target"]),
    ("一键报警", lambda s: "一键报警" in s["name"] + s["summary"] + s.get("what", "") + s["wording"]),
    ("体检", lambda s: "体检" in s["name"]),
])
def test_search_finds_common_words(page, site_server, query, must_find):
    expected = {"/" + s["url"] for s in SERVICES if must_find(s)}
    if not expected:
        pytest.skip(f"no service mentions {query}")
    found = set(search(page, site_server, query))
    assert expected <= found, f"{query}: missing {sorted(expected - found)[:5]}"


@pytest.mark.parametrize("query", ["高龄津贴", "低保", "体检", "一键报警", "永嘉 高龄", "80岁", "没有这个词"])
def test_browser_search_matches_the_python_reference(page, site_server, site_dir, query):
    expected, _ = site_search.query(site_dir / "search", query, shown=10**6)
    assert search(page, site_server, query) == ["/" + u for u in expected]


def test_search_index_is_fetched_only_when_a_search_starts_and_only_in_part(page, site_server, site_dir):
    service = SERVICES[0]
    page.goto(site_server + service["url"])
    page.goto(site_server)
    page.goto(site_server + "search/")
    index_files = lambda: [u for u in page.requests if "/search/" in u and u.endswith(".json")]  # noqa: E731
    assert not index_files(), "index loaded before any search"
    search(page, site_server, "高龄")
    fetched = index_files()
    assert site_server + "search/meta.json" in fetched
    assert any(re.search(r"/search/t\d+\.json$", u) for u in fetched)
    shards = json.loads((site_dir / "search" / "meta.json").read_text(encoding="utf-8"))["term_shards"]
    if shards > 3:
        assert sum(bool(re.search(r"/t\d+\.json$", u)) for u in fetched) < shards, "fetched every shard"


def test_search_from_the_home_page_form_opens_results(page, site_server):
    page.goto(site_server)
    page.fill("#mb-q", "高龄津贴")
    page.click(".mb-search button[type=submit]")
    page.wait_for_selector("#mb-results .mb-card")
    assert "/search/" in page.url and "q=" in page.url


def test_no_request_leaves_the_site(page, site_server):
    for url in sample_pages():
        page.goto(site_server + url)
        page.wait_for_load_state("networkidle")
    search(page, site_server, "低保")
    outside = [u for u in page.requests if not u.startswith(site_server) and not u.startswith(("data:", "blob:"))]
    assert not outside, outside
    assert len(page.requests) > len(sample_pages())


@pytest.mark.parametrize("url", sample_pages())
def test_phone_body_text_is_large_and_nothing_scrolls_sideways(page, site_server, url):
    page.goto(site_server + url)
    if "?q=" in url:
        page.wait_for_selector("#mb-results .mb-card")
    metrics = page.evaluate("""() => {
      const ps = [...document.querySelectorAll('.md-content p, .md-content li, .md-content td, .md-content dd')]
        .filter(e => e.offsetParent !== null && e.textContent.trim() && !e.closest('.mb-small, small, .mb-crumbs'));
      return {
        sizes: ps.map(e => parseFloat(getComputedStyle(e).fontSize)),
        heights: ps.map(e => parseFloat(getComputedStyle(e).lineHeight) / parseFloat(getComputedStyle(e).fontSize)),
        scroll: document.documentElement.scrollWidth, width: document.documentElement.clientWidth,
        bodyScroll: document.body.scrollWidth,
      };
    }""")
    assert metrics["sizes"], "no body text found"
    assert min(metrics["sizes"]) >= 18, f"smallest body text {min(metrics['sizes'])} px"
    assert min(metrics["heights"]) >= 1.5
    assert metrics["scroll"] <= metrics["width"] and metrics["bodyScroll"] <= metrics["width"], metrics


def test_dazi_switch_makes_text_24px_and_persists(page, site_server):
    service = SERVICES[0]
    page.goto(site_server + service["url"])
    size = lambda: page.evaluate("parseFloat(getComputedStyle(document.querySelector('.mb-lead')).fontSize)")  # noqa: E731
    body = lambda: page.evaluate("parseFloat(getComputedStyle(document.querySelector('.md-typeset p:not(.mb-lead)')).fontSize)")  # noqa: E731
    assert body() < 24
    button = page.locator("button.mb-dazi-button")
    assert button.is_visible() and button.get_attribute("aria-pressed") == "false"
    button.click()
    assert body() >= 24 and size() >= 24
    assert button.get_attribute("aria-pressed") == "true"
    page.goto(site_server + COUNTIES[-1]["url"])
    assert page.evaluate("document.documentElement.classList.contains('mb-dazi')")
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('.mb-lead')).fontSize)") >= 24
    assert page.locator("button.mb-dazi-button").get_attribute("aria-pressed") == "true"
    page.locator("button.mb-dazi-button").click()
    page.reload()
    assert not page.evaluate("document.documentElement.classList.contains('mb-dazi')")


def test_dazi_pages_still_fit_a_phone(page, site_server):
    page.goto(site_server)
    page.evaluate("localStorage.setItem('mb-dazi', '1')")
    for url in sample_pages():
        page.goto(site_server + url)
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), url


CONTRAST = """(sel) => {
  const lum = c => { const [r, g, b] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map(v => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const bg = e => { for (; e; e = e.parentElement) { const c = getComputedStyle(e).backgroundColor;
      if (!/rgba\\(.*, 0\\)$/.test(c) && c !== 'transparent') return c; } return 'rgb(255, 255, 255)'; };
  return [...document.querySelectorAll(sel)].filter(e => e.offsetParent !== null).map(e => {
    const a = lum(getComputedStyle(e).color), b = lum(bg(e));
    return [(Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05), e.textContent.trim().slice(0, 20)]; });
}"""


def test_text_contrast_is_at_least_7_to_1(page, site_server):
    low = []
    for url in sample_pages()[:5]:
        page.goto(site_server + url)
        for ratio, text in page.evaluate(CONTRAST, ".md-content p, .md-content li, .md-content td, .md-content a, "
                                                   ".mb-badge, .mb-header__btn, .mb-header__title, .md-content h1, .md-content h2"):
            if ratio < 7:
                low.append((url, round(ratio, 2), text))
    assert not low, low[:10]


def test_tap_targets_are_at_least_48px(page, site_server):
    small = []
    for url in ["", COUNTIES[0]["url"], SERVICES[0]["url"], "search/"]:
        page.goto(site_server + url)
        for h, text in page.evaluate("""() => [...document.querySelectorAll(
              '.mb-header__btn, .mb-header__title, .mb-button, .mb-card, .mb-jump a, .mb-crumbs a, .mb-phones__number, .mb-search input')]
            .filter(e => e.offsetParent !== null && !e.hidden)
            .map(e => [e.getBoundingClientRect().height, e.textContent.trim().slice(0, 12)])"""):
            if h < 48:
                small.append((url, h, text))
    assert not small, small[:10]


def test_county_page_at_phone_size_shows_badges_and_tel_links(page, site_server):
    county = next((c for c in COUNTIES if c.get("phones")), COUNTIES[0])
    page.goto(site_server + county["url"])
    badges = page.locator(".mb-card .mb-badge")
    assert badges.count() >= len(county["services"])
    texts = set(badges.all_inner_texts())
    assert texts <= {"不用申请", "需要申请", "文件没写要不要申请"}
    for ph in county.get("phones") or []:
        assert page.locator(f"a[href^='tel:']", has_text=ph["number"]).count()


def test_drawer_nav_opens_without_material_javascript(page, site_server):
    page.goto(site_server + SERVICES[0]["url"])
    nav = page.locator(".md-sidebar--primary")
    box = nav.bounding_box()
    assert box is None or box["x"] + box["width"] <= 1, "drawer should be closed at first"
    page.click("label.mb-header__menu")
    box = page.locator(".md-sidebar--primary").bounding_box()
    assert box and box["x"] >= 0 and box["width"] > 200
    assert page.locator(".md-sidebar--primary a", has_text=SERVICES[0]["name"]).count()
