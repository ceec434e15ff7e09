"""出门前下载 (issue 14): one tap on the home page keeps the checker and the screening page on the phone;
then, with the server gone, both work; the home page says how much is stored; 删除离线数据 removes
this site's caches and never the visit list (localStorage)."""
from __future__ import annotations

import json
import re
import shutil

import pytest

from test_checker_browser import PHONE, READY_TIMEOUT, SITE, SiteServer, Watch, fill_profile, wait_ready

VISITS = {"version": 1, "keep_days": 30, "asked": None, "visits": [
    {"id": "v-1", "visited": "2026-11-29", "saved": "2026-11-29T10:00:00Z", "village": "村", "name": "", "note": "",
     "id_number": "", "profile": {"hukou": "330282"}, "source": None, "status": "visited", "summary": "x"}]}
OURS = "async () => (await caches.keys()).filter(n => n.startsWith('yanglao-') || n === 'checker-start-snapshot')"


@pytest.fixture(scope="module")
def site_copy(tmp_path_factory):
    if not (SITE / "sw.js").is_file() or "data-prepare-size" not in (SITE / "index.html").read_text(encoding="utf-8"):
        pytest.skip("site/ is not built with the prepare block: run `make site` first")
    copy = tmp_path_factory.mktemp("prepare") / "site"
    shutil.copytree(SITE, copy, ignore=shutil.ignore_patterns("*.pdf"))
    return copy


def test_prepare_then_offline_checker_and_screening_then_remove(browser, site_copy):
    sw = (site_copy / "sw.js").read_text(encoding="utf-8")
    sizes = json.loads(re.search(r"const SIZES = (\{.*?\});", sw).group(1))
    wire = sum(w for _, w in sizes.values())
    srv = SiteServer(site_copy)
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
    watch = Watch(ctx, srv.url)
    try:
        page = ctx.new_page()
        page.goto(srv.url)
        button = page.locator("[data-prepare-start]")
        button.wait_for(state="visible")
        assert f"约 {wire / 1e6:.1f} MB" in " ".join(button.inner_text().split())
        page.evaluate("visits => localStorage.setItem('yl-visits-v1', JSON.stringify(visits))", VISITS)
        # half-way: the big file is not there (a dropped line) → said plainly; a second tap resumes
        wasm = next(site_copy.glob("assets/pyodide/*/pyodide.asm.wasm"))
        wasm.rename(wasm.with_name("gone"))
        button.click()
        page.wait_for_selector("[data-prepare-state=failed]", timeout=READY_TIMEOUT)
        assert "下载没有完成" in page.inner_text("[data-prepare-status]")
        assert "再点一次" in page.inner_text("[data-prepare-status]")
        wasm.with_name("gone").rename(wasm)
        wasm_path = "/" + wasm.relative_to(site_copy).as_posix()
        before = {e["path"] for e in srv.log} - {wasm_path, "/sw.js"}
        srv.log.clear()
        button.click()
        page.wait_for_selector("[data-prepare-state=done]", timeout=READY_TIMEOUT)
        again = [e["path"] for e in srv.log if e["path"] != "/sw.js"]
        assert wasm_path in again and not before & set(again) and len(again) == len(set(again))
        assert "已下载，可以离线使用" in page.inner_text("[data-prepare-status]")

        srv.stop()
        ctx.set_offline(True)
        checker = ctx.new_page()
        checker.goto(srv.url + "checker/")
        wait_ready(checker)
        fill_profile(checker, {"hukou": "330282", "birth_date": "1940-03-07"})
        checker.wait_for_function("() => document.getElementById('yl-summary').textContent.startsWith('结果（')",
                                  timeout=READY_TIMEOUT)
        assert re.search(r"结果（.*）：.*\d+项", checker.inner_text("#yl-summary"))
        screen = ctx.new_page()
        screen.goto(srv.url + "screen/")
        screen.wait_for_selector("body[data-screen-ready]", timeout=READY_TIMEOUT)

        page.goto(srv.url)
        page.wait_for_selector("[data-prepare-stored]:not([hidden])")
        assert "这部手机上现在存了约" in page.inner_text("[data-prepare-stored]")
        assert int(page.get_attribute("[data-prepare]", "data-prepare-bytes")) > wire
        assert page.locator("[data-prepare-start]").is_hidden()          # prepared: nothing to tap again
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("[data-prepare-remove]")
        page.wait_for_selector("[data-prepare-state=removed]")
        assert page.evaluate(OURS) == []
        assert page.evaluate("JSON.parse(localStorage.getItem('yl-visits-v1'))") == VISITS
        assert page.evaluate("navigator.serviceWorker.getRegistrations().then(r => r.length)") == 0
        assert page.locator("[data-prepare-start]").is_visible()
    finally:
        ctx.close()
        srv.stop()
    assert not watch.foreign
