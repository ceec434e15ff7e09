"""走访 (issue 14) on the checker page, in Debian's Chromium with the real Pyodide build: a cadre saves
several elders (keyboard only for one), reopens and corrects one, deletes one, is asked about visits
older than the kept period, prints every 明白卡 (one A4 page per elder, no ID number) and the one-page
走访名单, exports the list, deletes everything; the page always says how many elders are stored; no
request carries what was typed. One page for the whole module (Pyodide starts once); the tests run
in order. Needs a built site (MB_SITE_DIR to test another build).
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from test_checker_browser import fill_profile, wait_answer, wait_ready

AS_OF = "2026-11-23"
PHONE = {"width": 390, "height": 844}
ELDERS = [
    ({"hukou": "330324", "birth_date": "1936-05-04", "economic": "dibao", "care_level": "severe"},
     {"name": "王阿婆", "village": "东山村", "id": "330324193605040028"}),
    ({"hukou": "330324", "birth_date": "1944-02-10", "economic": "none", "care_level": "intact"},
     {"name": "李大爷", "village": "东山村", "id": ""}),
    ({"hukou": "330324", "birth_date": "1931-09-30", "economic": "tekun", "care_level": "moderate"},
     {"name": "陈奶奶", "village": "西岙村", "id": "33032419310930002X"}),
]
# what a request must never carry: every name, village, ID number and birth date typed above
SECRETS = [s for profile, who in ELDERS for s in (who["name"], who["village"], who["id"], profile["birth_date"]) if s]


@pytest.fixture(scope="module")
def cadre(browser, site_server):
    """One phone for the module: a context that records every request (URL and body), the checker open."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN", accept_downloads=True)
    sent = []
    context.on("request", lambda r: sent.append((r.url, r.post_data_buffer or b"")))
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.clock.set_fixed_time(dt.datetime.fromisoformat(f"{AS_OF}T10:00:00"))
    page.add_init_script("window.yanglaoNoPrintDialog = true")
    page.goto(site_server + "checker/")
    page.wait_for_selector("html[data-visits-ready='1']", state="attached")
    wait_ready(page)
    page.sent = sent
    page.on("dialog", lambda d: d.accept())
    yield page
    context.close()


def reopen_and_make_mild(page, label: str, year: str):
    """Reopen a saved elder from the list (the form shows their birth year), correct 能力评估 to 轻度, save again."""
    page.click(f"#yl-vlist .yl-visit__open[aria-label$=' {label}']")
    page.wait_for_function(f"() => document.querySelector('[data-part=year]').value === '{year}'")
    wait_answer(page)
    page.check("input[name=yl-care_level][value=mild]")
    wait_answer(page)
    page.click("#yl-save-open")
    page.click("#yl-v-save")
    page.wait_for_function("() => document.getElementById('yl-saved').textContent.includes('已保存')")


def stored(page) -> list:
    return page.evaluate("JSON.parse(localStorage.getItem('yl-visits-v1') || '{\"visits\": []}').visits")


def save(page, who):
    page.click("#yl-save-open")
    page.fill("#yl-v-name", who["name"])
    page.fill("#yl-v-village", who["village"])
    page.fill("#yl-v-id", who["id"])
    page.click("#yl-v-save")
    page.wait_for_function("() => document.getElementById('yl-saved').textContent.includes('已保存')")


def test_save_several_elders_and_the_count_is_shown(cadre):
    page = cadre
    assert "没有存老人" in page.inner_text("#yl-visits-top")
    for n, (profile, who) in enumerate(ELDERS, 1):
        fill_profile(page, profile)
        save(page, who)
        assert f"共存了 {n} 位" in page.inner_text("#yl-saved")
        assert page.evaluate("document.activeElement.id") == "yl-next"
        page.click("#yl-next")
        assert page.evaluate("document.activeElement.closest('[data-field]')?.dataset.field") == "hukou"
        assert page.input_value("[data-field=hukou] select") == ""
    visits = stored(page)
    assert [v["name"] for v in visits] == ["陈奶奶", "李大爷", "王阿婆"]
    assert all(v["visited"] == AS_OF and v["status"] == "visited" and v["profile"]["hukou"] == "330324" for v in visits)
    assert visits[2]["id_number"] == "330324193605040028"
    assert "3 位" in page.inner_text("#yl-visits-top") and "3 位" in page.inner_text("#yl-visits-count")
    items = page.locator("#yl-vlist > li")
    assert items.count() == 3
    first = items.nth(2).inner_text()
    assert "王阿婆（东山村）" in first and "2026年11月23日" in first and "可以享受" in first
    assert page.errors == []


def test_a_wrong_id_number_is_refused_in_plain_words(cadre):
    page = cadre
    fill_profile(page, ELDERS[1][0])
    page.click("#yl-save-open")
    page.fill("#yl-v-id", "33032419")
    page.click("#yl-v-save")
    assert "18位" in page.inner_text("#yl-v-id-error")
    assert page.evaluate("document.activeElement.id") == "yl-v-id"
    assert len(stored(page)) == 3
    page.click("#yl-v-cancel")
    page.click("#yl-next")


def test_reopen_an_elder_correct_and_save_again(cadre):
    page = cadre
    before = {v["name"]: v for v in stored(page)}["李大爷"]
    page.click("#yl-vlist .yl-visit__open[aria-label$=' 李大爷（东山村）']")
    wait_answer(page)
    page.wait_for_function("() => document.querySelector('[data-part=year]').value === '1944'")
    assert "正在看：李大爷" in page.inner_text("#yl-editing")
    assert page.input_value("[data-field=hukou] select") == "330324"
    page.check("input[name=yl-economic][value=dibao]")
    wait_answer(page)
    assert "更新" in page.inner_text("#yl-save-open")
    page.click("#yl-save-open")
    assert page.input_value("#yl-v-name") == "李大爷"
    page.click("#yl-v-save")
    page.wait_for_function("() => document.getElementById('yl-saved').textContent.includes('已保存')")
    visits = stored(page)
    assert len(visits) == 3
    after = {v["name"]: v for v in visits}["李大爷"]
    assert after["id"] == before["id"] and after["profile"]["economic"] == "dibao"
    assert after["summary"] != before["summary"]
    page.click("#yl-next")


def test_delete_one_elder(cadre):
    page = cadre
    page.click("#yl-vlist button[aria-label='删除 陈奶奶（西岙村）']")
    page.wait_for_function("() => document.querySelectorAll('#yl-vlist > li').length === 2")
    assert [v["name"] for v in stored(page)] == ["李大爷", "王阿婆"]
    assert "2 位" in page.inner_text("#yl-visits-top")
    assert "已删除" in page.inner_text("#yl-visits-said")


def test_old_visits_are_asked_about_before_they_are_kept(cadre):
    page = cadre
    assert page.is_hidden("#yl-expiry")
    # 王阿婆 saved 40 days ago; the kept period of 30 days then asks about her only
    page.evaluate("""() => {
        const s = JSON.parse(localStorage.getItem('yl-visits-v1'));
        s.visits.find(v => v.name === '王阿婆').saved = '2026-10-14T09:00:00.000Z';
        localStorage.setItem('yl-visits-v1', JSON.stringify(s));
    }""")
    page.select_option("#yl-keep", "90")
    assert page.is_hidden("#yl-expiry")
    page.select_option("#yl-keep", "30")
    page.wait_for_selector("#yl-expiry:not([hidden])")
    text = page.inner_text("#yl-expiry")
    assert "1 位" in text and "王阿婆" in text and "30 天" in text and "李大爷" not in text
    page.click("#yl-expiry-keep")
    assert page.is_hidden("#yl-expiry") and len(stored(page)) == 2
    assert page.evaluate("JSON.parse(localStorage.getItem('yl-visits-v1')).asked") == AS_OF
    # a shorter period: 李大爷 is not old enough for 7 days either; asked today, not asked again today
    page.select_option("#yl-keep", "7")
    assert page.is_hidden("#yl-expiry")


def print_pdf(page, button: str, cls: str, path) -> str:
    page.click(button)
    page.wait_for_function("(c) => document.documentElement.dataset.printReady === c", arg=cls)
    page.emulate_media(media="print")
    page.pdf(path=str(path), format="A4", print_background=True, prefer_css_page_size=True)
    page.emulate_media(media="screen")
    page.evaluate("(c) => { document.documentElement.classList.remove(c); delete document.documentElement.dataset.printReady; }", cls)
    return subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout


@pytest.mark.skipif(not shutil.which("pdfinfo"), reason="poppler-utils (pdfinfo) is not installed")
def test_print_all_cards_one_a4_page_per_elder_without_the_id_number(cadre, tmp_path):
    page = cadre
    info = print_pdf(page, "#yl-print-cards", "yl-print-all", tmp_path / "cards.pdf")
    assert page.locator("#yl-print-all > .yl-card").count() == 2
    assert "Pages:           2" in info, info
    text = subprocess.run(["pdftotext", str(tmp_path / "cards.pdf"), "-"], capture_output=True, text=True).stdout
    assert text.count("老人：") == 2   # one card (and its name line) per page
    assert "王阿婆" in text and "李大爷" in text
    assert "330324193605040028" not in text and "今天走访的老人" not in text


@pytest.mark.skipif(not shutil.which("pdfinfo"), reason="poppler-utils (pdfinfo) is not installed")
def test_print_the_visit_list_on_one_page_without_the_id_number(cadre, tmp_path):
    page = cadre
    info = print_pdf(page, "#yl-print-visits", "yl-print-list", tmp_path / "list.pdf")
    assert "Pages:           1" in info, info
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "list.pdf"), "-"], capture_output=True, text=True).stdout
    assert "养老服务走访名单" in text and "王阿婆" in text and "李大爷" in text and "东山村" in text
    assert "2026-11-23" in text and "330324193605040028" not in text


def has_worker_visits(page) -> bool:
    return page.evaluate("typeof window.yanglaoChecker.exportVisits === 'function'")


def test_export_the_visit_list_as_xlsx_and_csv(cadre):
    page = cadre
    if not has_worker_visits(page):
        pytest.skip("api.js has no exportVisits in this build")
    for fmt, button in (("xlsx", "#yl-export-xlsx"), ("csv", "#yl-export-csv")):
        with page.expect_download(timeout=120_000) as download:
            page.click(button)
        assert download.value.suggested_filename.endswith("." + fmt)
        assert "已生成" in page.inner_text("#yl-tools-said")
    data = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    assert "王阿婆" in data and "李大爷" in data and "330324193605040028" in data   # the register keeps the ID


def test_keyboard_only_save_and_next(cadre):
    page = cadre
    fill_profile(page, ELDERS[2][0])
    page.focus("#yl-print")            # the result's first button; then on with the keyboard
    for _ in range(5):
        if page.evaluate("document.activeElement.id") == "yl-save-open":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "yl-save-open"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "yl-v-name"
    page.keyboard.type("赵爷爷")
    for _ in range(4):
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "yl-v-save"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "yl-next"
    assert "赵爷爷" in page.inner_text("#yl-saved")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.closest('[data-field]')?.dataset.field") == "hukou"
    assert len(stored(page)) == 3


def test_delete_all(cadre):
    page = cadre
    page.click("#yl-delete-all")
    page.wait_for_function("() => !localStorage.getItem('yl-visits-v1')")
    assert "没有存老人" in page.inner_text("#yl-visits-top")
    assert page.locator("#yl-vlist > li.yl-visit--none").count() == 1
    assert page.is_hidden("#yl-visits-tools")


def test_no_request_carries_what_was_typed(cadre):
    page = cadre
    assert page.sent, "no requests recorded"
    leaks = []
    for url, body in page.sent:
        from urllib.parse import unquote
        text = unquote(url) + body.decode("utf-8", "replace")
        leaks += [(url[:80], s) for s in SECRETS if s in text or json.dumps(s)[1:-1] in text]
    assert not leaks, leaks
    assert page.errors == []


REGISTER = Path(__file__).resolve().parent / "fixtures" / "registers" / "real-register.csv"


def test_a_register_opens_as_the_visit_list_with_every_row(browser, site_server):
    """批量排摸 → 作为走访名单打开: each row a 待走访 entry, the rows screening cannot read listed with
    their 错误, the 合计 row named; opening one fills the form with what the register knew."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(site_server + "screen/")
        page.set_input_files("#ys-file", str(REGISTER))
        page.click("#ys-visits-open")
        page.wait_for_url("**/checker/#yl-*")
        page.wait_for_selector("html[data-visits-ready='1']", state="attached")
        if not has_worker_visits(page):
            pytest.skip("api.js has no importRegister in this build")
        page.wait_for_function("() => document.getElementById('yl-visits-said').textContent.match(/已从|打不开|没有/)", timeout=120_000)
        said = page.inner_text("#yl-visits-said")
        assert "加入 6 位老人" in said and "2 行填写有误" in said and "第 11 行是合计" in said, said
        visits = stored(page)
        assert [v["source"]["line"] for v in visits] == [5, 6, 7, 8, 9, 10]
        assert all(v["status"] == "todo" and v["visited"] is None for v in visits)
        assert [bool(v["error"]) for v in visits] == [False] * 4 + [True] * 2
        assert page.locator("#yl-vlist .yl-tag--todo").count() == 6
        assert "校验码" in page.inner_text("#yl-vlist > li:nth-child(6)")
        assert "6 位" in page.inner_text("#yl-visits-top")
        # the register's file is not kept once read
        assert page.evaluate("""() => new Promise(r => { const q = indexedDB.open('yl-visits-import', 1);
            q.onsuccess = () => { const g = q.result.transaction('files').objectStore('files').count();
                                  g.onsuccess = () => r(g.result); }; })""") == 0
        page.click("#yl-vlist > li:nth-child(1) .yl-visit__open")
        wait_answer(page)
        banner = page.inner_text("#yl-editing")
        assert "待走访" in banner and "第 5 行" in banner and "null" not in banner and "undefined" not in banner
        assert page.input_value("[data-part=year]") == "1944"
    finally:
        context.close()


def test_a_day_of_visits_with_the_server_gone(browser):
    """After one visit on-line (the service worker keeps the checker), the server stops and the phone
    goes offline: save two elders, reopen and correct one, delete one, export, print every card."""
    from test_checker_browser import SITE, SiteServer
    if not (SITE / "sw.js").is_file():
        pytest.skip("the build has no service worker")
    srv = SiteServer(SITE)
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN", accept_downloads=True)
    try:
        page = context.new_page()
        page.add_init_script("window.yanglaoNoPrintDialog = true")
        page.on("dialog", lambda d: d.accept())
        page.goto(srv.url + "checker/")
        wait_ready(page)
        page.wait_for_selector("html[data-offline-cached~='checker']", state="attached", timeout=120_000)
        srv.stop()
        context.set_offline(True)
        page.reload()
        wait_ready(page)
        for profile, who in ELDERS[:2]:
            fill_profile(page, profile)
            save(page, who)
            page.click("#yl-next")
        reopen_and_make_mild(page, "李大爷（东山村）", "1944")
        assert {v["name"]: v["profile"].get("care_level") for v in stored(page)} == {"李大爷": "mild", "王阿婆": "severe"}
        page.click("#yl-vlist .yl-visit__delete[aria-label$=' 王阿婆（东山村）']")
        page.wait_for_function("() => document.querySelectorAll('#yl-vlist > li').length === 1")
        if has_worker_visits(page):
            with page.expect_download(timeout=120_000) as download:
                page.click("#yl-export-csv")
            assert "李大爷" in Path(download.value.path()).read_bytes().decode("utf-8-sig")
        page.click("#yl-print-cards")
        page.wait_for_function("() => document.documentElement.dataset.printReady === 'yl-print-all'")
        assert page.locator("#yl-print-all > .yl-card").count() == 1
        assert "老人：李大爷" in page.evaluate("document.getElementById('yl-print-all').textContent")
    finally:
        context.close()
        srv.stop()
    assert not any(e["method"] != "GET" for e in srv.log)
