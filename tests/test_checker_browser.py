"""The in-browser checker in Debian's Chromium with the real Pyodide build of site/:
the form filled as a cadre would gives the YAML cases' answers; window.yanglaoChecker.evaluate
gives the command line's JSON for 100 generated profiles; after one visit the guide and the checker
work with the server stopped and the browser offline; nothing goes to another host and no request
carries profile data; the page says so plainly when Pyodide cannot start; the printed 明白卡 is one
A4 page. Screenshots and the card's PDF/PNG go to build/screenshots/checker/ for a person to look at.
"""
from __future__ import annotations

import datetime as dt
import functools
import os
import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

import checker
from checker.profile import FIELDS
from site_build import offline
from site_build.checker_assets import sample_profiles

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("MB_SITE_DIR") or ROOT / "site")
SHOTS = ROOT / "build" / "screenshots" / "checker"
CASES_DIR = ROOT / "tests" / "cases"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
READY_TIMEOUT = 90_000   # ms: a cold Pyodide start on a busy 2-core machine

# Fields the form asks directly; the rest are follow-up questions that appear when they matter.
CORE_FIELDS = {"as_of", "hukou", "residence", "birth_date", "age", "economic", "care_level"}


# ---------------------------------------------------------------- a server that keeps a log and can stop

class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _log(self, body=b""):
        self.server.log.append({"method": self.command, "path": self.path, "body": body,
                                "headers": dict(self.headers)})

    def do_GET(self):
        self._log()
        super().do_GET()

    def do_HEAD(self):
        self._log()
        super().do_HEAD()

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        self._log(self.rfile.read(length) if length else b"")
        self.send_error(405)

    do_PUT = do_POST


class SiteServer:
    """site/ on 127.0.0.1 at a free port, logging every request; `stop()` takes it away."""

    def __init__(self, directory: Path = SITE):
        handler = functools.partial(_Handler, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.log = []
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.running = True

    @property
    def log(self):
        return self.httpd.log

    def stop(self):
        if self.running:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.running = False


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    """A copy of site/, so a rebuild running beside the tests cannot pull files from under them."""
    if not (SITE / "checker" / "index.html").is_file() or not (SITE / "sw.js").is_file():
        pytest.skip("site/ is not built with the checker: run `make site` first")
    copy = tmp_path_factory.mktemp("checker-site") / "site"
    shutil.copytree(SITE, copy, ignore=shutil.ignore_patterns("*.pdf"))
    config = json.loads((copy / "assets" / "checker" / "build.json").read_text(encoding="utf-8"))
    for key in ("stdlib", "lock"):
        assert (copy / "assets" / "checker" / config[key]).is_file(), f"site/ is half built: {config[key]} missing"
    return copy


@pytest.fixture(scope="module")
def server(built_site):
    srv = SiteServer(built_site)
    yield srv
    srv.stop()


class Watch:
    """Every request a context makes (pages, workers, service worker where Playwright reports it),
    with anything bound for another host aborted and recorded."""

    def __init__(self, context, base: str):
        self.base = base
        self.requests = []
        self.foreign = []
        context.on("request", self._on_request)
        context.route("**/*", self._route)

    def _on_request(self, request):
        self.requests.append({"url": request.url, "method": request.method, "post": request.post_data_buffer})

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.base) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()


@pytest.fixture
def context(browser, server):
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
    ctx.watch = Watch(ctx, server.url)
    yield ctx
    ctx.close()


def open_checker(context, server, hash_part: str = "", as_of: str | None = None):
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    if as_of:
        page.clock.set_fixed_time(dt.datetime.fromisoformat(f"{as_of}T10:00:00"))
    page.goto(server.url + "checker/" + hash_part)
    page.wait_for_selector("html[data-checker-form='1']", state="attached")
    return page


def wait_until(page, script: str, arg=None, timeout_ms: int = READY_TIMEOUT):
    """Poll an async page function until it returns true (wait_for_function does not await promises)."""
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        if page.evaluate(script, arg):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {script[:80]}")
        page.wait_for_timeout(300)


def wait_ready(page):
    try:
        page.wait_for_selector("html[data-checker-ready='1']", state="attached", timeout=READY_TIMEOUT)
    except Exception as err:
        status = page.evaluate("document.getElementById('yl-status')?.innerText")
        raise AssertionError(f"the checker did not become ready: {status!r}; page errors: {getattr(page, 'errors', None)}") from err


# ---------------------------------------------------------------- filling the form as a person would

def fill_profile(page, profile: dict):
    """Choose and type into the form's controls; follow-up questions are answered when they appear."""
    hukou = profile.get("hukou")
    known = {c["code"] for c in checker.engine().catalogue["counties"].values()}
    page.select_option("[data-field=hukou] select", hukou if hukou in known else "other")
    if "birth_date" in profile:
        y, m, d = profile["birth_date"].split("-")
        page.fill("[data-part=year]", y)
        page.select_option("[data-part=month]", str(int(m)))
        page.select_option("[data-part=day]", str(int(d)))
    elif "age" in profile:
        page.fill("[data-field=birth_date] input[data-field=age]", str(profile["age"]))
    residence = profile.get("residence")
    if residence in (None, hukou):
        page.check("input[name=yl-residence_where][value=same]")
    else:
        page.check("input[name=yl-residence_where][value=away]")
        page.select_option("[data-field=residence_other] select", residence if residence in known else "other")
    for name in ("economic", "care_level"):
        if name in profile:
            page.check(f"input[name=yl-{name}][value={profile[name]}]")
    wait_answer(page)
    for name, value in profile.items():
        if name in CORE_FIELDS:
            continue
        answer_followup(page, name, value)
    wait_answer(page)


def wait_answer(page):
    page.wait_for_timeout(150)   # the form re-evaluates 60 ms after a change (debounce)
    # until the answer to the last change is drawn (form.js: <html data-answering>), not a guessed delay
    page.wait_for_function("() => !document.documentElement.dataset.answering"
                           " && !document.getElementById('yl-summary').textContent.includes('正在准备')",
                           timeout=READY_TIMEOUT)
    page.wait_for_timeout(100)


def answer_followup(page, name, value):
    selector = f"#yl-followups [data-field={name}]"
    if page.locator(selector).count() == 0:
        more = page.locator("#yl-more-button")
        if more.is_visible():
            more.click()
            wait_answer(page)
    if page.locator(selector).count() == 0:
        return   # not asked: it settles nothing in this answer
    control = page.locator(selector).first
    kind = FIELDS[name][0]
    if kind == "bool" or kind == "enum":
        control.locator(f"input[value='{str(value).lower() if isinstance(value, bool) else value}']").check()
    elif kind == "enum_list":
        if not value:
            control.locator("input[value='']").check()
        for v in value:
            control.locator(f"input[value='{v}']").check()
    elif kind == "county":
        control.locator("select").select_option(value)
    elif kind == "int" and name == "months_at_residence":
        control.locator("input").fill(str(value // 12))
        control.locator("select").select_option(str(value % 12))
    elif kind in ("int", "number"):
        control.locator("input").fill(str(value))
    elif kind == "date":
        y, m, d = value.split("-")
        control.locator("[data-part=year]").fill(y)
        control.locator("[data-part=month]").select_option(str(int(m)))
        control.locator("[data-part=day]").select_option(str(int(d)))
    wait_answer(page)


def shown(page) -> dict:
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('#yl-groups [data-service]')]
        .map(el => [el.dataset.service, {status: el.dataset.status, text: el.textContent}]))""")


def form_cases(n_per_county: int = 2) -> list:
    """YAML cases the form can express: dated, with at most two follow-up fields; a spread over
    counties and statuses."""
    picked = []
    for path in sorted(CASES_DIR.glob("*/*.yaml")):
        chosen = 0
        for case in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            p = case["profile"]
            extra = set(p) - CORE_FIELDS
            if "as_of" not in p or "hukou" not in p or len(extra) > 2:
                continue
            if chosen and not extra and chosen < n_per_county - 1:
                continue   # prefer one case with follow-up questions per county
            picked.append(pytest.param(case, id=f"{path.stem}-{case['name'][:24]}"))
            chosen += 1
            if chosen >= n_per_county:
                break
    return picked


FORM_CASES = form_cases()


def test_enough_form_cases():
    assert len(FORM_CASES) >= 5, "need at least five YAML cases the form can express"


@pytest.mark.parametrize("case", FORM_CASES)
def test_form_filled_by_hand_shows_the_cases_answer(context, server, case):
    profile = case["profile"]
    page = open_checker(context, server, as_of=profile["as_of"])
    wait_ready(page)
    fill_profile(page, profile)
    results = shown(page)
    for sid, want in case["expect"].items():
        assert sid in results, f"{case['name']}: {sid} not shown"
        got = results[sid]
        assert got["status"] == want["status"], f"{case['name']}: {sid} shows {got['status']}, expected {want['status']}"
        if want.get("yuan") and want["status"] in ("eligible", "upcoming"):
            assert f"{want['yuan']:g}" in got["text"], f"{sid}: {want['yuan']} not in {got['text']!r}"
        if want.get("from") and want["status"] == "upcoming":
            y, m, d = map(int, want["from"].split("-"))
            assert f"{y}年{m}月{d}日" in got["text"], f"{sid}: from {want['from']} not in {got['text']!r}"
    assert not page.errors
    assert not context.watch.foreign


# ---------------------------------------------------------------- the API: same JSON as the command line

def cli_answer(profile: dict):
    proc = subprocess.run([sys.executable, "-m", "checker", "check", "-"], input=json.dumps(profile, ensure_ascii=False),
                          capture_output=True, text=True, cwd=ROOT)
    return proc.returncode, (json.loads(proc.stdout) if proc.returncode == 0 else proc.stderr)


def test_evaluate_returns_the_command_lines_json_for_100_profiles(context, server):
    profiles = sample_profiles(100, seed=5)
    with ThreadPoolExecutor(max_workers=2) as pool:
        expected = list(pool.map(cli_answer, profiles))
    page = open_checker(context, server)
    wait_ready(page)
    got = page.evaluate("""async (profiles) => {
        const out = [];
        for (const p of profiles) {
            try { out.push({ok: true, answer: await window.yanglaoChecker.evaluate(p)}); }
            catch (e) { out.push({ok: false, field: e.field, zh: e.zh, en: e.en}); }
        }
        return out;
    }""", profiles)
    assert len(got) == 100
    for profile, (code, want), answer in zip(profiles, expected, got):
        assert code == 0, want
        assert answer["ok"], answer
        assert answer["answer"] == want, f"differs for {profile}"


def test_evaluate_refuses_bad_input_like_the_command_line(context, server):
    page = open_checker(context, server)
    wait_ready(page)
    for bad in ({"birth_date": "1950-02-30"}, {"hukou": "33032"}, {"economic": "rich"}, {"name": "x", "age": 200}):
        code, stderr = cli_answer(bad)
        assert code == 2
        err = page.evaluate("""async (p) => { try { await window.yanglaoChecker.evaluate(p); return null; }
                              catch (e) { return {field: e.field, zh: e.zh, en: e.en}; } }""", bad)
        want = json.loads(checker.check_json(json.dumps(bad)))["error"]
        assert err == want
        assert err["field"] in stderr and err["zh"] in stderr


def test_evaluation_is_fast(context, server):
    page = open_checker(context, server)
    wait_ready(page)
    profiles = sample_profiles(50, seed=9)
    ms = page.evaluate("""async (profiles) => {
        for (const p of profiles.slice(0, 5)) await window.yanglaoChecker.evaluate(p);
        const t = performance.now();
        for (const p of profiles) await window.yanglaoChecker.evaluate(p);
        return (performance.now() - t) / profiles.length;
    }""", profiles)
    assert ms < 50, f"{ms:.1f} ms per evaluation"


# ---------------------------------------------------------------- offline after one visit, nothing sent

def test_offline_after_one_visit_and_nothing_leaves_the_site(browser, built_site, tmp_path):
    own = tmp_path / "site"            # this test rebuilds the service worker: its own copy
    shutil.copytree(built_site, own)
    built_site = own
    srv = SiteServer(built_site)
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
    watch = Watch(ctx, srv.url)
    try:
        page = ctx.new_page()
        page.goto(srv.url + "checker/")
        wait_ready(page)
        fill_profile(page, {"hukou": "330324", "birth_date": "1936-05-04", "economic": "dibao"})
        assert any(r["status"] == "eligible" for r in shown(page).values())
        # the service worker registers once the checker is ready, precaches the guide, and keeps the
        # checker's heavy files (Pyodide, stdlib, wheel) because this page asks it to
        page.wait_for_selector("html[data-offline-cached~='checker']", state="attached", timeout=READY_TIMEOUT)
        cache = page.evaluate("""async () => {
            const reg = await navigator.serviceWorker.ready;
            const names = await caches.keys();
            const name = names.find(n => n.startsWith('yanglao-'));
            const keys = name ? (await (await caches.open(name)).keys()).map(r => r.url) : [];
            return {active: !!reg.active, name, keys};
        }""")
        sw = (built_site / "sw.js").read_text(encoding="utf-8")
        precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", sw, re.S).group(1))
        groups = json.loads(re.search(r"const GROUPS = (\{.*?\});", sw, re.S).group(1))
        wanted = {srv.url + (u if u != "./" else "") for u in precache + groups["checker"]}
        assert cache["active"] and wanted <= set(cache["keys"]), sorted(wanted - set(cache["keys"]))[:5]
        # of the screening page's files, only its small extra stdlib (the visit list's export, issue 14)
        assert all("/screen-stdlib-" in k for k in cache["keys"] if "/assets/screen/py/" in k)
        first_visit_log = list(srv.log)

        # a new build (one page changed) replaces the old cache as a whole
        about = next(p for p in sorted(built_site.rglob("index.html")) if p.parent != built_site)
        about.write_text(about.read_text(encoding="utf-8") + "<!-- rebuilt -->", encoding="utf-8")
        new_cache = offline.build(built_site)["cache"]
        assert new_cache != cache["name"]
        page.evaluate("navigator.serviceWorker.getRegistration().then(r => r.update())")
        wait_until(page, """async (name) => {
            const names = (await caches.keys()).filter(n => n.startsWith('yanglao-'));
            if (!(names.length === 1 && names[0] === name)) return false;
            const keys = (await (await caches.open(name)).keys()).map(r => r.url);
            return keys.some(k => k.includes('/assets/pyodide/')) && keys.some(k => k.includes('__offline_group__/checker'));
        }""", new_cache)
        first_visit_log = list(srv.log)

        srv.stop()
        ctx.set_offline(True)
        page.reload()
        wait_ready(page)
        fill_profile(page, {"hukou": "330783", "birth_date": "1940-01-02", "economic": "tekun"})
        assert any(r["status"] == "eligible" for r in shown(page).values())
        county = checker.engine().catalogue["counties"]["330324"]
        page.goto(srv.url + county["url"])
        assert county["name"] in page.locator("h1").first.inner_text()
        service = county["services"][0]
        page.goto(srv.url + service["url"])
        assert service["name"] in page.content()
        page.goto(srv.url)
        assert page.locator("h1").count() >= 1
    finally:
        ctx.close()
        srv.stop()

    assert not watch.foreign, f"requests to other hosts: {watch.foreign}"
    for r in watch.requests:
        assert r["url"].startswith(srv.url) or r["url"].startswith(("data:", "blob:")), r["url"]
        assert r["method"] == "GET" and not r["post"], r
    # Every request the server saw asks for a file of the build, with no query string and no body:
    # the set of possible requests is fixed before any profile is typed, so none can carry one.
    for entry in first_visit_log:
        assert entry["method"] in ("GET", "HEAD") and not entry["body"], entry
        assert "?" not in entry["path"] and "#" not in entry["path"], f"a query reached the server: {entry['path']}"
        rel = entry["path"].lstrip("/")
        rel = rel + "index.html" if rel == "" or rel.endswith("/") else rel
        assert (built_site / rel).is_file(), f"not a file of the build: {entry['path']}"


def test_a_guide_page_alone_makes_the_guide_offline_without_downloading_pyodide(browser, built_site):
    srv = SiteServer(built_site)
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
    watch = Watch(ctx, srv.url)
    try:
        county = checker.engine().catalogue["counties"]["330783"]
        page = ctx.new_page()
        page.goto(srv.url + county["url"])
        n_precache = len(json.loads(re.search(r"const PRECACHE = (\[.*?\]);", (built_site / "sw.js").read_text(encoding="utf-8"), re.S).group(1)))
        wait_until(page, """async (n) => { const r = await navigator.serviceWorker.getRegistration();
                                  if (!(r && r.active && navigator.serviceWorker.controller)) return false;
                                  const name = (await caches.keys()).find(k => k.startsWith('yanglao-'));
                                  return !!name && (await (await caches.open(name)).keys()).length >= n; }""", n_precache)
        assert not [e for e in srv.log if "/assets/pyodide/" in e["path"] or "/assets/checker/py/" in e["path"]]
        srv.stop()
        ctx.set_offline(True)
        service = county["services"][-1]
        page.goto(srv.url + service["url"])
        assert service["name"] in page.content()
        page.goto(srv.url + "checker/")     # the checker page itself opens, and says it cannot start
        page.wait_for_selector(".yl-status--failed", timeout=READY_TIMEOUT)
        assert "没能启动查询程序" in page.inner_text("#yl-status")
    finally:
        ctx.close()
        srv.stop()
    assert not watch.foreign


def test_share_link_carries_the_answers_in_the_fragment_only(context, server):
    page = open_checker(context, server, as_of="2026-11-23")
    wait_ready(page)
    fill_profile(page, {"hukou": "330324", "birth_date": "1936-05-04", "economic": "dibao"})
    before = {k: v["status"] for k, v in shown(page).items()}
    page.click("#yl-share")
    link = page.input_value("#yl-share-link")
    assert link.startswith(server.url + "checker/#") and "?" not in link
    assert "hukou=330324" in link and "birth_date=1936-05-04" in link
    n_log = len(server.log)
    other = open_checker(context, server, hash_part=link.split("/checker/", 1)[1], as_of="2026-11-23")
    wait_ready(other)
    wait_answer(other)
    after = {k: v["status"] for k, v in shown(other).items()}
    assert after == before
    assert all("1936" not in e["path"] and "#" not in e["path"] for e in server.log[n_log:])


def test_hukou_elsewhere_living_in_a_catalogue_county(context, server):
    """户籍 outside the catalogue (其他地方), living in 慈溪: 慈溪's services for residents only."""
    page = open_checker(context, server, as_of="2026-11-23")
    wait_ready(page)
    fill_profile(page, {"hukou": "330106", "residence": "330282", "birth_date": "1941-03-15"})
    got = {k: v["status"] for k, v in shown(page).items()}
    want = checker.check({"as_of": "2026-11-23", "hukou": "330106", "residence": "330282", "birth_date": "1941-03-15"})
    assert got == {r["service"]: r["status"] for r in want["results"]}
    assert "other" not in page.inner_text("#yl-results")


def test_keyboard_only(context, server):
    page = open_checker(context, server, as_of="2026-11-23")
    wait_ready(page)
    page.focus("[data-field=hukou] select")
    codes = sorted(checker.engine().catalogue["counties"])   # form.json lists counties by code
    page.keyboard.press("ArrowDown")          # first county in the list
    page.keyboard.press("Tab")                # 年
    page.keyboard.type("1936")
    page.keyboard.press("Tab")                # 月
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")                # 日
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")                # 年龄 (skipped: disabled once the date is whole)
    page.keyboard.press("Space")              # 住在户籍所在县
    assert page.is_checked("input[name=yl-residence_where][value=same]")
    page.keyboard.press("Tab")                # 家庭经济状况: first choice
    page.keyboard.press("ArrowRight")         # → 低保
    assert page.is_checked("input[name=yl-economic][value=dibao]")
    wait_answer(page)
    assert page.evaluate("document.querySelector('[data-field=hukou] select').value") == codes[0]
    assert len(shown(page)) > 0


# ---------------------------------------------------------------- when Pyodide cannot start

def test_plain_message_when_pyodide_cannot_start(browser, server):
    ctx = browser.new_context(viewport=PHONE, locale="zh-CN")
    ctx.route("**/pyodide.asm.wasm", lambda route: route.abort())
    try:
        page = ctx.new_page()
        page.goto(server.url + "checker/")
        page.wait_for_selector(".yl-status--failed", timeout=READY_TIMEOUT)
        text = page.inner_text("#yl-status")
        assert "没能启动查询程序" in text
        links = page.eval_on_selector_all("#yl-status a", "els => els.map(a => a.getAttribute('href'))")
        urls = {server.url + c["url"] for c in checker.engine().catalogue["counties"].values()}
        assert urls <= set(links)
        # the form is still there to read, and says why nothing is computed
        assert page.locator("[data-field=hukou] select").is_visible()
    finally:
        ctx.close()


# ---------------------------------------------------------------- look: sizes, screenshots, the printed card

def test_large_controls_and_no_sideways_scroll(context, server):
    page = open_checker(context, server, as_of="2026-11-23")
    wait_ready(page)
    fill_profile(page, {"hukou": "330324", "birth_date": "1936-05-04", "economic": "dibao"})
    small = page.evaluate("""() => [...document.querySelectorAll('#yl-checker select, #yl-checker input[type=text], #yl-checker .yl-choice, #yl-checker button:not([hidden])')]
        .filter(el => el.offsetParent)
        .map(el => [el.outerHTML.slice(0, 80), el.getBoundingClientRect().height])
        .filter(([, h]) => h < 48)""")
    assert not small, small
    tiny = page.evaluate("""() => [...document.querySelectorAll('#yl-checker label, #yl-checker legend, #yl-checker p, #yl-checker .yl-result')]
        .filter(el => el.offsetParent && parseFloat(getComputedStyle(el).fontSize) < 18)
        .map(el => el.outerHTML.slice(0, 80))""")
    assert not tiny, tiny
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    unlabeled = page.evaluate("""() => [...document.querySelectorAll('#yl-checker input, #yl-checker select')]
        .filter(el => el.type !== 'hidden' && !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
        .map(el => el.outerHTML.slice(0, 80))""")
    assert not unlabeled, unlabeled
    assert page.get_attribute("#yl-summary", "aria-live") == "polite"
    text = page.inner_text("#yl-checker")
    assert "姓名" not in text.replace("不用填姓名", "") and "身份证号" not in text.replace("也不用填身份证号", "")


def test_screenshots_and_printed_card(browser, server):
    SHOTS.mkdir(parents=True, exist_ok=True)
    for name, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        ctx = browser.new_context(viewport=viewport, device_scale_factor=1, locale="zh-CN")
        try:
            page = open_checker(ctx, server, as_of="2026-11-23")
            page.screenshot(path=str(SHOTS / f"{name}-empty.png"), full_page=True)
            wait_ready(page)
            fill_profile(page, {"hukou": "330324", "birth_date": "1936-05-04", "economic": "dibao", "care_level": "moderate"})
            page.screenshot(path=str(SHOTS / f"{name}-results.png"), full_page=True)
            page.locator("#yl-results").screenshot(path=str(SHOTS / f"{name}-results-only.png"))
            if name == "phone":
                pdf = SHOTS / "mingbaika.pdf"
                page.pdf(path=str(pdf), format="A4", print_background=True, prefer_css_page_size=True)
        finally:
            ctx.close()
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"Pages:\s+1\b", info), info
    assert re.search(r"Page size:\s+59[45](\.\d+)? x 84[12]", info), info
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "养老服务明白卡" in text and "高龄津贴" in text and "0577-67266075" in text
    assert "回答几个问题" not in text and "户籍（户口）在哪个县" not in text   # the form itself is not printed
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "80", str(pdf), str(SHOTS / "mingbaika")], check=True)


# ---------------------------------------------------------------- reliability audit 2026-11-29 (3.1-3.3, 3d)

CSP_HOOK = """window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
    (e) => window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));"""


def test_with_the_content_security_policy_the_checker_and_screening_work_without_violations(browser, server, tmp_path):
    """Every page carries a CSP <meta> (only the site itself); in Chromium the checker still answers,
    screening still runs and downloads its result, and no page reports a violation."""
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
    ctx.add_init_script(CSP_HOOK)
    console = []
    try:
        page = open_checker(ctx, server, "#hukou=330324&birth_date=1936-05-04&economic=dibao", as_of="2026-11-23")
        page.on("console", lambda m: console.append(m.text))
        wait_ready(page)
        wait_answer(page)
        assert any(r["status"] == "eligible" for r in shown(page).values())
        policy = page.get_attribute("meta[http-equiv=Content-Security-Policy]", "content")
        assert policy.startswith("default-src 'self';") and "unsafe-inline" not in policy
        assert page.get_attribute("meta[name=referrer]", "content") == "no-referrer"
        assert page.evaluate("window.__cspViolations") == []

        register = tmp_path / "登记表.csv"
        register.write_text("姓名,出生日期,户籍\r\n王英,1940-05-01,永嘉县\r\n张华,1930-01-01,慈溪市\r\n", encoding="utf-8")
        screen = ctx.new_page()
        screen.on("console", lambda m: console.append(m.text))
        screen.goto(server.url + "screen/")
        screen.wait_for_selector("body[data-screen-ready]", timeout=READY_TIMEOUT)
        screen.set_input_files("#ys-file", str(register))
        with screen.expect_download(timeout=READY_TIMEOUT) as download:
            screen.click("#ys-start")
        assert Path(download.value.path()).stat().st_size > 0
        assert screen.evaluate("window.__cspViolations") == []

        county = checker.engine().catalogue["counties"]["330324"]
        for url in ("", county["url"], county["services"][0]["url"], "search/", "glossary/", "compare/", "no-such-page/"):
            other = ctx.new_page()
            other.on("console", lambda m: console.append(m.text))
            other.goto(server.url + url)
            other.wait_for_load_state("load")
            assert other.evaluate("window.__cspViolations") == [], url
            other.close()
    finally:
        ctx.close()
    assert not [m for m in console if "Content Security Policy" in m], console


def test_share_link_ignores_keys_that_are_not_fields(context, server):
    """3.1: constructor, toString, __proto__ … are properties of every object, not form fields."""
    hostile = "&constructor=x&toString=y&hasOwnProperty=1&__proto__=z&valueOf=2&__defineGetter__=a"
    page = open_checker(context, server, "#hukou=330324&birth_date=1936-05-04" + hostile, as_of="2026-11-23")
    wait_ready(page)
    wait_answer(page)
    want = checker.check({"as_of": "2026-11-23", "hukou": "330324", "birth_date": "1936-05-04"})
    assert {k: v["status"] for k, v in shown(page).items()} == {r["service"]: r["status"] for r in want["results"]}
    assert "不认识的字段" not in page.inner_text("#yl-checker")


def test_a_share_link_opened_in_an_open_checker_is_followed(context, server):
    """3.2: only the fragment changes (a link opened in the same tab): the form follows it."""
    page = open_checker(context, server, as_of="2026-11-23")
    wait_ready(page)
    page.evaluate("location.hash = 'hukou=330324&birth_date=1936-05-04&economic=dibao'")
    want = checker.check({"as_of": "2026-11-23", "hukou": "330324", "birth_date": "1936-05-04", "economic": "dibao"})
    statuses = {r["service"]: r["status"] for r in want["results"]}
    # the hashchange handler starts the answer some time after the hash is set (under CI's load more
    # than wait_answer's 150 ms): wait until an answer is drawn, then for it to settle
    wait_until(page, "(n) => document.querySelectorAll('#yl-groups [data-service]').length === n", len(statuses))
    wait_answer(page)
    assert {k: v["status"] for k, v in shown(page).items()} == statuses
    assert page.input_value("[data-part=year]") == "1936"
    page.evaluate("location.hash = 'hukou=330783&birth_date=1940-01-02'")     # a second link replaces the first
    want = checker.check({"as_of": "2026-11-23", "hukou": "330783", "birth_date": "1940-01-02"})
    wait_until(page, "(ids) => ids.every((id) => document.querySelector(`#yl-groups [data-service='${id}']`))",
               [r["service"] for r in want["results"]])
    wait_answer(page)
    assert {k: v["status"] for k, v in shown(page).items()} == {r["service"]: r["status"] for r in want["results"]}
    page.evaluate("location.hash = 'mb-main'")     # an in-page link (the skip link) keeps the answers
    wait_answer(page)
    assert {k: v["status"] for k, v in shown(page).items()} == {r["service"]: r["status"] for r in want["results"]}
    assert page.input_value("[data-part=year]") == "1940"


# ---------------------------------------------------------------- a large catalogue: a county when it is named

def test_a_large_catalogue_fetches_only_the_counties_a_profile_names(built_site, browser, tmp_path):
    """Above ALL_AT_START_BELOW (the national catalogue: build.json all_at_start false) the worker
    starts from the catalogue's index alone and fetches a county's entry when a profile first names
    it (boot.mjs startCatalogue): no other county's entry is asked for, the answer is the whole
    catalogue's, and an entry that cannot be fetched is said in plain words, never answered empty."""
    site = tmp_path / "site"
    shutil.copytree(built_site, site)
    config_path = site / "assets" / "checker" / "build.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config.update(all_at_start=False, build=config["build"] + "-large")
    config_path.write_text(json.dumps(config), encoding="utf-8")
    form_path = site / "assets" / "checker" / "form.json"
    form = json.loads(form_path.read_text(encoding="utf-8"))
    assert "county_on_demand" not in form          # today's catalogue: every county at the start
    form["county_on_demand"] = True                # as site_build/checker_assets.py writes it then
    form_path.write_text(json.dumps(form, ensure_ascii=False), encoding="utf-8")
    index = json.loads((site / "assets" / "checker" / config["catalogue"]).read_text(encoding="utf-8"))["index"]
    dongyang = next(c for c, b in index.items() if b["name"] == "东阳市")
    (site / index[dongyang]["file"]).unlink()          # as if the phone were offline for this one
    srv = SiteServer(site)
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN", service_workers="block")
    try:
        page = open_checker(ctx, srv)
        wait_ready(page)

        files = {"/" + b["file"]: code for code, b in index.items()}

        def entries():   # the county entries asked for, but the start-up snapshot's test profile's (worker.mjs PROBE)
            return [files[e["path"]] for e in srv.log if e["path"] in files and files[e["path"]] != "330324"]
        assert entries() == []
        # the page says, beside its promise that nothing is sent, that the county is asked for
        note = page.locator("#yl-on-demand")
        assert note.is_visible() and "知道查的是哪个县" in note.inner_text()
        profiles = [{"as_of": "2026-11-23", "hukou": "330922", "birth_date": "1940-03-01"},
                    {"as_of": "2026-11-23", "hukou": "330922", "residence": "330282", "age": 88, "economic": "dibao"},
                    {"as_of": "2026-11-23", "hukou": "330922", "age": 70}]
        got = page.evaluate("""async (profiles) => {
            const out = [];
            for (const p of profiles) out.push(await window.yanglaoChecker.evaluate(p));
            return out;
        }""", profiles)
        assert entries() == ["330922", "330282"]
        for profile, answer in zip(profiles, got):
            assert answer == json.loads(json.dumps(checker.check(profile), ensure_ascii=False)), profile
        refused = page.evaluate("""async (p) => {
            try { await window.yanglaoChecker.evaluate(p); return null; }
            catch (e) { return {field: e.field, zh: e.zh}; }
        }""", {"as_of": "2026-11-23", "hukou": dongyang, "age": 80})
        assert refused and refused["field"] == "hukou" and "没有下载下来" in refused["zh"], refused
        assert not page.errors
    finally:
        ctx.close()
        srv.stop()
