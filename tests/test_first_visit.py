"""What makes the checker's first visit fast on a slow line (issue 15, bench/served.py): the page
preloads the big files its worker needs, and the standard library ships as bytecode. That the
preloaded files are then downloaded once is checked through nginx (tests/test_nginx.py); that the
bytecode gives the same answers as CPython, in Node (tests/test_checker_node.py, which runs the
stdlib build_py writes)."""
from __future__ import annotations

import json
import os
import shutil
import zipfile
from pathlib import Path

import pytest

from site_build import checker_assets

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("MB_SITE_DIR") or ROOT / "site")


def test_checker_page_preloads_its_workers_big_files_before_its_stylesheets():
    page = SITE / "checker" / "index.html"
    if not page.is_file():
        pytest.skip("the site is not built: run `make site`")
    html = page.read_text(encoding="utf-8")
    config = json.loads((SITE / "assets" / "checker" / "build.json").read_text(encoding="utf-8"))
    links = checker_assets.preloaded(html)
    want = {(Path("assets/checker") / rel).as_posix() for rel, _ in checker_assets.preload_files(config)}
    got = {os.path.normpath(Path("checker") / href) for href, _ in links}
    assert got == {os.path.normpath(w) for w in want}
    for href, _ in links:
        assert (page.parent / href).resolve().is_file(), href
    assert html.index(checker_assets.PRELOAD_MARK) < html.index('rel="stylesheet"')
    assert html.count(checker_assets.PRELOAD_MARK) == 2


def test_preload_is_idempotent(tmp_path):
    page = tmp_path / "checker" / "index.html"
    page.parent.mkdir()
    page.write_text('<html><head><link rel="stylesheet" href="a.css">\n</head></html>', encoding="utf-8")
    config = {"pyodide": {"index": "../pyodide/1/"}, "stdlib": "py/s.zip", "lock": "py/l.json"}
    for _ in range(2):
        checker_assets.preload(tmp_path, "checker/index.html", "assets/checker/", config)
    html = page.read_text(encoding="utf-8")
    assert html.count(checker_assets.PRELOAD_MARK) == 2
    assert checker_assets.preloaded(html) == [["../assets/pyodide/1/pyodide.asm.wasm", "fetch"]]


@pytest.mark.skipif(not shutil.which("node"), reason="no node")
def test_the_shipped_stdlib_is_bytecode_and_the_traced_one_source(tmp_path):
    files = checker_assets.build_py(tmp_path / "shipped")
    with zipfile.ZipFile(tmp_path / "shipped" / files["stdlib"]) as zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
    keep = checker_assets.stdlib_keep()
    assert sorted(n[:-1] if n.endswith(".pyc") else n for n in names) == sorted(keep)
    assert not [n for n in names if n.endswith(".py")]
    # a trace's stdlib keeps the sources (it records the files' names)
    files = checker_assets.build_py(tmp_path / "traced", keep=keep[:3])
    with zipfile.ZipFile(tmp_path / "traced" / files["stdlib"]) as zf:
        assert sorted(n for n in zf.namelist() if not n.endswith("/")) == sorted(keep[:3])
