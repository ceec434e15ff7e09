"""走访 end to end, offline (issue 14), in Debian's Chromium with the real Pyodide build: 出门前下载 on the
home page while the server is up; then the server stops and the phone goes offline, and on the checker
a cadre saves three elders, reopens and corrects one, deletes one and exports the visit list as XLSX;
the 批量排摸 page screens that file and gives `python -m checker screen`'s result byte for byte; 打印全部明白卡
gives one card per stored elder and no ID number. The server saw only GETs, and nothing once stopped.
Two Pyodide starts (checker, screening). Build the site first (MB_SITE_DIR=… python -m site_build --no-pdf).
"""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from test_checker_browser import PHONE, READY_TIMEOUT, SiteServer, fill_profile, wait_ready
from test_prepare_browser import site_copy  # noqa: F401  (the fixture: a copy of the built site)
from test_visits_browser import AS_OF, ELDERS, reopen_and_make_mild, save, stored

ROOT = Path(__file__).resolve().parent.parent


def on_fixed_day(page):
    page.clock.set_fixed_time(dt.datetime.fromisoformat(f"{AS_OF}T10:00:00"))
    return page


def test_prepare_then_a_day_of_visits_export_screen_and_print_with_the_server_gone(browser, site_copy, tmp_path):
    srv = SiteServer(site_copy)
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN", accept_downloads=True)
    ctx.add_init_script("window.yanglaoNoPrintDialog = true")
    try:
        home = ctx.new_page()
        home.goto(srv.url)
        home.click("[data-prepare-start]")
        home.wait_for_selector("[data-prepare-state=done]", timeout=READY_TIMEOUT)

        srv.stop()
        seen = len(srv.log)
        ctx.set_offline(True)
        failed = []   # anything the phone asked for and did not get from its own cache
        ctx.on("requestfailed", lambda r: failed.append(r.url))

        # on the checker: save three elders, reopen and correct one, delete one, export XLSX
        page = on_fixed_day(ctx.new_page())
        page.errors = []
        page.on("pageerror", lambda e: page.errors.append(str(e)))
        page.on("dialog", lambda d: d.accept())
        page.goto(srv.url + "checker/")
        page.wait_for_selector("html[data-visits-ready='1']", state="attached")
        wait_ready(page)
        for profile, who in ELDERS:
            fill_profile(page, profile)
            save(page, who)
            page.click("#yl-next")
        assert "3 位" in page.inner_text("#yl-visits-top")
        reopen_and_make_mild(page, "李大爷（东山村）", "1944")
        page.click("#yl-next")
        page.click("#yl-vlist .yl-visit__delete[aria-label$=' 陈奶奶（西岙村）']")
        page.wait_for_function("() => document.querySelectorAll('#yl-vlist > li').length === 2")
        visits = stored(page)
        assert {v["name"]: v["profile"].get("care_level") for v in visits} == {"李大爷": "mild", "王阿婆": "severe"}
        assert "2 位" in page.inner_text("#yl-visits-top")
        with page.expect_download(timeout=READY_TIMEOUT) as download:
            page.click("#yl-export-xlsx")
        export = tmp_path / download.value.suggested_filename
        assert export.suffix == ".xlsx"
        download.value.save_as(export)

        # on the 批量排摸 page, still offline: the exported file screened = the command line's result
        screen = on_fixed_day(ctx.new_page())
        screen.goto(srv.url + "screen/")
        screen.wait_for_selector("body[data-screen-ready]", timeout=READY_TIMEOUT)
        screen.set_input_files("#ys-file", str(export))
        screen.check("input[name=format][value=xlsx]")
        as_of = screen.input_value("#ys-asof")
        assert as_of == AS_OF
        with screen.expect_download(timeout=READY_TIMEOUT) as result:
            screen.click("#ys-start")
        got = Path(result.value.path()).read_bytes()
        cli = tmp_path / "cli.xlsx"
        done = subprocess.run([sys.executable, "-m", "checker", "screen", str(export), "-o", str(cli), "--as-of", as_of],
                              cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert got == cli.read_bytes()
        assert "共 2 行" in screen.inner_text("#ys-summary")

        # back on the checker: every stored elder's 明白卡, and no ID number in any of them
        page.bring_to_front()
        page.click("#yl-print-cards")
        page.wait_for_function("() => document.documentElement.dataset.printReady === 'yl-print-all'")
        cards = page.locator("#yl-print-all > .yl-card")
        assert cards.count() == len(visits) == 2
        text = page.evaluate("document.getElementById('yl-print-all').textContent")
        assert all(f"老人：{v['name']}" in text for v in visits)
        assert not [v["id_number"] for v in visits if v["id_number"] and v["id_number"] in text]
        assert any(v["id_number"] for v in visits)   # there was an ID number to leave out
        assert page.errors == [] and failed == []
    finally:
        ctx.close()
        srv.stop()
    assert not [e for e in srv.log if e["method"] != "GET"]
    assert len(srv.log) == seen, srv.log[seen:]
