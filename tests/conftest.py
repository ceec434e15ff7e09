"""Shared fixtures for tests that open the built site in a real browser.

`site_server`: base URL ("http://127.0.0.1:PORT/") of an http.server serving site/ for the session.
`browser`: Debian's Chromium (/usr/bin/chromium) driven by Playwright, one per session.
`page`: a fresh 390×844 page (a phone) in its own context; it records every request it makes in
`page.requests` (a list of URLs) so a test can check that nothing left the site.
The site must be built first (`make site`, or `make test` which does it); tests skip otherwise.
"""
from __future__ import annotations

import functools
import os
import http.server
import socket
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("MB_SITE_DIR") or ROOT / "site")   # MB_SITE_DIR: test another build
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}


def pytest_sessionstart(session):
    """The checker reads only the compiled JSON: compile it once if the YAML changed since."""
    from checker.catalogue import stale, PACKAGED
    if stale() or not PACKAGED.exists():
        from site_build.catalogue import compile_catalogue
        compile_catalogue()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="session")
def site_dir() -> Path:
    if not (SITE / "index.html").is_file():
        pytest.skip("site/ is not built: run `make site` first")
    return SITE


@pytest.fixture(scope="session")
def site_server(site_dir):
    """Serve site/ on 127.0.0.1 at a free port; yields the base URL ending in '/'."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/setup.sh")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A phone-sized page in a fresh context (empty localStorage); `page.requests` lists every URL requested."""
    context = browser.new_context(viewport=PHONE, device_scale_factor=1, locale="zh-CN")
    pg = context.new_page()
    pg.requests = []
    pg.on("request", lambda request: pg.requests.append(request.url))
    yield pg
    context.close()


# ---------------------------------------------------------------- nginx with the project's configuration

@pytest.fixture(scope="session")
def nginx_server(site_dir, tmp_path_factory):
    """Debian's nginx with deploy/nginx.conf (deploy/serve.py: loopback port, temporary prefix, in the
    foreground) serving a copy of site/, so a rebuild beside the tests cannot change files under it.
    Yields a deploy.serve.Nginx: `.url`, `.access_log()`, `.clear_log()`. Skips when nginx is not
    installed, except under CI (environment variable CI set), where scripts/setup.sh installs it."""
    import os
    import shutil
    from deploy import serve
    copy = tmp_path_factory.mktemp("nginx") / "site"
    shutil.copytree(site_dir, copy, ignore=shutil.ignore_patterns("*.pdf", "*.pdf.br", "*.pdf.gz"))
    try:
        server = serve.start(copy)
    except serve.Missing as err:
        if os.environ.get("CI"):
            pytest.fail(f"{err} (CI: scripts/setup.sh should have installed it)")
        pytest.skip(str(err))
    server.site = copy
    yield server
    server.stop()
