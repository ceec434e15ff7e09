"""Accessibility and 适老化 (MIIT 《互联网网站适老化通用设计规范》, WCAG 2.2 AA), in Debian's Chromium:
axe-core (node_modules, never a CDN) finds no violation of WCAG 2.0–2.2 A/AA, nor of AAA contrast (7:1),
on every page type — in large type (大字), with the drawer open, in the print view, the checker empty,
filled and with results, the batch screening page before and after a register; text is ≥ 18 px on a
phone and 大字 enlarges it without browser zoom; 朗读 reads the main text in zh-CN with a local voice
and stores nothing; no pop-ups, ads or time limits; every control is reached by keyboard with a visible
focus that the header never covers; pages reflow at 320 px and at 200 % zoom; tap targets are
≥ 48 × 48 px; one main, banner and footer, labelled navs, headings without skipped levels, a label on
every control, results in live regions; summaries ≤ 40 characters, their glossary words explained.
Needs `make site`; the checker and screening tests start Pyodide (a few seconds each).
"""
from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from checker.catalogue import load_catalogue
from site_build import pages as site_pages

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
READY_TIMEOUT = 120_000          # ms: a cold Pyodide start on a busy 2-core machine
AS_OF = "2026-11-23"
SHOTS = ROOT / "build" / "screenshots" / "accessibility"

CATALOGUE = load_catalogue()
COUNTIES = sorted(CATALOGUE["counties"].values(), key=lambda c: c["code"])
SERVICES = [s for c in COUNTIES for s in c["services"]]
TOPICS = sorted({s["topic"] for s in SERVICES if s.get("topic")})
WITH_TIERS = next(s for s in SERVICES if (s.get("amount") or {}).get("tiers"))
WITH_STEPS = max(SERVICES, key=lambda s: len(s.get("steps") or []))
LONGEST = max(SERVICES, key=lambda s: len(s["wording"]))

# Every kind of page the guide has (the checker and screening pages have their own tests below).
GUIDE_PAGES = {
    "home": "",
    "province": f"{COUNTIES[0]['province_slug']}/",
    "county": COUNTIES[0]["url"],
    "county-largest": max(COUNTIES, key=lambda c: len(c["services"]))["url"],
    "service-tiers": WITH_TIERS["url"],
    "service-steps": WITH_STEPS["url"],
    "service-longest": LONGEST["url"],
    "compare-index": "compare/",
    "compare": f"compare/{TOPICS[0]}/",
    "glossary": "glossary/",
    "away": "away/",
    "search": "search/",
    "search-results": "search/?q=高龄津贴",
    "about": "about/",
    "not-found": "404.html",
}
SAMPLE = ["home", "county", "service-tiers", "compare", "glossary", "away", "search-results"]


# ---------------------------------------------------------------- helpers

def open_page(page, base: str, url: str):
    page.goto(base + url)
    if "?q=" in url:
        page.wait_for_selector("#mb-results[data-state=done]")


def axe(page, rules: dict | None = None) -> list:
    """axe-core's violations on the page as it is now: WCAG 2.0–2.2 A/AA plus AAA contrast (7:1)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        # evaluated by the test driver, not as an inline <script>: the pages' CSP refuses those
        page.evaluate(AXE.read_text(encoding="utf-8"))
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS},
               "rules": {"color-contrast-enhanced": {"enabled": True}, **(rules or {})},
               "resultTypes": ["violations"]}
    return page.evaluate("""async (options) => {
        const r = await axe.run(document, options);
        return r.violations.map(v => `${v.id} (${v.impact}): ${v.help} — ` + v.nodes.slice(0, 5)
            .map(n => n.target.join(' ') + ' [' + (n.failureSummary || '').replace(/\\s+/g, ' ').slice(0, 160) + ']').join('; '));
    }""", options)


def assert_no_violations(page, where: str):
    found = axe(page)
    assert not found, f"{where}:\n" + "\n".join(found)


# Text nodes that a reader sees: [selector-ish, font size px, text], skipping what is not rendered,
# hidden, or off screen (the closed drawer, the skip link until focused).
VISIBLE_TEXT = """(scope) => {
  const root = scope ? document.querySelector(scope) : document.body;
  const out = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let n; (n = walker.nextNode());) {
    const text = n.textContent.trim();
    if (!text) continue;
    const e = n.parentElement;
    if (!e.getClientRects().length) continue;
    const style = getComputedStyle(e);
    if (style.visibility !== 'visible' || e.closest('[aria-hidden=true]')) continue;
    const r = e.getBoundingClientRect();
    if (r.right <= 0 || r.bottom <= -window.scrollY) continue;
    const name = e.tagName.toLowerCase() + (typeof e.className === 'string' && e.className ? '.' + e.className.trim().split(/\\s+/)[0] : '');
    out.push([name, parseFloat(style.fontSize), text.slice(0, 16)]);
  }
  return out;
}"""


def add_stub_speech(page, voices=None):
    """A stand-in window.speechSynthesis that records what it is asked to say (text, lang, voice);
    `voices` is what its getVoices() lists. window.__speech.finish() ends what is queued."""
    page.add_init_script(STUB_SPEECH.replace("VOICES", json.dumps(voices or [], ensure_ascii=False)))


STUB_SPEECH = """(() => {
  const voices = VOICES;
  const said = []; let cancelled = 0; let queue = [];
  class Utterance { constructor(text) { this.text = text; this.lang = ''; this.voice = null; this.onend = null; } }
  window.SpeechSynthesisUtterance = Utterance;
  const synth = {
    speak(u) { said.push({text: u.text, lang: u.lang, voice: u.voice ? u.voice.name : null}); queue.push(u); },
    cancel() { cancelled++; queue = []; },
    getVoices() { return voices; },
    addEventListener() {},
    get speaking() { return queue.length > 0; }, pending: false, paused: false,
  };
  Object.defineProperty(window, 'speechSynthesis', {value: synth, configurable: true});
  window.__speech = {said, cancelled: () => cancelled,
                     finish() { const q = queue; queue = []; for (const u of q) if (u.onend) u.onend({}); }};
})();"""


# ---------------------------------------------------------------- axe: every page type, every state

@pytest.mark.parametrize("name", GUIDE_PAGES)
def test_axe_finds_nothing_on_a_phone(page, site_server, name):
    open_page(page, site_server, GUIDE_PAGES[name])
    assert_no_violations(page, name)


@pytest.mark.parametrize("name", SAMPLE)
def test_axe_finds_nothing_in_large_type(page, site_server, name):
    page.goto(site_server)
    page.evaluate("localStorage.setItem('mb-dazi', '1')")
    open_page(page, site_server, GUIDE_PAGES[name])
    assert page.evaluate("document.documentElement.classList.contains('mb-dazi')")
    assert_no_violations(page, f"{name} (大字)")


def test_axe_finds_nothing_with_the_drawer_open(page, site_server):
    open_page(page, site_server, GUIDE_PAGES["service-tiers"])
    page.click("label.mb-header__menu")
    page.wait_for_timeout(100)
    assert page.locator(".md-sidebar--primary a").first.is_visible()
    assert_no_violations(page, "drawer open")


@pytest.mark.parametrize("name", ["home", "county", "service-tiers", "service-longest", "compare", "glossary", "away", "about"])
def test_axe_finds_nothing_in_the_print_view(browser, site_server, name):
    context = browser.new_context(viewport={"width": 794, "height": 1123}, locale="zh-CN")   # A4 at 96 dpi
    try:
        page = context.new_page()
        page.emulate_media(media="print")
        open_page(page, site_server, GUIDE_PAGES[name])
        assert page.locator(".mb-print-foot").is_visible(), "print.css not in force"
        assert_no_violations(page, f"{name} (print)")
    finally:
        context.close()


# ---------------------------------------------------------------- the checker and the screening page

class _Server:
    def __init__(self, url):
        self.url = url


def checker_page(context, base):
    from test_checker_browser import open_checker
    return open_checker(context, _Server(base), as_of=AS_OF)


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1, locale="zh-CN")
    yield context
    context.close()


def test_axe_finds_nothing_on_the_checker_empty_filled_and_with_results(phone, site_server):
    from test_checker_browser import fill_profile, wait_answer, wait_ready
    page = checker_page(phone, site_server)
    assert_no_violations(page, "checker, starting")
    wait_ready(page)
    assert_no_violations(page, "checker, empty")
    # filled in part: a county and a year, no answer yet for the rest
    page.select_option("[data-field=hukou] select", COUNTIES[0]["code"])
    page.fill("[data-part=year]", "19")
    page.locator("[data-part=year]").blur()
    wait_answer(page)
    assert_no_violations(page, "checker, half filled")
    # filled: results, follow-up questions, the 不符合 list opened, the share box
    fill_profile(page, {"hukou": "330324", "birth_date": "1936-05-04", "economic": "dibao", "care_level": "moderate"})
    assert page.locator("#yl-groups .yl-result").count() > 0
    assert page.locator("#yl-followups .yl-q").count() > 0, "no follow-up questions to check"
    assert_no_violations(page, "checker, with results")
    if page.locator("#yl-groups details").count():
        page.click("#yl-groups details > summary")
    page.click("#yl-share")
    assert_no_violations(page, "checker, details and share link open")
    page.evaluate("document.documentElement.classList.add('mb-dazi')")
    assert_no_violations(page, "checker, with results, 大字")
    # an error shown to the reader
    page.fill("[data-part=year]", "1800")
    page.locator("[data-part=year]").blur()
    wait_answer(page)
    assert_no_violations(page, "checker, a wrong year")


def test_axe_finds_nothing_on_the_visit_views(phone, site_server):
    """走访 (issue 14): the save box, the visit list with a 待走访 entry from a register and an error,
    the kept-period question and the banner over a reopened elder; on a phone and in 大字."""
    from test_checker_browser import fill_profile, wait_answer, wait_ready
    page = checker_page(phone, site_server)
    page.evaluate("""() => localStorage.setItem('yl-visits-v1', JSON.stringify({version: 1, keep_days: 30, asked: null, visits: [
        {id: 'v-1', visited: null, saved: '2026-11-20T08:00:00.000Z', village: '东山村', name: '甲', note: '', id_number: '',
         profile: {hukou: '330324', birth_date: '1944-05-10'}, source: {register: '登记表.csv', line: 5}, status: 'todo',
         questions: ['economic', 'care_level'], error: '', summary: '可以享受 3 项 · 不用去申请'},
        {id: 'v-2', visited: null, saved: '2026-11-20T08:00:00.000Z', village: '东山村', name: '乙', note: '', id_number: '',
         profile: {}, source: {register: '登记表.csv', line: 9}, status: 'todo', questions: [],
         error: '身份证号校验码不对', summary: ''},
        {id: 'v-3', visited: '2026-09-01', saved: '2026-09-01T08:00:00.000Z', village: '西岙村', name: '丙', note: '', id_number: '',
         profile: {hukou: '330324', birth_date: '1936-05-04', economic: 'dibao', as_of: '2026-09-01'}, source: null,
         status: 'visited', summary: '可以享受 9 项 · 需要去申请：探访服务'}]}))""")
    page.reload()
    page.wait_for_selector("html[data-visits-ready='1']", state="attached")
    wait_ready(page)
    assert page.is_visible("#yl-expiry") and page.locator("#yl-vlist > li").count() == 3
    fill_profile(page, {"hukou": "330324", "birth_date": "1936-05-04", "economic": "dibao", "care_level": "moderate"})
    page.click("#yl-save-open")
    for dazi in (False, True):
        page.evaluate(f"document.documentElement.classList.toggle('mb-dazi', {'true' if dazi else 'false'})")
        assert_no_violations(page, f"visits: save box, expiry question, the list{', 大字' if dazi else ''}")
    page.evaluate("document.documentElement.classList.remove('mb-dazi')")
    page.click("#yl-v-cancel")
    page.click("#yl-vlist .yl-visit__open[aria-label$=' 甲（东山村）']")
    wait_answer(page)
    assert page.is_visible("#yl-editing")
    assert_no_violations(page, "visits: a 待走访 elder reopened")
    page.click("#yl-expiry-keep")
    page.click("#yl-save-open")
    page.click("#yl-v-save")
    assert_no_violations(page, "visits: saved")


def small_register(folder: Path) -> Path:
    from registers import make_register
    header, rows, _ = make_register(12, seed=3, as_of=AS_OF)
    text = io.StringIO(newline="")
    csv.writer(text).writerows([header, *rows])
    path = folder / "登记表.csv"
    path.write_text(text.getvalue(), encoding="utf-8")
    return path


def test_axe_finds_nothing_on_the_screening_page_before_and_after_a_register(page, site_server, tmp_path):
    page.goto(site_server + "screen/")
    assert_no_violations(page, "screen, starting")
    page.wait_for_selector("body[data-screen-ready]", timeout=READY_TIMEOUT)
    assert_no_violations(page, "screen, ready")
    page.set_input_files("#ys-file", str(small_register(tmp_path)))
    page.fill("#ys-asof", AS_OF)
    with page.expect_download(timeout=READY_TIMEOUT):
        page.click("#ys-start")
    page.wait_for_selector("#ys-result:not([hidden])")
    assert_no_violations(page, "screen, with a result")
    # the result is announced: the status box is a live region, present from the start
    assert page.get_attribute("#ys-status", "role") == "status"
    assert "应享未享" in page.inner_text("#ys-status")


# ---------------------------------------------------------------- 适老化: type size, 大字, 朗读

@pytest.mark.parametrize("name", list(GUIDE_PAGES) + ["checker", "screen"])
def test_all_text_is_at_least_18px_on_a_phone(page, site_server, name):
    """Every text a reader sees on a phone, header and footer included, is ≥ 18 px by default."""
    url = GUIDE_PAGES.get(name, f"{name}/")
    open_page(page, site_server, url)
    if name == "checker":
        page.wait_for_selector("html[data-checker-form='1']", state="attached")
    small = [t for t in page.evaluate(VISIBLE_TEXT, None) if t[1] < 18]
    assert not small, small[:10]


@pytest.mark.parametrize("name", ["home", "county", "service-tiers", "compare", "search-results", "checker"])
def test_large_type_enlarges_every_text_without_browser_zoom(browser, site_server, name):
    """大字 makes every text of the page at least a fifth larger (body text ≥ 24 px) by itself: the
    zoom, device pixel ratio and viewport stay as they were, and a 320 px phone still needs no
    sideways scrolling."""
    context = browser.new_context(viewport={"width": 320, "height": 640}, device_scale_factor=1, locale="zh-CN")
    try:
        page = context.new_page()
        url = GUIDE_PAGES.get(name, f"{name}/")
        open_page(page, site_server, url)
        if name == "checker":
            page.wait_for_selector("html[data-checker-form='1']", state="attached")
        view = "() => [devicePixelRatio, visualViewport.scale, innerWidth]"
        before_view = page.evaluate(view)
        before = page.evaluate(VISIBLE_TEXT, ".md-main")
        page.click("button.mb-dazi-button")
        after = page.evaluate(VISIBLE_TEXT, ".md-main")
        assert page.evaluate(view) == before_view
        assert len(before) == len(after)
        grew_too_little = [(b[0], b[2], b[1], a[1]) for b, a in zip(before, after) if a[1] < 1.2 * b[1] - 0.01]
        assert not grew_too_little, grew_too_little[:10]
        body = page.evaluate("""() => [...document.querySelectorAll('.md-content p')].filter(p => p.getClientRects().length
                                 && !p.closest('.mb-small, .yl-hint, .mb-hint') && !p.matches('.mb-small, .yl-hint, .mb-hint'))
                                 .map(p => parseFloat(getComputedStyle(p).fontSize))""")
        assert body and min(body) >= 24, min(body)
        assert page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
        header = page.evaluate("[...document.querySelectorAll('.mb-header__btn')].filter(b => !b.hidden).map(b => parseFloat(getComputedStyle(b).fontSize))")
        assert min(header) >= 22
    finally:
        context.close()


LOCAL_ZH = {"name": "本机普通话", "lang": "zh-CN", "localService": True, "default": False, "voiceURI": "local-zh"}
REMOTE_ZH = {"name": "网上普通话", "lang": "zh-CN", "localService": False, "default": True, "voiceURI": "remote-zh"}
LOCAL_EN = {"name": "English", "lang": "en-US", "localService": True, "default": False, "voiceURI": "local-en"}


def test_read_aloud_hands_the_main_text_to_speech_synthesis_in_zh_cn(page, site_server):
    add_stub_speech(page, [REMOTE_ZH, LOCAL_EN, LOCAL_ZH])
    service = WITH_TIERS
    page.goto(site_server + service["url"])
    storage_before = page.evaluate("JSON.stringify(localStorage)")
    button = page.locator("button.mb-read-button")
    assert button.is_visible() and button.is_enabled() and button.get_attribute("aria-pressed") == "false"
    n_requests = len(page.requests)
    button.click()
    said = page.evaluate("window.__speech.said")
    assert said, "nothing handed to speechSynthesis"
    assert {s["lang"] for s in said} == {"zh-CN"}
    assert {s["voice"] for s in said} == {LOCAL_ZH["name"]}, "a voice that is not on this device sends the text away"
    text = "\n".join(s["text"] for s in said)
    h1 = page.inner_text(".md-content h1").split("\n")[0].strip()
    assert text.startswith(h1), text[:80]
    for must in (service["summary"], "谁可以享受", "来源和日期", service["source_text"]):
        assert must in text.replace("\n", ""), must
    assert "首页" not in said[0]["text"] and "大字" not in text and "跳到正文" not in text   # crumbs, header, skip link
    assert "用手机扫一扫" not in text                                                      # the print-only footer
    assert button.get_attribute("aria-pressed") == "true"
    button.click()                                                                       # a second press stops
    assert page.evaluate("window.__speech.cancelled()") >= 1
    assert button.get_attribute("aria-pressed") == "false"
    assert len(page.evaluate("window.__speech.said")) == len(said), "stopping must not start again"
    # reading to the end lets the button go back by itself
    button.click()
    assert button.get_attribute("aria-pressed") == "true"
    page.evaluate("window.__speech.finish()")
    assert button.get_attribute("aria-pressed") == "false"
    assert page.evaluate("JSON.stringify(localStorage)") == storage_before, "朗读 must not store anything"
    assert len(page.requests) == n_requests, "朗读 must not send anything"


def test_read_aloud_on_the_checker_reads_the_results(phone, site_server):
    from test_checker_browser import fill_profile, wait_ready
    page = phone.new_page()
    add_stub_speech(page)                                # a phone that lists no voices: the system's own
    page.goto(site_server + "checker/")
    wait_ready(page)
    fill_profile(page, {"hukou": "330324", "birth_date": "1936-05-04", "economic": "dibao"})
    page.click("button.mb-read-button")
    said = page.evaluate("window.__speech.said")
    text = "".join(s["text"] for s in said)
    assert {s["lang"] for s in said} == {"zh-CN"} and {s["voice"] for s in said} == {None}
    assert "查询结果" in text and page.inner_text("#yl-summary").strip()[:12] in text


def test_read_aloud_is_hidden_without_speech_synthesis(page, site_server):
    page.add_init_script("Object.defineProperty(window, 'speechSynthesis', {value: undefined, configurable: true})")
    page.goto(site_server + SERVICES[0]["url"])
    assert page.locator("button.mb-dazi-button").is_visible()
    assert page.locator("button.mb-read-button").is_hidden()


def test_read_aloud_is_disabled_when_the_only_chinese_voice_is_online(page, site_server):
    add_stub_speech(page, [REMOTE_ZH, LOCAL_EN])
    page.goto(site_server + SERVICES[0]["url"])
    button = page.locator("button.mb-read-button")
    assert button.is_visible() and button.is_disabled()
    assert "没有中文朗读语音" in button.get_attribute("title")
    assert page.evaluate("window.__speech.said") == []


@pytest.mark.parametrize("name", ["home", "service-tiers", "search-results", "checker"])
def test_no_pop_ups_ads_redirects_or_time_limits(page, site_server, name):
    """Nothing opens by itself (windows, dialogs, alerts), nothing moves the reader elsewhere or
    expires while they read, nothing is embedded from outside, nothing floats over the text but the
    header."""
    events = []
    page.on("popup", lambda p: events.append(("popup", p.url)))
    page.on("dialog", lambda d: (events.append(("dialog", d.message)), d.dismiss()))
    url = GUIDE_PAGES.get(name, f"{name}/")
    open_page(page, site_server, url)
    start = page.url
    page.wait_for_timeout(3000)
    assert not events and page.url == start
    found = page.evaluate("""() => ({
      refresh: document.querySelectorAll('meta[http-equiv=refresh i]').length,
      embedded: [...document.querySelectorAll('iframe, embed, object, marquee, video, audio, dialog[open]')].map(e => e.tagName),
      floating: [...document.querySelectorAll('body *')].filter(e => ['fixed', 'sticky'].includes(getComputedStyle(e).position)
          && e.getClientRects().length && getComputedStyle(e).visibility === 'visible' && getComputedStyle(e).opacity !== '0'
          && !e.closest('.md-header, .md-sidebar, .mb-skip, .md-overlay')).map(e => e.className),
    })""")
    assert found == {"refresh": 0, "embedded": [], "floating": []}, found


# ---------------------------------------------------------------- keyboard

FOCUSABLE = """() => [...document.querySelectorAll('a[href], button, input, select, textarea, summary, [tabindex]')]
  .filter(e => e.tabIndex >= 0 && !e.disabled && e.getClientRects().length && getComputedStyle(e).visibility === 'visible'
          && !(e.matches('input') && e.type === 'hidden'))"""

FOCUS_STATE = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const ring = el => { const s = getComputedStyle(el); return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2; };
  // the ring may be drawn on the element or on the label round it (radio choices, 目录)
  const visible = ring(e) || (e.parentElement && ring(e.parentElement) && e.parentElement.matches('label, .yl-choice, .ys-choice'));
  const r = e.getBoundingClientRect();
  const header = document.querySelector('.md-header').getBoundingClientRect();
  const inHeader = !!e.closest('.md-header, .mb-skip, .md-sidebar');
  return {id: e.dataset.a11y || null, text: (e.innerText || e.value || e.getAttribute('aria-label') || e.tagName).trim().slice(0, 20),
          ring: !!visible, inView: r.bottom > 0 && r.top < innerHeight && r.right > 0 && r.left < innerWidth,
          underHeader: !inHeader && r.top < header.bottom - 1 && getComputedStyle(document.querySelector('.md-header')).display !== 'none'};
}"""


def tab_through(page, limit: int = 400) -> tuple[list, int]:
    """Press Tab from the top of the page until focus comes round again: the focus state at each stop,
    and how many controls the page has."""
    n = page.evaluate(f"() => {{ const all = ({FOCUSABLE})(); all.forEach((e, i) => e.dataset.a11y = String(i)); return all.length; }}")
    page.evaluate("window.scrollTo(0, 0); document.activeElement && document.activeElement.blur()")
    stops = []
    for _ in range(min(limit, n + 5)):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS_STATE)
        if state is None or (stops and state["id"] == stops[0]["id"]):
            break
        stops.append(state)
    return stops, n


@pytest.mark.parametrize("name", ["home", "county", "service-tiers", "compare", "search-results", "glossary"])
def test_every_control_is_reached_by_tab_with_a_visible_focus(page, site_server, name):
    open_page(page, site_server, GUIDE_PAGES[name])
    stops, n = tab_through(page)
    reached = {s["id"] for s in stops if s["id"] is not None}
    assert len(reached) == n, f"{n - len(reached)} of {n} controls not reached by Tab"
    assert stops[0]["text"] == "跳到正文", stops[0]
    no_ring = [s["text"] for s in stops if not s["ring"]]
    assert not no_ring, f"no visible focus: {no_ring[:10]}"
    hidden = [s["text"] for s in stops if not s["inView"] or s["underHeader"]]
    assert not hidden, f"focus out of sight or under the header: {hidden[:10]}"


def test_skip_link_lands_on_the_page_content(page, site_server):
    page.goto(site_server + SERVICES[0]["url"])
    page.keyboard.press("Tab")
    skip = page.evaluate("(() => { const e = document.activeElement, r = e.getBoundingClientRect(); return [e.className, r.top >= 0, r.height]; })()")
    assert skip[0] == "mb-skip" and skip[1] and skip[2] >= 48, skip
    page.keyboard.press("Enter")
    assert page.url.endswith("#mb-main")
    page.keyboard.press("Tab")
    assert page.evaluate("!!document.activeElement.closest('#mb-main')"), "Tab after the skip link should be in the content"


def test_drawer_opens_and_closes_from_the_keyboard(page, site_server):
    page.goto(site_server + SERVICES[0]["url"])
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    menu = page.locator(".mb-menu-button")
    assert page.evaluate("document.activeElement.classList.contains('mb-menu-button')")
    assert menu.get_attribute("role") == "button" and menu.get_attribute("aria-expanded") == "false"
    page.keyboard.press("Enter")
    assert menu.get_attribute("aria-expanded") == "true"
    assert page.evaluate("!!document.activeElement.closest('.md-sidebar--primary')"), "focus should go into the drawer"
    names = page.evaluate(STRUCTURE)["navs"]
    assert all(names) and len(set(names)) == len(names), f"every nav in the open drawer needs its own name: {names}"
    stops = []
    for _ in range(40):
        state = page.evaluate(FOCUS_STATE)
        if not page.evaluate("!!document.activeElement.closest('.md-sidebar--primary')"):
            break
        stops.append(state)
        page.keyboard.press("Tab")
    assert any(SERVICES[0]["name"][:6] in s["text"] for s in stops), "the page's own entry is not in the drawer"
    assert all(s["ring"] and s["inView"] for s in stops), [s for s in stops if not (s["ring"] and s["inView"])][:3]
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Escape")
    assert menu.get_attribute("aria-expanded") == "false"
    assert page.evaluate("document.activeElement.classList.contains('mb-menu-button')")
    box = page.locator(".md-sidebar--primary").bounding_box()
    assert box is None or box["x"] + box["width"] <= 1


def test_checker_is_usable_with_the_keyboard_alone(phone, site_server):
    """From the skip link to the answer, the share link and the 不符合 list, without a mouse."""
    from test_checker_browser import shown, wait_answer, wait_ready
    page = checker_page(phone, site_server)
    wait_ready(page)
    page.keyboard.press("Tab")                       # 跳到正文
    page.keyboard.press("Enter")
    active = lambda: page.evaluate("document.activeElement.closest('[data-field]')?.dataset.field || document.activeElement.id")  # noqa: E731
    for _ in range(10):
        page.keyboard.press("Tab")
        if active() == "hukou":
            break
    assert active() == "hukou", "Tab from the content does not reach the first question"
    code = sorted(c["code"] for c in COUNTIES)[0]
    page.keyboard.press("ArrowDown")                 # the first county
    page.keyboard.press("Tab")
    page.keyboard.type("1936")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")                       # 住在户籍所在县
    page.keyboard.press("Space")
    page.keyboard.press("Tab")                       # 家庭经济状况
    page.keyboard.press("ArrowRight")
    wait_answer(page)
    assert page.evaluate("document.querySelector('[data-field=hukou] select').value") == code
    assert shown(page), "no results"
    # on to the results: every link and button reached with a visible focus, none hidden under the header
    stops = []
    for _ in range(200):
        page.keyboard.press("Tab")
        state = page.evaluate(FOCUS_STATE)
        stops.append(state)
        if page.evaluate("document.activeElement.id") == "yl-share":
            break
    assert page.evaluate("document.activeElement.id") == "yl-share", "the share button is not reached"
    assert all(s["ring"] and s["inView"] and not s["underHeader"] for s in stops), \
        [s for s in stops if not (s["ring"] and s["inView"] and not s["underHeader"])][:3]
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "yl-share-link"
    assert "#" in page.input_value("#yl-share-link")
    # the 不符合 list opens with the keyboard
    if page.locator("#yl-groups details").count():
        page.focus("#yl-groups details > summary")
        page.keyboard.press("Enter")
        assert page.evaluate("document.querySelector('#yl-groups details').open")


# ---------------------------------------------------------------- reflow and tap targets

REFLOW = {"320px": ({"width": 320, "height": 640}, 1), "200%": ({"width": 640, "height": 400}, 2)}   # 1280×800 at 200 %

OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const cut = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = walker.nextNode());) {
    if (!n.textContent.trim()) continue;
    const e = n.parentElement;
    if (!e.getClientRects().length || getComputedStyle(e).visibility !== 'visible') continue;
    const range = document.createRange(); range.selectNodeContents(n);
    const r = range.getBoundingClientRect();
    if (r.right > width + 1 || r.left < -1) cut.push(['off screen', e.className, n.textContent.trim().slice(0, 12)]);
    if (getComputedStyle(e).textOverflow === 'ellipsis' && e.scrollWidth > e.clientWidth + 1)
      cut.push(['cut short', e.className, n.textContent.trim().slice(0, 12)]);
  }
  return {scroll: document.documentElement.scrollWidth, body: document.body.scrollWidth, width, cut: cut.slice(0, 10)};
}"""


@pytest.mark.parametrize("zoom", REFLOW)
@pytest.mark.parametrize("name", list(GUIDE_PAGES) + ["screen"])
def test_reflow_without_sideways_scrolling_or_lost_text(browser, site_server, name, zoom):
    viewport, scale = REFLOW[zoom]
    context = browser.new_context(viewport=viewport, device_scale_factor=scale, locale="zh-CN")
    try:
        page = context.new_page()
        open_page(page, site_server, GUIDE_PAGES.get(name, f"{name}/"))
        for dazi in (False, True):
            if dazi:
                page.click("button.mb-dazi-button")
            got = page.evaluate(OVERFLOW)
            assert got["scroll"] <= got["width"] and got["body"] <= got["width"] and not got["cut"], (dazi, got)
    finally:
        context.close()


def test_checker_with_results_reflows_at_320px(browser, site_server):
    from test_checker_browser import fill_profile, wait_ready
    context = browser.new_context(viewport={"width": 320, "height": 640}, device_scale_factor=1, locale="zh-CN")
    try:
        page = checker_page(context, site_server)
        wait_ready(page)
        fill_profile(page, {"hukou": "330324", "birth_date": "1936-05-04", "economic": "dibao", "care_level": "moderate"})
        page.click("#yl-share")
        for dazi in (False, True):
            if dazi:
                page.click("button.mb-dazi-button")
            got = page.evaluate(OVERFLOW)
            assert got["scroll"] <= got["width"] and not got["cut"], (dazi, got)
    finally:
        context.close()


TARGETS = """() => [...document.querySelectorAll('a[href], button, input, select, textarea, summary, [role=button], label.yl-choice, label.ys-choice')]
  .filter(e => e.getClientRects().length && getComputedStyle(e).visibility === 'visible' && !e.closest('[hidden]'))
  .map(e => {
    // a control inside a label (a radio button, 目录): a tap anywhere on the label works it
    const r = (e.closest('label') || e).getBoundingClientRect();
    // WCAG 2.5.8's exception: a link inside a sentence (its block says more than the link)
    const block = e.closest('p, li, dd, td, blockquote');
    const inline = e.matches('a') && getComputedStyle(e).display === 'inline' && block && block.innerText.trim().length > e.innerText.trim().length + 2;
    return {text: (e.innerText || e.value || e.tagName).trim().slice(0, 16), w: r.width, h: r.height, inline,
            skip: e.matches('.mb-skip') || !!e.closest('.md-sidebar')};
  })"""


@pytest.mark.parametrize("name, width", [(n, 390) for n in list(GUIDE_PAGES) + ["screen"]] + [(n, 320) for n in SAMPLE])
def test_tap_targets_are_at_least_48px_square(page, site_server, name, width):
    page.set_viewport_size({"width": width, "height": 844})
    open_page(page, site_server, GUIDE_PAGES.get(name, f"{name}/"))
    small = [(t["text"], round(t["w"]), round(t["h"])) for t in page.evaluate(TARGETS)
             if not t["skip"]
             and ((t["inline"] and t["h"] < 24) or (not t["inline"] and (t["w"] < 48 or t["h"] < 48)))]
    assert not small, small[:10]


def test_drawer_entries_are_tall_enough_to_tap(page, site_server):
    page.goto(site_server + WITH_TIERS["url"])
    page.click("label.mb-header__menu")
    heights = page.evaluate("[...document.querySelectorAll('.md-sidebar--primary a[href]')].filter(a => a.getClientRects().length).map(a => [a.innerText.trim(), a.getBoundingClientRect().height])")
    assert heights and all(h >= 48 for _, h in heights), [x for x in heights if x[1] < 48][:5]


# ---------------------------------------------------------------- screen readers

STRUCTURE = """() => {
  const visible = e => e.getClientRects().length && getComputedStyle(e).visibility === 'visible';
  const roleOf = e => e.getAttribute('role') || e.tagName.toLowerCase();
  const top = sel => [...document.querySelectorAll(sel)].filter(e => !e.parentElement.closest('article, aside, main, nav, section'));
  const navs = [...document.querySelectorAll('nav, [role=navigation]')].filter(visible)
    .map(n => n.getAttribute('aria-label') || (n.getAttribute('aria-labelledby') && document.getElementById(n.getAttribute('aria-labelledby'))?.textContent.trim()) || '');
  const headings = [...document.querySelectorAll('#mb-main h1, #mb-main h2, #mb-main h3, #mb-main h4, #mb-main h5, #mb-main h6')]
    .filter(visible).map(h => [Number(h.tagName[1]), h.textContent.trim().slice(0, 20)]);
  return {main: document.querySelectorAll('main, [role=main]').length, banner: top('header').length,
          contentinfo: top('footer').length, navs, headings, lang: document.documentElement.lang};
}"""


@pytest.mark.parametrize("name", list(GUIDE_PAGES) + ["checker", "screen"])
def test_landmarks_and_headings_in_order(page, site_server, name):
    open_page(page, site_server, GUIDE_PAGES.get(name, f"{name}/"))
    if name == "checker":
        page.wait_for_selector("html[data-checker-form='1']", state="attached")
    s = page.evaluate(STRUCTURE)
    assert s["lang"].startswith("zh")
    assert s["main"] == 1 and s["banner"] == 1 and s["contentinfo"] == 1, s
    assert all(s["navs"]) and len(set(s["navs"])) == len(s["navs"]), f"every nav needs its own name: {s['navs']}"
    levels = [h for h, _ in s["headings"]]
    assert levels and levels[0] == 1 and levels.count(1) == 1, s["headings"]
    skipped = [(a, b) for a, b in zip(s["headings"], s["headings"][1:]) if b[0] > a[0] + 1]
    assert not skipped, f"heading levels skipped: {skipped}"
    # everything a reader sees is inside a landmark (axe's region rule)
    found = axe(page, rules={"region": {"enabled": True}})
    assert not found, "\n".join(found)


def test_checker_results_headings_labels_and_live_regions(phone, site_server):
    from test_checker_browser import fill_profile, wait_ready
    page = checker_page(phone, site_server)
    # live regions are in the page before anything arrives
    assert page.get_attribute("#yl-summary", "aria-live") == "polite"
    assert page.get_attribute("#yl-status", "role") == "status"
    wait_ready(page)
    fill_profile(page, {"hukou": "330324", "birth_date": "1936-05-04", "economic": "dibao", "care_level": "moderate"})
    assert "结果" in page.inner_text("#yl-summary") and "项" in page.inner_text("#yl-summary")
    s = page.evaluate(STRUCTURE)
    skipped = [(a, b) for a, b in zip(s["headings"], s["headings"][1:]) if b[0] > a[0] + 1]
    assert not skipped, skipped
    unlabelled = page.evaluate("""() => [...document.querySelectorAll('#mb-main input, #mb-main select, #mb-main textarea')]
        .filter(e => e.type !== 'hidden' && e.getClientRects().length)
        .filter(e => !(e.labels && [...e.labels].some(l => l.textContent.trim())) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
        .map(e => e.outerHTML.slice(0, 80))""")
    assert not unlabelled, unlabelled


def test_search_results_are_announced(page, site_server):
    page.goto(site_server + "search/")
    assert page.get_attribute("#mb-results", "aria-live") == "polite"
    page.fill("#mb-q", "高龄津贴")
    page.click(".mb-search button[type=submit]")
    page.wait_for_selector("#mb-results[data-state=done]")
    assert page.locator("#mb-results a").count() > 0


# ---------------------------------------------------------------- plain language

# Words elders and their families use every day: a summary may say them without an explanation.
EVERYDAY = {"低保", "独居", "空巢", "留守", "社保卡", "户籍地", "常住地", "高龄津贴"}


class _Explained(HTMLParser):
    """Glossary words explained on a rendered page: a.mb-term links (href to glossary/#word, the
    explanation in title) and the words of its 这页用到的词 list (dl in .mb-words)."""

    def __init__(self):
        super().__init__()
        self.words, self._in_words, self._dt = set(), 0, False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and "mb-term" in (a.get("class") or "").split() and a.get("title"):
            self.words.add(a["href"].rsplit("#", 1)[-1])
        if tag == "section" and "mb-words" in (a.get("class") or "").split():
            self._in_words = 1
        elif tag == "section" and self._in_words:
            self._in_words += 1
        self._dt = tag == "dt" and bool(self._in_words)

    def handle_endtag(self, tag):
        if tag == "section" and self._in_words:
            self._in_words -= 1
        if tag == "dt":
            self._dt = False

    def handle_data(self, data):
        if self._dt:
            self.words.add(re.split(r"[（(]", data.strip())[0])


def explained_on(html_text: str) -> set:
    parser = _Explained()
    parser.feed(html_text)
    return parser.words


def test_every_service_summary_is_at_most_40_characters():
    long = [(s["id"], len(s["summary"])) for s in SERVICES if len(s["summary"]) > 40]
    assert not long, long


def test_summaries_explain_the_glossary_words_they_use():
    """A summary may use a glossary word only if it is explained where the summary is shown.

    The rule: a glossary word (catalogue glossary) in a service's summary is *explained* when it is
    one of the EVERYDAY words above, or when every page that shows the summary — its service page
    (the summary is the lead) and its county page (the summary is on the service's card) — carries
    the explanation: the word is a link to its entry (<a class="mb-term" href="…/glossary/#词"
    title="解释">), or it is defined in the page's 这页用到的词 list (section.mb-words). The card is
    one big link, so there the word cannot be a link of its own; the list on the same page is the
    explanation at hand.
    """
    site = SITE_MODEL
    pattern = GLOSSARY_WORDS
    county_html = {c["code"]: site.render(f"{c['url']}index.md") for c in COUNTIES}
    unexplained = []
    for c in COUNTIES:
        county_words = explained_on(county_html[c["code"]])
        for s in c["services"]:
            words = set(pattern.findall(s["summary"])) - EVERYDAY
            if not words:
                continue
            service_words = explained_on(site.render(f"{s['url'][:-1]}.md"))
            for w in sorted(words):
                where = [p for p, have in (("service page", service_words), ("county page", county_words)) if w not in have]
                if where:
                    unexplained.append((s["id"], w, where))
    assert not unexplained, unexplained[:10]


SITE_MODEL = site_pages.Site(CATALOGUE)
GLOSSARY_WORDS = re.compile("|".join(map(re.escape, sorted(SITE_MODEL.glossary, key=len, reverse=True))))


def test_every_generated_page_explains_the_glossary_words_it_uses():
    """The same rule as for summaries, on every page the catalogue generates (county, service,
    comparison, 人户分离): a glossary word in the page's text, other than an everyday one, is a
    glossary link with its explanation in the title, or is in the page's 这页用到的词 list."""
    missing = []
    for src, pg in SITE_MODEL.pages.items():
        if pg.template in ("glossary.html", "province.html", "compare_index.html"):
            continue
        html_text = SITE_MODEL.render(src)
        text = re.sub(r"<[^>]+>", "", html_text)
        words = set(GLOSSARY_WORDS.findall(text)) - EVERYDAY - explained_on(html_text)
        if words:
            missing.append((pg.url, sorted(words)))
    assert not missing, missing[:10]


@pytest.mark.parametrize("name", ["county", "service-tiers", "service-longest", "compare", "away"])
def test_glossary_words_on_a_page_are_explained_on_it(page, site_server, name):
    """No jargon without its explanation at hand: a glossary word (not an everyday one) in the page's
    text is explained on the same page, by a glossary link with the explanation in its title or in
    the page's 这页用到的词 list."""
    open_page(page, site_server, GUIDE_PAGES[name])
    html_text = page.inner_html("#mb-main article")
    text = page.inner_text("#mb-main article")
    missing = sorted(set(GLOSSARY_WORDS.findall(text)) - EVERYDAY - explained_on(html_text))
    assert not missing, missing


# ---------------------------------------------------------------- screenshots for a person to look at

@pytest.mark.parametrize("width", [390, 320])
def test_screenshots_with_focus_visible(browser, site_server, width):
    """A service page and the checker with results at phone widths, a control focused by keyboard;
    the PNGs go to build/screenshots/accessibility/ to be looked at."""
    from test_checker_browser import fill_profile, wait_ready
    SHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": 844}, device_scale_factor=1, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(site_server + WITH_TIERS["url"])
        page.keyboard.press("Tab")
        page.screenshot(path=str(SHOTS / f"service-{width}-skip-link.png"))
        page.keyboard.press("Enter")
        for _ in range(4):
            page.keyboard.press("Tab")
        assert page.evaluate(FOCUS_STATE)["ring"]
        page.screenshot(path=str(SHOTS / f"service-{width}-focus.png"))
        page.click("button.mb-dazi-button")
        page.screenshot(path=str(SHOTS / f"service-{width}-dazi.png"))
        page.click("button.mb-dazi-button")
        checker = checker_page(context, site_server)
        wait_ready(checker)
        fill_profile(checker, {"hukou": "330324", "birth_date": "1936-05-04", "economic": "dibao", "care_level": "moderate"})
        checker.focus("#yl-groups .yl-result a")
        checker.keyboard.press("Shift+Tab")
        checker.keyboard.press("Tab")
        assert checker.evaluate(FOCUS_STATE)["ring"]
        checker.screenshot(path=str(SHOTS / f"checker-{width}-results-focus.png"))
        checker.screenshot(path=str(SHOTS / f"checker-{width}-results-full.png"), full_page=True)
    finally:
        context.close()
