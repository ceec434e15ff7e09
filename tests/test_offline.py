"""Offline after one visit, at national scale: once the counties' pages outgrow the precache budget,
each county's pages are cached when one of its pages is visited, and no others (site_build/offline.py)."""
from __future__ import annotations

import json
import re
import shutil

import pytest

import checker
from site_build import offline
from test_checker_browser import PHONE, SITE, SiteServer, Watch, wait_until


def drop_register_tags(site):
    """Take the first build's registering tags out of a copy of site/, so offline.build can run on it again."""
    for page in site.rglob("*.html"):
        page.write_text(re.sub(r'<script src="[./]*assets/offline\.js"[^>]*></script>\n', "",
                               page.read_text(encoding="utf-8")), encoding="utf-8")


def rebuilt_copy(dest, ignore=(), **budgets) -> tuple:
    """A copy of site/ at `dest` (without the files matching `ignore`) whose offline step is run
    again with some of offline.py's budgets changed (restored after); (the copy, what build returned)."""
    if not (SITE / "sw.js").is_file():
        pytest.skip("site/ is not built: run `make site` first")
    shutil.copytree(SITE, dest, ignore=shutil.ignore_patterns(*ignore))
    drop_register_tags(dest)
    kept = {name: getattr(offline, name) for name in budgets}
    for name, value in budgets.items():
        setattr(offline, name, value)
    try:
        return dest, offline.build(dest)
    finally:
        for name, value in kept.items():
            setattr(offline, name, value)


@pytest.fixture(scope="module")
def grouped_site(tmp_path_factory):
    """A copy of site/ whose service worker is rebuilt as if the counties were too many to precache."""
    own, info = rebuilt_copy(tmp_path_factory.mktemp("grouped") / "site", ALL_COUNTIES_BELOW=0)
    assert info["county_groups"] == len(checker.engine().catalogue["counties"])
    return own


def precache_of(site):
    return json.loads(re.search(r"const PRECACHE = (\[.*?\]);", (site / "sw.js").read_text(encoding="utf-8"), re.S).group(1))


def test_todays_counties_are_all_precached_with_the_shell():
    county = checker.engine().catalogue["counties"]["431225"]
    assert county["services"][0]["url"] in precache_of(SITE)


def test_the_checkers_catalogue_goes_with_the_tools_and_handouts_json_stays_online():
    """While the checker's worker fetches every county's catalogue entry at its start (today), the
    entries are in the checker's and screening's groups (出门前下载 keeps them); handouts.json, which no
    page reads, is in no list (15 MB nationally)."""
    sw = (SITE / "sw.js").read_text(encoding="utf-8")
    groups = json.loads(re.search(r"const GROUPS = (\{.*?\});", sw, re.S).group(1))
    config = json.loads((SITE / "assets" / "checker" / "build.json").read_text(encoding="utf-8"))
    assert config["all_at_start"]
    index = json.loads((SITE / "assets" / "checker" / config["catalogue"]).read_text(encoding="utf-8"))["index"]
    entries = {brief["file"] for brief in index.values()}
    assert len(entries) == len(checker.engine().by_county)
    for name in ("checker", "screen"):
        assert entries | {"assets/checker/" + config["catalogue"]} <= set(groups[name]), name
    assert entries <= set(precache_of(SITE))           # with their counties' pages, in the shell today
    listed = set(precache_of(SITE)).union(*groups.values())
    assert "handouts.json" not in listed and (SITE / "handouts.json").is_file()


def test_over_the_budget_county_pages_leave_the_precache_for_their_own_lists(grouped_site):
    precache = precache_of(grouped_site)
    for county in checker.engine().catalogue["counties"].values():
        assert not any(u.startswith(county["url"]) for u in precache)
        listed = json.loads((grouped_site / county["url"] / "offline.json").read_text(encoding="utf-8"))
        assert {s["url"] for s in county["services"]} <= set(listed)
        page = (grouped_site / county["services"][0]["url"] / "index.html").read_text(encoding="utf-8")
        assert f'data-offline-group="county/{county["url"]}"' in page
        # the county's catalogue entry for the checker goes with its pages
        assert any(re.fullmatch(re.escape(county["url"]) + r"checker-[0-9a-f]{12}\.json", u) for u in listed)
    assert "./" in precache and "checker/" in precache and "glossary/" in precache


def test_a_county_page_keeps_its_county_offline_and_no_other(browser, grouped_site):
    counties = checker.engine().catalogue["counties"]
    dongyang, huitong = counties["330783"], counties["431225"]
    srv = SiteServer(grouped_site)
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
    watch = Watch(ctx, srv.url)
    try:
        page = ctx.new_page()
        page.goto(srv.url + dongyang["url"])
        page.wait_for_selector(f"html[data-offline-cached~='county/{dongyang['url']}']", state="attached", timeout=60_000)
        wait_until(page, "async () => !!navigator.serviceWorker.controller")
        keys = page.evaluate("""async () => { const name = (await caches.keys()).find(k => k.startsWith('yanglao-'));
                                  return (await (await caches.open(name)).keys()).map(r => r.url); }""")
        assert not any(huitong["url"] in k for k in keys)
        srv.stop()
        ctx.set_offline(True)
        service = dongyang["services"][-1]
        page.goto(srv.url + service["url"])
        assert service["name"] in page.content()
        page.goto(srv.url + "glossary/")
        assert page.locator("h1").count() >= 1
    finally:
        ctx.close()
        srv.stop()
    assert not watch.foreign


def test_an_unsaved_pdf_offline_says_it_is_not_saved_not_page_not_found(browser, tmp_path):
    """Reliability audit 2026-11-29, 3d: a handout never opened, no network → a plain message."""
    if not (SITE / "sw.js").is_file():
        pytest.skip("site/ is not built: run `make site` first")
    own = tmp_path / "site"
    shutil.copytree(SITE, own, ignore=shutil.ignore_patterns("*.pdf", "pyodide"))
    srv = SiteServer(own)
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
    try:
        county = checker.engine().catalogue["counties"]["330324"]
        page = ctx.new_page()
        page.goto(srv.url + county["url"])
        wait_until(page, """async () => { const r = await navigator.serviceWorker.getRegistration();
                                return !!(r && r.active && navigator.serviceWorker.controller); }""")
        srv.stop()
        ctx.set_offline(True)
        response = page.goto(srv.url + county["url"] + "booklet.pdf")
        text = page.inner_text("body")
        assert "没有存到这部手机上" in text and "PDF" in text and "没有找到这一页" not in text
        assert response.status == 503
        page.goto(srv.url + county["url"])      # the county page itself is still there
        assert county["name"] in page.locator("h1").first.inner_text()
        downloads = []
        page.on("download", lambda d: downloads.append(d))
        page.click("a.mb-download[href$='.pdf']")   # its 下载PDF link says the same beside the link
        note = page.wait_for_selector(".mb-offline-note", timeout=5000)
        assert "没有存到这部手机" in note.inner_text() and note.get_attribute("role") == "status"
        page.wait_for_timeout(500)
        assert downloads == []
    finally:
        ctx.close()
        srv.stop()


# ---------------------------------------------------------------- the search index at national size

def _small_site(root):
    """A site of a few files: the shell, the search page and a search index of two word and two
    document shards (site_build/search.py's layout)."""
    for rel, text in {"index.html": "<html><head></head><body>首页</body></html>",
                      "search/index.html": "<html><head></head><body>搜索</body></html>",
                      "assets/offline.js": "", "search/meta.json": '{"v": 3}', "search/hints.json": "{}",
                      "search/t0.json": "{}", "search/t1.json": "{}", "search/d0.json": "[]",
                      "search/d1.json": "[]"}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_a_small_search_index_is_precached_whole(tmp_path):
    site = _small_site(tmp_path)
    info = offline.build(site)
    assert info["search_on_demand"] == 0
    assert {"search/", "search/meta.json", "search/hints.json", "search/t0.json", "search/t1.json",
            "search/d0.json", "search/d1.json"} <= set(precache_of(site))


def test_over_its_budget_the_search_index_leaves_its_shards_to_the_fetch_handler(tmp_path, monkeypatch):
    site = _small_site(tmp_path)
    monkeypatch.setattr(offline, "ALL_SEARCH_BELOW", 1)
    info = offline.build(site)
    precache = precache_of(site)
    assert info["search_on_demand"] == 4
    assert {"./", "search/", "search/meta.json", "search/hints.json"} <= set(precache)
    assert not [u for u in precache if re.fullmatch(r"search/[td][0-9]+\.json", u)]


def test_todays_search_index_is_precached_whole():
    assert "search/t0.json" in precache_of(SITE) and "search/d0.json" in precache_of(SITE)


def test_a_search_done_online_works_offline_when_its_shards_are_not_precached(browser, tmp_path):
    own, info = rebuilt_copy(tmp_path / "site", ("*.pdf", "pyodide"), ALL_SEARCH_BELOW=0)
    assert info["search_on_demand"] > 0
    assert "search/meta.json" in precache_of(own) and "search/t0.json" not in precache_of(own)
    srv = SiteServer(own)
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
    cached = """async () => { const name = (await caches.keys()).find(k => k.startsWith('yanglao-'));
                  return name ? (await (await caches.open(name)).keys()).map(r => new URL(r.url).pathname) : []; }"""
    try:
        page = ctx.new_page()
        page.goto(srv.url + "search/")
        wait_until(page, """async () => { const r = await navigator.serviceWorker.getRegistration();
                                return !!(r && r.active && navigator.serviceWorker.controller); }""")
        assert not [k for k in page.evaluate(cached) if re.search(r"/search/[td][0-9]+\.json$", k)]
        page.fill("#mb-q", "高龄津贴")
        page.press("#mb-q", "Enter")
        page.wait_for_selector("#mb-results[data-state=done]")
        online = page.inner_text("#mb-results")
        shards = [k for k in page.evaluate(cached) if re.search(r"/search/[td][0-9]+\.json$", k)]
        assert any("/t" in k for k in shards) and any("/d" in k for k in shards)
        srv.stop()
        ctx.set_offline(True)
        page.goto(srv.url + "search/?q=高龄津贴")
        page.wait_for_selector("#mb-results[data-state=done]", timeout=10_000)
        assert page.inner_text("#mb-results") == online and "高龄津贴" in online
    finally:
        ctx.close()
        srv.stop()


# ---------------------------------------------------------------- pages that list every county

def test_a_page_over_the_shell_budget_is_kept_when_opened_not_precached(browser, tmp_path):
    """At national size the province pages, the comparisons and the 人户分离 page list counties
    (0.5–10.5 MB each): over SHELL_PAGE_BELOW such a page leaves the precache and is kept once
    opened; a county's own pages stay with their county. Here the budget is cut to 25 KB so that
    today's 人户分离 page (≈ 30 KB) is over it and the comparisons (≤ 22 KB) not."""
    assert (SITE / "away" / "index.html").stat().st_size > 26_000 > (SITE / "compare" / "tekun" / "index.html").stat().st_size
    own, info = rebuilt_copy(tmp_path / "site", ("*.pdf", "pyodide"), SHELL_PAGE_BELOW=25_000)
    precache = set(precache_of(own))
    pages = {offline.url_of(p.relative_to(own).as_posix()): p.stat().st_size for p in own.rglob("*.html")}
    counties = tuple(c["url"] for c in checker.engine().catalogue["counties"].values())
    left = {u for u in pages if u not in precache and not u.startswith("assets/")}
    assert "away/" in left and info["pages_on_demand"] == len(left)
    assert all(pages[u] >= 25_000 and not u.startswith(counties) for u in left)   # only pages over the budget,
    assert all(size < 25_000 + 2_000 for u, size in pages.items()               # all of them (+ this step's tags)
               if u in precache and not u.startswith(counties))
    assert any(size > 100_000 and u in precache for u, size in pages.items())    # a county's 核对表 stays
    assert {"./", "checker/", "screen/", "compare/tekun/", "glossary/"} <= precache
    srv = SiteServer(own)
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
    try:
        page = ctx.new_page()
        page.goto(srv.url)
        wait_until(page, """async () => { const r = await navigator.serviceWorker.getRegistration();
                                return !!(r && r.active && navigator.serviceWorker.controller); }""")
        page.goto(srv.url + "away/")
        online = page.inner_text("h1")
        srv.stop()
        ctx.set_offline(True)
        page.goto(srv.url + "away/")
        assert page.inner_text("h1") == online and page.locator("[data-offline-not-saved]").count() == 0
        page.goto(srv.url + "compare/tekun/")         # precached, never opened
        assert page.locator("[data-offline-not-saved]").count() == 0 and "特困" in page.inner_text("h1")
    finally:
        ctx.close()
        srv.stop()
