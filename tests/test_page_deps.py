"""Page.deps names every county a generated page reads (site_build/hooks.py keys a page by the
hashes of exactly those counties: a county missing from it would leave the page stale after an
edit). Every page is rendered with the counties' data traced (tests/tracing.py)."""
from __future__ import annotations

import copy

import pytest

from checker.catalogue import load_catalogue
from site_build import pages
from tests.tracing import reads, traced_views


def _site(catalogue):
    with traced_views():
        site = pages.Site(catalogue)
    site.checker_src = "checker/index.md"
    return site


def _check(site):
    checked = 0
    for src, page in site.pages.items():
        with reads() as read:
            site.render(src)
        if page.deps is not None:
            assert read <= set(page.deps), f"{src} reads {sorted(read - set(page.deps))}, not in its deps {page.deps}"
            checked += 1
    return checked


def test_every_page_reads_only_its_counties():
    site = _site(load_catalogue())
    assert _check(site) > 100


def test_a_county_excluding_another_countys_service_reads_and_is_read():
    """Two counties joined by an `excludes`: both sides' pages name the other county."""
    catalogue = copy.deepcopy(load_catalogue())
    codes = sorted(catalogue["counties"])
    a, b = catalogue["counties"][codes[0]], catalogue["counties"][codes[1]]
    a["services"][0].setdefault("excludes", []).append({"service": b["services"][0]["id"], "text": "不能同时享受"})
    site = _site(catalogue)
    assert _check(site) > 100
    assert b["code"] in site.pages[f"{a['url']}index.md"].deps
    assert a["code"] in site.pages[f"{b['url']}index.md"].deps


@pytest.mark.parametrize("kind", ["service.html", "county.html", "rules.html"])
def test_a_county_page_changes_with_its_county_only(kind):
    """Changing one county's data changes its pages' county hash, no other county's."""
    catalogue = load_catalogue()
    before = pages.Site(catalogue)
    changed = copy.deepcopy(catalogue)
    code = sorted(changed["counties"])[0]
    changed["counties"][code]["services"][0]["name"] += "（改）"
    after = pages.Site(changed)
    for page in before.pages.values():
        if page.template != kind:
            continue
        same = [before.county_digest(c) == after.county_digest(c) for c in page.deps]
        assert all(same) == (code not in page.deps)
