"""The build's processes end fast without losing their output or exit code (site_build/exit.py), the
caches are pruned at most hourly (site_build/cache.py prune_due), and a big JSON is read with the
cycle collector paused and put back as it was (checker/catalogue.py read_json)."""
from __future__ import annotations

import gc
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from checker.catalogue import read_json
from site_build import cache

ROOT = Path(__file__).resolve().parent.parent


def run(code: str, *args, **kw):
    return subprocess.run([sys.executable, *(["-c", code] if code else []), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, **kw)


@pytest.mark.parametrize("code, out, err, rc", [
    (0, "块缓冲的输出", "", 0),
    (2, "块缓冲的输出", "", 2),
    (None, "块缓冲的输出", "", 0),
    ("目录有错误", "块缓冲的输出", "目录有错误", 1),
])
def test_hard_exit_keeps_the_output_and_the_exit_code(code, out, err, rc):
    # stdout to a pipe is block-buffered: without the flush the line would be lost
    done = run("import logging, sys\n"
               "from site_build.exit import hard_exit\n"
               "logging.basicConfig(stream=sys.stderr, format='%(message)s')\n"
               "logging.getLogger('x').warning('日志')\n"
               f"print({out!r}, end='')\n"
               f"hard_exit({code!r})\n")
    assert (done.stdout, done.returncode) == (out, rc), done
    assert "日志" in done.stderr and err in done.stderr and "Traceback" not in done.stderr


def test_mkdocs_run_through_hard_exit_keeps_its_exit_code(tmp_path):
    done = run("", "-m", "site_build.exit", "mkdocs", "build", "-f", str(tmp_path / "missing.yml"))
    assert done.returncode == 2 and "missing.yml" in done.stderr, done
    done = run("", "-m", "site_build.exit", "mkdocs", "--version")
    assert done.returncode == 0 and "mkdocs" in done.stdout.lower(), done
    done = run("", "-m", "site_build.exit")
    assert done.returncode == 2 and "usage" in done.stderr


def test_a_cache_is_pruned_at_most_once_in_every_period(tmp_path):
    store = cache.Cache(tmp_path / "c", ".html")
    old = tmp_path / "old.html"
    old.write_text("x")
    for key in ("aa" * 32, "bb" * 32):
        store.put(key, old, {})
        meta = store.folder / key[:2] / f"{key}.json"
        os.utime(meta, (time.time() - 2 * cache.PRUNE_AFTER,) * 2)
    store.used.clear()
    assert store.prune(every=3600) == 2            # first prune: both unused for two days
    store.put("cc" * 32, old, {})
    meta = store.folder / "cc" / f"{'cc' * 32}.json"
    os.utime(meta, (time.time() - 2 * cache.PRUNE_AFTER,) * 2)
    store.used.clear()
    assert store.prune(every=3600) == 0            # pruned a moment ago: not again this hour
    assert store.prune() == 1                      # asked without `every`: now
    marker = store.folder / ".pruned"
    os.utime(marker, (time.time() - 3601,) * 2)
    assert cache.prune_due(store.folder) and not cache.prune_due(store.folder)


def test_read_json_puts_the_collector_back_as_it_was():
    assert gc.isenabled()
    assert read_json('{"a": [1, {"b": null}]}') == {"a": [1, {"b": None}]}
    assert gc.isenabled()
    with pytest.raises(ValueError):
        read_json("{broken")
    assert gc.isenabled()
    gc.disable()
    try:
        read_json("[]")
        assert not gc.isenabled()
    finally:
        gc.enable()
