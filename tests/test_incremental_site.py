"""`python -m site_build` on a kept site folder (issue 17; site_build/state.py): after one county's
edit, the incremental build redraws only the pages that read that county, and leaves every file of
the site folder byte-identical to a clean build of the edited catalogue.

A copy of the project (its files as they are in the working tree) with a two-county catalogue is
built three times: whole, again after one amount of 慈溪 changed (on the kept folder), and whole
from nothing with the edited catalogue. Takes 1–3 minutes (mkdocs, the wheel, offline,
precompression; the precompressed files are shared with the project's build/precompress/)."""
from __future__ import annotations

import filecmp
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COUNTIES = (("zhejiang", "cixi"), ("hunan", "huitong"))
OLD = "amount: {hours: 3, per: month, text: 每月3小时免费居家养老服务}"
NEW = "amount: {hours: 4, per: month, text: 每月4小时免费居家养老服务}"

pytestmark = pytest.mark.skipif(not (ROOT / "node_modules" / "pyodide").is_dir(),
                                reason="node_modules/pyodide missing: run scripts/setup.sh")


def project_copy(dest: Path) -> Path:
    """The project's tracked files as they are now, with a catalogue of COUNTIES only."""
    names = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, names):
        src = ROOT / name
        if name.startswith("catalogue/") and name.count("/") >= 2 and not name.startswith("catalogue/reviews/"):
            parts = name.split("/")
            keep = (parts[1], Path(parts[2]).stem) in COUNTIES if parts[1] != "sources" else \
                len(parts) < 4 or (parts[2], parts[3]) in COUNTIES
            if not keep:
                continue
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    for link in ("node_modules", ".venv"):
        (dest / link).symlink_to(ROOT / link)
    (dest / "build").mkdir()
    if (ROOT / "build" / "precompress").is_dir():       # content-addressed: safe to share
        (dest / "build" / "precompress").symlink_to(ROOT / "build" / "precompress")
    if (ROOT / "build" / "stdlib-pyc").is_dir():
        shutil.copytree(ROOT / "build" / "stdlib-pyc", dest / "build" / "stdlib-pyc")
    return dest


def build(project: Path, site: Path, *args) -> str:
    # MB_CATALOGUE: the copy's own compiled catalogue (as without it), so that words.yaml's words may
    # be missing from two counties' pages (site_build.search: require_words)
    env = dict(os.environ, MB_SITE_DIR=str(site), PYTHONHASHSEED="0", NO_MKDOCS_2_WARNING="1",
               MB_CATALOGUE=str(project / "checker" / "catalogue.json"))
    env.pop("MB_BUILD_CACHE", None)
    done = subprocess.run([sys.executable, "-m", "site_build", "--no-pdf", *args], cwd=project, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


def drawn(log: str) -> tuple[int, int, int]:
    import re
    m = re.search(r"site_build: (\d+) pages drawn, (\d+) from the cache, (\d+) left as they were", log)
    assert m, log[-2000:]
    return tuple(map(int, m.groups()))


def edit(project: Path):
    path = project / "catalogue" / "zhejiang" / "cixi.yaml"
    text = path.read_text(encoding="utf-8")
    assert text.count(OLD) == 1, "慈溪's amount moved: update this test"
    path.write_text(text.replace(OLD, NEW), encoding="utf-8")


def files(site: Path) -> set:
    return {p.relative_to(site).as_posix() for p in site.rglob("*") if p.is_file()}


def test_one_county_edited_on_a_kept_folder_equals_a_clean_build(tmp_path):
    project = project_copy(tmp_path / "project")
    site = tmp_path / "site"
    first = drawn(build(project, site))
    assert first[2] == 0 and first[0] > 50

    again = build(project, site)                       # nothing changed: nothing drawn
    assert drawn(again) == (0, 0, first[0] + first[1])

    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in site.rglob("*.html")}
    edit(project)
    log = build(project, site)
    n_drawn, _, kept = drawn(log)
    # a page whose bytes the edit does not change is left as it was, even one that reads every county
    # (its inputs changed, its content did not): the later steps do not take it for a new page
    same = [p for p, (data, _) in before.items() if p.is_file() and p.read_bytes() == data
            and p.name != "404.html"]     # the theme's 404 page: mkdocs writes it on every build (4 KB)
    touched = [p.relative_to(site).as_posix() for p in same if p.stat().st_mtime_ns != before[p][1]]
    assert len(same) > 50 and not touched, f"pages rewritten with the same bytes: {touched[:10]}"
    # 慈溪's own pages and the pages of every county (comparisons, its province, glossary …); 会同's kept
    assert 0 < n_drawn < first[0] and kept > 0
    state = next((project / "build" / "cache" / "state").glob("*.json"))
    assert json.loads(state.read_text(encoding="utf-8"))["pages"]["keys"], "the record lists every page's key"

    clean = project_copy(tmp_path / "clean")
    edit(clean)
    clean_site = tmp_path / "clean-site"
    build(clean, clean_site)
    a, b = files(site), files(clean_site)
    assert a == b, f"only in the kept folder: {sorted(a - b)[:10]}; only in the clean one: {sorted(b - a)[:10]}"
    differ = [name for name in sorted(a) if not filecmp.cmp(site / name, clean_site / name, shallow=False)]
    assert not differ, f"{len(differ)} files differ from a clean build: {differ[:10]}"
    assert "每月4小时" in (site / "zhejiang" / "cixi" / "home-care" / "index.html").read_text(encoding="utf-8")
