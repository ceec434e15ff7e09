"""The search index written incrementally (site_build/search.py write_index): after an edit of one
county it is byte for byte what a build from nothing writes (no cache, an empty folder), it writes
only the files whose bytes change (the others keep their modification time), removes the index
files it no longer writes, and its bytes do not depend on Python's hash seed."""
from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from site_build import catalogue as loader
from site_build import pages
from site_build import search as site_search

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def catalogue():
    return loader.load_catalogue()


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def cache(cache_dir, monkeypatch):
    """One search cache for the tests of this file (each writes into its own folder, and the cache
    keys what it holds by its inputs)."""
    monkeypatch.setenv("MB_BUILD_CACHE", str(cache_dir))
    return cache_dir


def files_of(folder: Path) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def times_of(folder: Path) -> dict:
    return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}


def from_nothing(catalogue, folder: Path) -> dict:
    """The index of `catalogue` written with no cache into an empty folder."""
    cache = os.environ.get("MB_BUILD_CACHE")
    os.environ["MB_BUILD_CACHE"] = "off"
    try:
        site_search.write_index(pages.Site(catalogue), folder)
    finally:
        os.environ["MB_BUILD_CACHE"] = cache
    return files_of(folder)


def a_service(catalogue, test):
    for code in sorted(catalogue["counties"]):
        for s in catalogue["counties"][code]["services"]:
            if test(s):
                return s
    raise AssertionError("no such service")


def more_money(cat):
    s = a_service(cat, lambda s: (s.get("amount") or {}).get("text") and not s["amount"].get("changes"))
    s["amount"]["text"] += "，另加每月50元"


def new_words(cat):
    a_service(cat, lambda s: s.get("what"))["what"] += "另有量子纠缠补贴。"


def fewer_words(cat):
    a_service(cat, lambda s: len(s.get("what") or "") > 20)["what"] = ""


def new_summary(cat):   # a document's row (d<k>.json) and its words
    a_service(cat, lambda s: True)["summary"] = "律师免费帮老人打官司"


def older(cat):
    def bump(s):
        for c in s["conditions"]:
            if isinstance(c.get("age"), dict) and c["age"].get("min") == 80:
                c["age"]["min"] = 90
                return True
        return False
    a_service(cat, bump)


def renamed(cat):       # the documents' order may change: then assembled whole
    a_service(cat, lambda s: True)["name"] += "（新）"


def added(cat):         # one more document: assembled whole
    county = cat["counties"][sorted(cat["counties"])[0]]
    s = copy.deepcopy(county["services"][0])
    s.update(id=s["id"] + "-new", slug=s["slug"] + "-new", url=s["url"][:-1] + "-new/", name="新加的服务")
    county["services"].append(s)


# (edit, whether only the county's part is redone)
EDITS = [(more_money, True), (new_words, True), (fewer_words, True), (new_summary, True), (older, None),
         (renamed, None), (added, False)]


@pytest.mark.parametrize("edit,incremental", EDITS, ids=[e.__name__ for e, _ in EDITS])
def test_an_edit_gives_the_bytes_of_a_build_from_nothing(catalogue, cache, tmp_path, edit, incremental):
    out = tmp_path / "site" / "search"
    first = site_search.write_index(pages.Site(catalogue), out)
    assert first["whole"] and first["written"] == len(list(out.iterdir()))
    again = site_search.write_index(pages.Site(catalogue), out)
    assert not again["whole"] and again["written"] == 0 and again["made"] == 0
    before, times = files_of(out), times_of(out)

    edited = copy.deepcopy(catalogue)
    edit(edited)
    stats = site_search.write_index(pages.Site(edited), out)
    after = files_of(out)
    assert after == from_nothing(edited, tmp_path / "fresh")
    if incremental is not None:
        assert stats["whole"] is not incremental
    if incremental:
        assert stats["made"] == 1          # the edited county's part, nothing else
    changed = {name for name in after if after[name] != before.get(name)}
    assert changed and stats["written"] == len(changed)
    assert {name for name, t in times_of(out).items() if t != times.get(name)} == changed

    # and back: the first index again
    site_search.write_index(pages.Site(catalogue), out)
    assert files_of(out) == before


def test_the_index_is_written_and_read_the_same(catalogue, cache, tmp_path):
    """write_index's word shards (written from each word's own JSON) are what encode() gives for
    build_index's content."""
    site = pages.Site(catalogue)
    site_search.write_index(site, tmp_path / "out")
    files = site_search.build_index(site)
    assert files_of(tmp_path / "out") == {name: site_search.encode(content) for name, content in files.items()}


def test_files_it_no_longer_writes_are_removed_others_kept(catalogue, cache, tmp_path):
    out = tmp_path / "search"
    site_search.write_index(pages.Site(catalogue), out)
    shards = json.loads((out / "meta.json").read_text(encoding="utf-8"))["term_shards"]
    stale = [f"t{shards}.json", f"t{shards}.json.br", f"t{shards}.json.gz", "d999.json", "d999.json.gz"]
    for name in stale + ["index.html", "meta.json.br"]:
        (out / name).write_text("x", encoding="utf-8")
    stats = site_search.write_index(pages.Site(catalogue), out)
    assert stats["removed"] == len(stale)
    assert not any((out / name).exists() for name in stale)
    assert (out / "index.html").exists() and (out / "meta.json.br").exists()   # the search page; precompress's


def test_a_file_changed_behind_its_back_is_written_again(catalogue, cache, tmp_path):
    out = tmp_path / "search"
    site_search.write_index(pages.Site(catalogue), out)
    before = files_of(out)
    (out / "t0.json").write_text("{}", encoding="utf-8")
    (out / "d0.json").unlink()
    stats = site_search.write_index(pages.Site(catalogue), out)
    assert stats["whole"] and stats["made"] == 0 and stats["written"] == 2
    assert files_of(out) == before


def test_the_bytes_do_not_depend_on_the_hash_seed(catalogue, tmp_path):
    """Each run from nothing (its own empty cache) under another PYTHONHASHSEED."""
    source = tmp_path / "catalogue.json"
    source.write_text(json.dumps(catalogue, ensure_ascii=False), encoding="utf-8")
    script = ("import json, sys; from pathlib import Path; from site_build import pages, search; "
              "cat = json.loads(Path(sys.argv[1]).read_text(encoding='utf-8')); "
              "search.write_index(pages.Site(cat), Path(sys.argv[2]))")
    outs = []
    for seed in ("0", "1"):
        out = tmp_path / f"seed{seed}"
        env = dict(os.environ, PYTHONHASHSEED=seed, MB_BUILD_CACHE=str(tmp_path / f"cache{seed}"))
        subprocess.run([sys.executable, "-c", script, str(source), str(out)], cwd=ROOT, env=env, check=True)
        outs.append(files_of(out))
    assert outs[0] == outs[1] and len(outs[0]) > 3


def renamed_to_anothers_words(catalogue):
    """The first county's first service renamed to four Chinese characters of the last county's first
    service's summary: (county codes, that other service, the name, the edited catalogue)."""
    codes = sorted(catalogue["counties"])
    other = catalogue["counties"][codes[-1]]["services"][0]
    name = next(other["summary"][i:i + 4] for i in range(len(other["summary"]))
                if all("\u4e00" <= ch <= "\u9fff" for ch in other["summary"][i:i + 4]))
    edited = copy.deepcopy(catalogue)
    edited["counties"][codes[0]]["services"][0]["name"] = name
    return codes, other, name, edited


def test_a_new_name_recuts_the_other_counties_texts_that_hold_it(catalogue, cache, tmp_path):
    """A service renamed to words another county's text holds: jieba is given the new name, so that
    text is cut anew (a part is kept only while none of its texts holds a word given to jieba then
    or now, not both); the rest is reused."""
    out = tmp_path / "search"
    site_search.write_index(pages.Site(catalogue), out)
    codes, other, name, edited = renamed_to_anothers_words(catalogue)
    stats = site_search.write_index(pages.Site(edited), out)
    assert files_of(out) == from_nothing(edited, tmp_path / "fresh")
    assert 2 <= stats["made"] < len(codes) + 1
    index = site_search.load_index(out)
    number = [d[0] for d in index["docs"]].index(other["url"])
    assert any(p >> 1 == number for p in index["terms"][name.lower()])   # the other county's text, cut anew


def test_the_token_cache_keeps_the_cuts_of_texts_that_hold_no_new_name(catalogue, tmp_path, monkeypatch):
    """With no parts left (and no state), the texts come from the token cache: a text cut before a
    name was given to jieba is reused if it does not hold the name, else cut again."""
    monkeypatch.setenv("MB_BUILD_CACHE", str(tmp_path / "cache"))
    codes, other, name, edited = renamed_to_anothers_words(catalogue)
    site_search.write_index(pages.Site(catalogue), tmp_path / "first")
    shutil.rmtree(tmp_path / "cache" / "search" / "parts")
    for state in (tmp_path / "cache" / "search").glob("index-*.pickle"):
        state.unlink()
    site_search.write_index(pages.Site(edited), tmp_path / "out")
    assert files_of(tmp_path / "out") == from_nothing(edited, tmp_path / "fresh")
