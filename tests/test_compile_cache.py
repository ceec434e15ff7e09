"""The catalogue compile cache (site_build/catalogue.py, issue 17): a warm compile gives the same
catalogue.json byte for byte as a cold one and as one without the cache; a one-county edit parses
only that county's file; problems are reported exactly as without the cache; MB_BUILD_CACHE=off."""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from site_build import catalogue as loader
from site_build.catalogue import CatalogueError, compile_catalogue, load_catalogue, write_compiled

ROOT = Path(__file__).resolve().parent.parent


def _text(catalogue) -> str:
    return json.dumps(catalogue, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@pytest.fixture
def work(tmp_path):
    """A copy of catalogue/'s counties and sources (shared.yaml is always the project's)."""
    cat = tmp_path / "catalogue"
    for county in loader.county_files():
        (cat / county.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(county, cat / county.parent.name / county.name)
    shutil.copytree(loader.SEEDS_DIR, cat / "sources")
    return cat


@pytest.fixture
def parsed(monkeypatch):
    """The county files parsed (read_yaml called on them) since the last clear()."""
    seen: list = []
    real = loader.read_yaml

    def counting(path, data=None):
        if "sources" not in Path(path).parts and Path(path).name != "shared.yaml":
            seen.append(Path(path).name)
        return real(path, data)

    monkeypatch.setattr(loader, "read_yaml", counting)
    return seen


def _edit(path: Path, old: str, new: str):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_warm_compile_is_byte_identical_and_parses_nothing(work, tmp_path, parsed):
    cache = tmp_path / "cache"
    cold = _text(load_catalogue(work, cache))
    assert len(parsed) == 5 and loader.last_compile == {"files": 5, "parsed": 5}
    parsed.clear()
    warm = _text(load_catalogue(work, cache))
    assert parsed == [] and loader.last_compile["parsed"] == 0
    assert warm == cold == _text(load_catalogue(work, None))
    # and as the build writes it: compile_catalogue joins the cached counties' JSON as it is
    plain = write_compiled(load_catalogue(work, None), tmp_path / "plain.json").read_bytes()
    assert write_compiled(load_catalogue(work, cache), tmp_path / "a.json").read_bytes() == plain
    assert compile_catalogue(tmp_path / "b.json", work, cache).read_bytes() == plain   # warm
    assert compile_catalogue(tmp_path / "c.json", work, tmp_path / "other").read_bytes() == plain   # cold
    assert compile_catalogue(tmp_path / "d.json", work, None).read_bytes() == plain


def test_one_county_edit_parses_only_that_file(work, tmp_path, parsed):
    cache = tmp_path / "cache"
    before = load_catalogue(work, cache)
    _edit(work / "hunan" / "huitong.yaml", "yuan: 300", "yuan: 301")   # one amount (not its text)
    parsed.clear()
    after = load_catalogue(work, cache)
    assert parsed == ["huitong.yaml"]
    assert _text(after) == _text(load_catalogue(work, None)) != _text(before)
    changed = [code for code in before["counties"] if before["counties"][code] != after["counties"][code]]
    assert [after["counties"][c]["file"].rsplit("/", 1)[-1] for c in changed] == ["huitong.yaml"]


def test_a_source_document_edit_reparses_its_county(work, tmp_path, parsed):
    cache = tmp_path / "cache"
    load_catalogue(work, cache)
    meta = next((work / "sources" / "zhejiang" / "shengsi").glob("*.yaml"))
    compared = next(line for line in meta.read_text(encoding="utf-8").splitlines() if line.startswith("compared:"))
    _edit(meta, compared, 'compared: "2026-01-02"')
    parsed.clear()
    after = load_catalogue(work, cache)
    assert parsed == ["shengsi.yaml"]
    assert after["counties"]["330922"]["document"]["compared"] == "2026-01-02"
    assert _text(after) == _text(load_catalogue(work, None))


def test_the_loader_version_is_in_the_key(work, tmp_path, parsed, monkeypatch):
    cache = tmp_path / "cache"
    load_catalogue(work, cache)
    monkeypatch.setattr(loader, "COMPILE_FORMAT", "test")
    parsed.clear()
    load_catalogue(work, cache)
    assert len(parsed) == 5


def _errors(directory, cache) -> str:
    with pytest.raises(CatalogueError) as err:
        load_catalogue(directory, cache)
    return str(err.value)


def test_problems_are_reported_as_without_the_cache(work, tmp_path, parsed):
    cache = tmp_path / "cache"
    load_catalogue(work, cache)
    stored = len(list(cache.glob("*/*.county")))
    # a problem in one file, an exclusion naming an unknown service (a check across files, in a file
    # that is fine by itself), and a second county with the same code (also across files)
    _edit(work / "zhejiang" / "dongyang.yaml", "per: month", "per: monthly")
    _edit(work / "zhejiang" / "yongjia.yaml", '      - {service: "330324-28",',
          '      - {service: "330324-nowhere", text: x}\n      - {service: "330324-28",')
    (work / "zz").mkdir()
    (work / "zz" / "cixi.yaml").write_text((work / "zhejiang" / "cixi.yaml").read_text(encoding="utf-8")
                                            .replace("province_slug: zhejiang", "province_slug: zz"), encoding="utf-8")
    shutil.copytree(work / "sources" / "zhejiang" / "cixi", work / "sources" / "zz" / "cixi")
    expected = _errors(work, None)
    assert "dongyang.yaml" in expected and "330324-nowhere" in expected and "is already used by" in expected
    parsed.clear()
    assert _errors(work, cache) == expected
    assert sorted(parsed) == ["cixi.yaml", "dongyang.yaml", "yongjia.yaml"]
    parsed.clear()
    assert _errors(work, cache) == expected      # warm: the broken file is parsed again, never stored
    assert parsed == ["dongyang.yaml"]
    # yongjia and zz/cixi are fine by themselves: stored; dongyang is not
    assert len(list(cache.glob("*/*.county"))) == stored + 2


def test_build_cache_off(work, tmp_path, parsed, monkeypatch):
    monkeypatch.setenv("MB_BUILD_CACHE", "off")
    monkeypatch.chdir(tmp_path)
    first = _text(load_catalogue(work))
    parsed.clear()
    assert _text(load_catalogue(work)) == first
    assert len(parsed) == 5
    monkeypatch.setenv("MB_BUILD_CACHE", str(tmp_path / "here"))
    assert _text(load_catalogue(work)) == first
    assert len(list((tmp_path / "here" / "catalogue").glob("*/*.county"))) == 5


def test_a_damaged_entry_is_made_again(work, tmp_path, parsed):
    cache = tmp_path / "cache"
    cold = _text(load_catalogue(work, cache))
    for entry in cache.glob("*/*.county"):
        os.chmod(entry, 0o644)
        entry.write_bytes(b"not a pickle")
    parsed.clear()
    assert _text(load_catalogue(work, cache)) == cold
    assert len(parsed) == 5
    parsed.clear()
    assert _text(load_catalogue(work, cache)) == cold and parsed == []


def test_unused_entries_are_pruned_after_a_day(work, tmp_path):
    cache = tmp_path / "cache"
    load_catalogue(work, cache)
    old = set(cache.glob("*/*.json"))
    _edit(work / "hunan" / "huitong.yaml", "yuan: 300", "yuan: 301")
    day_ago = time.time() - 2 * 24 * 3600
    for meta in old:
        os.utime(meta, (day_ago, day_ago))
    load_catalogue(work, cache)
    now = set(cache.glob("*/*.json"))
    assert len(now) == 5 and len(now - old) == 1 and len(old - now) == 1   # the old huitong entry went
    assert len(list(cache.glob("*/*.county"))) == 5


def test_write_compiled_touches_an_unchanged_file_and_rewrites_a_changed_one(tmp_path):
    out = tmp_path / "c.json"
    write_compiled({"a": "x"}, out)
    past = time.time() - 100
    os.utime(out, (past, past))
    write_compiled({"a": "x"}, out)
    assert out.stat().st_mtime > past + 50 and out.read_text(encoding="utf-8") == '{"a":"x"}'
    write_compiled({"a": "y"}, out)                # the same size, other bytes
    assert out.read_text(encoding="utf-8") == '{"a":"y"}'
    write_compiled({"a": "页"}, out)
    assert out.read_text(encoding="utf-8") == '{"a":"页"}'
