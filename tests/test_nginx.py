"""The site as a county would serve it: the build's precompressed files (site_build/precompress.py),
and Debian's nginx with deploy/nginx.conf (fixture `nginx_server` in conftest.py).

- precompression is lossless, reproducible, and leaves out what does not pay;
- over HTTP: types, the precompressed bytes for each Accept-Encoding, cache headers by kind of file,
  the security headers on every response (404 included), a header policy that agrees with each
  page's <meta> policy;
- in Chromium through nginx: the first visit to the checker downloads exactly the precompressed
  bytes, no page, worker or service worker reports a CSP violation, the checker answers as the
  command line does, batch screening starts, a second page reuses the immutable files without asking
  and revalidates the rest, and after one visit the guide and the checker work offline.
"""
from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import urllib.error
import urllib.request

import brotli
import pytest

import checker
from site_build import offline, precompress
from site_build.checker_assets import sample_profiles

PHONE = {"width": 390, "height": 844}
READY_TIMEOUT = 120_000
IMMUTABLE = "public, max-age=31536000, immutable"


# ---------------------------------------------------------------- precompression

def test_precompression_is_lossless_reproducible_and_only_where_it_pays(tmp_path):
    site = tmp_path / "site"
    (site / "a").mkdir(parents=True)
    text = ("<p>养老服务明白卡 " * 400).encode()
    (site / "a" / "index.html").write_bytes(text)
    (site / "tiny.json").write_text('{"a": 1}', encoding="utf-8")            # too small to pay
    (site / "noise.js").write_bytes(os.urandom(4096))                         # does not compress
    (site / "logo.png").write_bytes(text)                                     # never: already compressed
    (site / "noise.js.br").write_bytes(b"left by an older build")
    first = precompress.build(site, cache=tmp_path / "cache")
    assert first["compressed"] == 1 and first["skipped"] == 2
    br, gz = (site / "a" / "index.html.br").read_bytes(), (site / "a" / "index.html.gz").read_bytes()
    assert brotli.decompress(br) == text and gzip.decompress(gz) == text
    assert len(br) < len(text) * precompress.MAX_RATIO
    assert not (site / "tiny.json.br").exists() and not (site / "noise.js.gz").exists()
    assert not (site / "noise.js.br").exists(), "a stale .br that no longer pays is removed"
    assert not (site / "logo.png.br").exists()
    src_mtime = (site / "a" / "index.html").stat().st_mtime_ns
    assert (site / "a" / "index.html.br").stat().st_mtime_ns == src_mtime   # same Last-Modified for every encoding
    # the same bytes again, from the cache and without it
    again = tmp_path / "again"
    (again / "a").mkdir(parents=True)
    (again / "a" / "index.html").write_bytes(text)
    precompress.build(again, cache=None)
    assert (again / "a" / "index.html.br").read_bytes() == br
    assert (again / "a" / "index.html.gz").read_bytes() == gz
    precompress.build(site, cache=tmp_path / "cache")
    assert (site / "a" / "index.html.br").read_bytes() == br
    # handouts.json (no page reads it, every edit rewrites it) is compressed fast, not at quality 11
    (site / "handouts.json").write_bytes(text)
    precompress.build(site, cache=tmp_path / "cache")
    fast = (site / "handouts.json.br").read_bytes()
    assert brotli.decompress(fast) == text and fast == brotli.compress(text, quality=5, lgwin=22) != br


def test_the_built_site_is_precompressed_and_every_copy_is_its_source(site_dir):
    must = ["index.html", "checker/index.html", "assets/checker/form.js", "assets/site.css", "sw.js",
            "assets/pyodide/*/pyodide.asm.wasm", "assets/pyodide/*/pyodide.asm.mjs",
            "assets/checker/py/python_stdlib-*.zip", "assets/checker/py/*/*.whl", "search/d0.json"]
    for pattern in must:
        found = list(site_dir.glob(pattern))
        assert found, pattern
        for path in found:
            assert path.with_name(path.name + ".br").is_file(), f"{path} has no .br: run `make site`"
            assert path.with_name(path.name + ".gz").is_file(), f"{path} has no .gz"
    for packed in list(site_dir.rglob("*.br")) + list(site_dir.rglob("*.gz")):
        source = packed.with_suffix("")
        if packed.name == "sitemap.xml.gz":
            continue
        assert source.is_file(), f"{packed}: its source is gone"
        decode = brotli.decompress if packed.suffix == ".br" else gzip.decompress
        assert decode(packed.read_bytes()) == source.read_bytes(), f"{packed} is stale"


# ---------------------------------------------------------------- nginx over plain HTTP

def fetch(url: str, encoding: str = "br, gzip", method: str = "GET"):
    request = urllib.request.Request(url, method=method, headers={"Accept-Encoding": encoding})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read()


def one(pattern: str, site) -> str:
    return next(site.glob(pattern)).relative_to(site).as_posix()


def test_types_and_precompressed_bytes_for_each_encoding(nginx_server):
    site, url = nginx_server.site, nginx_server.url
    wasm = one("assets/pyodide/*/pyodide.asm.wasm", site)
    cases = {"checker/": ("text/html; charset=utf-8", "checker/index.html"),
             wasm: ("application/wasm", wasm),
             "assets/checker/worker.mjs": ("text/javascript; charset=utf-8", "assets/checker/worker.mjs"),
             "assets/checker/api.js": ("text/javascript; charset=utf-8", "assets/checker/api.js"),
             "assets/site.css": ("text/css; charset=utf-8", "assets/site.css"),
             "assets/checker/form.json": ("application/json; charset=utf-8", "assets/checker/form.json"),
             one("assets/checker/py/python_stdlib-*.zip", site): ("application/zip", one("assets/checker/py/python_stdlib-*.zip", site))}
    for path, (ctype, rel) in cases.items():
        raw = (site / rel).read_bytes()
        for accept, suffix, enc in (("br, gzip", ".br", "br"), ("gzip", ".gz", "gzip"), ("identity", "", None)):
            status, headers, body = fetch(url + path, accept)
            assert status == 200, (path, accept)
            assert headers["Content-Type"] == ctype, path
            assert headers.get("Content-Encoding") == enc, (path, accept)
            assert body == (site / (rel + suffix)).read_bytes(), (path, accept)
            assert headers["Vary"] == "Accept-Encoding", path
        assert brotli.decompress(fetch(url + path)[2]) == raw
    # a file too small to pay for compression goes as it is, whatever the browser accepts
    status, headers, body = fetch(url + "assets/checker/build.json")
    assert status == 200 and "Content-Encoding" not in headers
    assert body == (site / "assets/checker/build.json").read_bytes()


def test_cache_headers_by_kind_of_file(nginx_server):
    site, url = nginx_server.site, nginx_server.url
    immutable = [one("assets/pyodide/*/pyodide.asm.wasm", site), one("assets/pyodide/*/pyodide.mjs", site),
                 one("assets/checker/py/python_stdlib-*.zip", site), one("assets/checker/py/checker-lock-*.json", site),
                 one("assets/checker/py/*/*.whl", site), one("assets/screen/py/*.zip", site),
                 one("assets/stylesheets/main.*.min.css", site)]
    revalidated = ["", "checker/", "sw.js", "assets/checker/build.json", "assets/checker/form.json",
                   "assets/screen/build.json", "search/meta.json", "search/d0.json", "assets/site.css",
                   "assets/checker/worker.mjs", "assets/offline.js", "no-such-page/"]
    for path in immutable:
        assert fetch(url + path, method="HEAD")[1]["Cache-Control"] == IMMUTABLE, path
    for path in revalidated:
        status, headers, _ = fetch(url + path, method="HEAD")
        assert headers["Cache-Control"] == "no-cache", path
        if status == 200:
            assert headers["ETag"] and headers["Last-Modified"], path
    # revalidation is a small 304, with the same headers: the browser puts them on the page it keeps
    for path in ("checker/", "assets/checker/worker.mjs"):
        status, headers, _ = fetch(url + path)
        request = urllib.request.Request(url + path, headers={"Accept-Encoding": "br", "If-None-Match": headers["ETag"]})
        with pytest.raises(urllib.error.HTTPError) as not_modified:
            urllib.request.urlopen(request, timeout=30)
        assert not_modified.value.code == 304
        for name in ("Cache-Control", "Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"):
            assert not_modified.value.headers[name] == headers[name], (path, name)


def header_policy_expected(html: bool) -> str:
    """What deploy/nginx.conf must send: the pages' policy without per-page hashes (offline.py), plus
    frame-ancestors; for HTML only the directives that do not carry hashes (the <meta> has those)."""
    base = offline.content_security_policy("")
    directives = [d.strip() for d in base.split(";")]
    if html:
        directives = [d for d in directives if d.split()[0] not in ("default-src", "script-src", "style-src")]
    return "; ".join(directives + ["frame-ancestors 'none'"])


def parse_policy(policy: str) -> dict:
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in policy.split(";")) if d}


def test_security_headers_everywhere_and_the_policy_agrees_with_each_pages_meta(nginx_server):
    site, url = nginx_server.site, nginx_server.url
    county = next(iter(checker.engine().catalogue["counties"].values()))
    pages = ["", "checker/", "screen/", "search/", county["url"], county["services"][0]["url"], "no-such-page/"]
    files = ["sw.js", "assets/checker/worker.mjs", "assets/screen/screen-worker.mjs",
             one("assets/pyodide/*/pyodide.asm.wasm", site), "assets/checker/build.json", "assets/site.css"]
    for path in pages + files:
        status, headers, body = fetch(url + path, "identity")
        assert status == (404 if path == "no-such-page/" else 200), path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "no-referrer", path
        permissions = headers["Permissions-Policy"]
        for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
            assert f"{feature}=()" in permissions, (path, feature)
        assert "clipboard-write" not in permissions     # 复制链接 stays allowed
        policy = headers["Content-Security-Policy"]
        html = headers["Content-Type"].startswith("text/html")
        assert policy == header_policy_expected(html), path
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy.replace("wasm-unsafe-eval", "")
        if html:
            # every directive the header names, the page's <meta> names with the same sources
            meta = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', body.decode()).group(1)
            mine, theirs = parse_policy(policy), parse_policy(meta)
            for name, sources in mine.items():
                if name != "frame-ancestors":
                    assert theirs.get(name) == sources, (path, name)
            assert {"default-src", "script-src", "style-src"} <= set(theirs), path
    status, headers, body = fetch(url + "no-such-page/", "identity")
    assert b"<!doctype html>" in body.lower() and (site / "404.html").read_bytes() == body
    assert headers["Server"] == "nginx"                             # no version
    connection = http.client.HTTPConnection("127.0.0.1", nginx_server.port, timeout=30)
    connection.request("GET", "/checker")                            # a folder without its slash
    response = connection.getresponse()
    assert response.status == 301 and response.getheader("Location") == "/checker/"   # no host or port in it
    connection.close()


# ---------------------------------------------------------------- Chromium through nginx

class CspIssues:
    """Content-Security-Policy violations Chromium reports (DevTools "Issues") for a page and for every
    worker and service worker it starts: a worker's violations never reach the page's own listeners."""

    def __init__(self, context, page):
        self.found = []
        self.cdp = context.new_cdp_session(page)
        self.cdp.on("Audits.issueAdded", self._issue)
        self.cdp.on("Target.attachedToTarget", self._attached)
        self.cdp.on("Target.receivedMessageFromTarget", self._message)
        self.cdp.send("Audits.enable")
        self.cdp.send("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": False, "flatten": False})

    def _issue(self, event, where="page"):
        issue = event["issue"]
        if issue["code"] == "ContentSecurityPolicyIssue":
            details = issue["details"]["contentSecurityPolicyIssueDetails"]
            self.found.append((where, details.get("violatedDirective"), details.get("blockedURL"),
                               details.get("sourceCodeLocation", {}).get("url")))

    def _attached(self, event):
        self.cdp.send("Target.sendMessageToTarget", {"sessionId": event["sessionId"],
                                                      "message": json.dumps({"id": 1, "method": "Audits.enable"})})

    def _message(self, event):
        message = json.loads(event["message"])
        if message.get("method") == "Audits.issueAdded":
            self._issue(message["params"], where="worker")


def test_chromium_through_nginx_compressed_bytes_no_violation_answers_and_offline(browser, nginx_server):
    site, url = nginx_server.site, nginx_server.url
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
    foreign = []
    # watched, not routed: Playwright's routing turns off the HTTP cache, through which the checker's
    # worker reuses what its page preloaded (site_build/checker_assets.preload)
    ctx.on("request", lambda request: None if request.url.startswith((url, "data:"))
           else foreign.append(request.url))
    try:
        page = ctx.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        issues = CspIssues(ctx, page)
        nginx_server.clear_log()
        page.goto(url + "checker/")
        page.wait_for_selector("html[data-checker-ready='1']", state="attached", timeout=READY_TIMEOUT)
        first_visit = nginx_server.access_log()

        # the first visit's bytes on the wire are the precompressed files, byte for byte
        assert first_visit, "nginx logged nothing"
        sent = {}
        for entry in first_visit:
            if entry["status"] == 304:      # the service worker revalidating what this visit already has
                continue
            assert entry["status"] == 200, entry
            rel = entry["uri"].lstrip("/")
            rel = rel + "index.html" if rel == "" or rel.endswith("/") else rel
            packed = site / (rel + ".br")
            if packed.is_file():
                assert entry["encoding"] == "br" and entry["bytes"] == packed.stat().st_size, entry
            else:
                assert entry["encoding"] == "" and entry["bytes"] == (site / rel).stat().st_size, entry
            sent[rel] = entry["bytes"]
        # Pyodide's files, the stdlib, the lock, the wheel and the catalogue's index: each downloaded once
        heavy = [e["uri"] for e in first_visit if e["status"] == 200 and e["uri"].startswith(("/assets/pyodide/", "/assets/checker/py/"))]
        assert len(heavy) == len(set(heavy)) == 7, [u for u in heavy if heavy.count(u) > 1]
        # and so is each county's catalogue entry (the worker fetches them all at its start; the
        # service worker's precache asks for the same files: the second is a 304 at most)
        entries = [e["uri"] for e in first_visit if e["status"] == 200 and "/checker-" in e["uri"] and not e["uri"].startswith("/assets/")]
        assert len(entries) == len(set(entries)) == len(checker.engine().by_county), entries
        # … including those the page preloads for its worker (the worker reuses them, no second download)
        preloaded = page.evaluate("[...document.querySelectorAll('link[rel=preload]')].map((l) => new URL(l.href).pathname)")
        assert preloaded and set(preloaded) <= set(heavy), (preloaded, heavy)
        for heavy in ("assets/pyodide/", "assets/checker/py/python_stdlib-", ".whl", "checker/index.html"):
            assert any(heavy in rel and (site / (rel + ".br")).is_file() for rel in sent), heavy

        # the checker answers as the command line does
        profiles = [p for p in sample_profiles(40, seed=15) if "hukou" in p][:5]
        got = page.evaluate("async (ps) => { const out = []; for (const p of ps) out.push(await window.yanglaoChecker.evaluate(p)); return out; }", profiles)
        for profile, answer in zip(profiles, got):
            assert answer == json.loads(checker.check_json(json.dumps(profile)))["answer"], profile
        page.wait_for_selector("html[data-offline-cached~='checker']", state="attached", timeout=READY_TIMEOUT)

        # batch screening starts (its own worker, its own policy from the header)
        screen = ctx.new_page()
        screen_issues = CspIssues(ctx, screen)
        screen.goto(url + "screen/")
        screen.wait_for_selector("body[data-screen-ready]", timeout=READY_TIMEOUT)

        # guide pages; a second page reuses the theme's immutable CSS without asking, and revalidates the rest
        county = checker.engine().catalogue["counties"]["330324"]
        guide = ctx.new_page()
        guide_issues = CspIssues(ctx, guide)
        for path in ("", county["url"], county["services"][0]["url"], "search/", "no-such-page/"):
            guide.goto(url + path)
            guide.wait_for_load_state("load")
        assert not errors, errors
        violations = issues.found + screen_issues.found + guide_issues.found
        assert not violations, violations

        # offline after one visit: nothing reaches nginx, the checker starts and answers, pages open
        nginx_server.clear_log()
        ctx.set_offline(True)
        offline_page = ctx.new_page()
        offline_issues = CspIssues(ctx, offline_page)
        offline_page.goto(url + "checker/")
        offline_page.wait_for_selector("html[data-checker-ready='1']", state="attached", timeout=READY_TIMEOUT)
        answer = offline_page.evaluate("(p) => window.yanglaoChecker.evaluate(p)", profiles[0])
        assert answer == got[0]
        offline_page.goto(url + county["services"][-1]["url"])
        assert county["services"][-1]["name"] in offline_page.content()
        # (the browser's own update check of sw.js may still reach the server: Playwright's offline mode
        # does not cover it, and it is not the page asking)
        assert [e for e in nginx_server.access_log() if e["uri"] != "/sw.js"] == []
        assert not offline_issues.found, offline_issues.found    # pages kept by the service worker, their headers too
    finally:
        ctx.close()
    assert not foreign, foreign


def test_http_cache_without_a_service_worker(browser, nginx_server):
    """The cache headers at work on their own (a browser without service workers, or before it starts):
    a second page sends no request for the immutable theme CSS, and gets 304 for the revalidated ones."""
    url = nginx_server.url
    ctx = browser.new_context(viewport=PHONE, service_workers="block")
    try:
        page = ctx.new_page()
        page.goto(url + "glossary/")
        page.wait_for_load_state("load")
        nginx_server.clear_log()
        page.goto(url + "away/")
        page.wait_for_load_state("load")
        log = {e["uri"]: e for e in nginx_server.access_log()}
    finally:
        ctx.close()
    assert log["/away/"]["status"] == 200
    assert not [u for u in log if u.startswith("/assets/stylesheets/")], log      # immutable: not asked again
    assert log["/assets/site.css"]["status"] == 304, log                            # no-cache: revalidated


# ---------------------------------------------------------------- start-up snapshot (boot.mjs)

SNAPSHOT_CACHE = "checker-start-snapshot"


def open_checker_ready(ctx, url):
    page = ctx.new_page()
    page.goto(url + "checker/")
    page.wait_for_selector("html[data-checker-ready='1']", state="attached", timeout=READY_TIMEOUT)
    return page


def answers(page, profiles):
    return page.evaluate("""async (ps) => { const out = [];
        for (const p of ps) { try { out.push(await window.yanglaoChecker.evaluate(p)); }
                              catch (e) { out.push({error: [e.field, e.zh, e.en]}); } }
        return out; }""", profiles)


def snapshot_entries(page):
    return page.evaluate("""async (name) => { const c = await caches.open(name);
        return (await c.keys()).map(r => new URL(r.url).pathname); }""", SNAPSHOT_CACHE)


def test_start_up_snapshot_gives_the_same_answers_and_any_bad_one_falls_back(browser, nginx_server):
    """The first start on a device stores a compressed snapshot (made before any profile was answered:
    it holds none); the next start restores it and answers a quarter of the YAML cases and 40 generated
    profiles exactly as the normal start did; a snapshot with the wrong test answer, one that is not a
    snapshot, and a damaged one are each deleted, and the start falls back to the normal one."""
    from site_build.checker_assets import case_profiles
    url = nginx_server.site and nginx_server.url
    profiles = case_profiles()[::4] + sample_profiles(40, seed=23)   # ~150 profiles
    ctx = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
    try:
        first = open_checker_ready(ctx, url)
        assert first.evaluate("window.yanglaoChecker.snapshot") == "none"
        first.wait_for_function("() => window.yanglaoChecker.snapshotSaved", timeout=READY_TIMEOUT)
        saved = first.evaluate("window.yanglaoChecker.snapshotSaved")
        assert saved.get("bytes", 0) > 1_000_000, saved
        normal = answers(first, profiles)
        for profile, answer in zip(profiles[:40], normal):
            assert answer == json.loads(checker.check_json(json.dumps(profile)))["answer"], profile
        # the stored copy was made before anything was asked: no profile text in it
        marker = json.dumps(profiles[0], ensure_ascii=False, separators=(",", ":"))
        found = first.evaluate("""async ([name, marker]) => {
            const c = await caches.open(name);
            const key = (await c.keys()).find(r => r.url.includes('/__snapshot__/'));
            const bytes = new Uint8Array(await new Response((await c.match(key)).body
                .pipeThrough(new DecompressionStream('gzip'))).arrayBuffer());
            await c.put(new URL('/__spare__', location.href).href, await c.match(key));   // for the cases below
            const m = new TextEncoder().encode(marker);
            outer: for (let i = 0; i + m.length <= bytes.length; i++) {
                for (let j = 0; j < m.length; j++) if (bytes[i + j] !== m[j]) continue outer;
                return true;
            }
            return false; }""", [SNAPSHOT_CACHE, marker])
        assert found is False
        first.close()

        second = open_checker_ready(ctx, url)
        assert second.evaluate("window.yanglaoChecker.snapshot") == "restored"
        assert answers(second, profiles) == normal
        entries = snapshot_entries(second)
        second.close()
        key = next(e for e in entries if "/__snapshot__/" in e)

        for case in ("a different answer to the test profile", "not a snapshot", "damaged"):
            setup = ctx.new_page()
            setup.goto(url + "glossary/")
            setup.evaluate("""async ([name, key, kind]) => {
                const c = await caches.open(name);
                const spare = await c.match(new URL('/__spare__', location.href).href);
                let bad;
                if (kind === 'not a snapshot') {
                    const zeros = new Blob([new Uint8Array(1 << 20)]).stream().pipeThrough(new CompressionStream('gzip'));
                    bad = new Response(await new Response(zeros).blob(), {headers: spare.headers});
                } else if (kind === 'damaged') {
                    bad = new Response((await spare.blob()).slice(0, 100000), {headers: spare.headers});
                } else {
                    bad = new Response(await spare.blob(), {headers: {'X-Probe': '0'.repeat(64)}});
                }
                await c.delete(new URL(key + '/failed', location.href).href);
                await c.put(new URL(key, location.href).href, bad);
            }""", [SNAPSHOT_CACHE, key, case])
            setup.close()
            page = open_checker_ready(ctx, url)
            assert page.evaluate("window.yanglaoChecker.snapshot") == "none", case
            assert answers(page, profiles[:30]) == normal[:30], case
            left = snapshot_entries(page)
            assert key not in left and key + "/failed" in left, (case, left)
            page.close()
    finally:
        ctx.close()
