"""What the handouts read, and the incremental build that relies on it (site_build/handouts.py):

  - every PDF job reads only the counties handouts.county_keys names for its county (Site.related),
    and every page's print footer only the counties of its Page.deps (the counties' data traced,
    tests/tracing.py; the booklet's service numbers, Handouts.number_of, are made from its own
    county's services only, which the tracer cannot see);
  - build(previous=…) leaves the PDFs of unchanged counties alone without rendering them, renders
    the changed county's, prints only the PDFs whose key changed, removes those of jobs that are
    gone, and leaves a site folder byte-identical to a clean build's (handouts.json too); a new
    character changes the font subset, and then every PDF.

The builds print with a stand-in for Chromium (a "PDF" that hashes the handout's HTML and fonts)
and a stand-in font subset (the characters' list): they test what is printed and kept, not
printing (tests/test_incremental.py prints).
"""
from __future__ import annotations

import copy
import hashlib
import os
from pathlib import Path

import pytest

from checker.catalogue import load_catalogue
from site_build import handouts, state
from tests.tracing import reads, traced_views

CIXI, SHENGSI = "330282", "330922"
SERVICE = "330282-home-care"


def _catalogue(*codes) -> dict:
    catalogue = copy.deepcopy(load_catalogue())
    if codes:
        catalogue["counties"] = {c: catalogue["counties"][c] for c in codes}
    return catalogue


def _traced(catalogue) -> handouts.Handouts:
    with traced_views():
        return handouts.Handouts(catalogue, base="/")


def _check_jobs(h) -> int:
    checked = 0
    for job in handouts.jobs(h, ready=False):
        county = job.context["county"]
        with reads() as read:
            job.ready()
            h.render(job.template, job=job, fonts=None, page_of={}, **job.context)
        deps = set(h.site.related(county))
        assert read <= deps, f"{job.url} reads {sorted(read - deps)}, not in {sorted(deps)}"
        assert county["code"] in read
        checked += 1
    return checked


def test_every_handout_reads_only_its_countys_dependencies():
    h = _traced(_catalogue())
    assert _check_jobs(h) > 100


def test_a_county_excluding_another_countys_service():
    """An `excludes` joins two counties: the 核对表 of each names the other's service."""
    catalogue = _catalogue()
    a, b = catalogue["counties"][CIXI], catalogue["counties"][SHENGSI]
    a["services"][0].setdefault("excludes", []).append({"service": b["services"][0]["id"], "text": "不能同时享受"})
    h = _traced(catalogue)
    assert _check_jobs(h) > 100
    assert SHENGSI in h.site.related(a) and CIXI in h.site.related(b)


def test_the_lazy_rules_job_is_print_jobs():
    h = handouts.Handouts(_catalogue(CIXI), base="/")
    county = h.site.counties[0]
    lazy, eager = handouts.rules_job(h, county), handouts.rule_sheets.print_job(h, county)
    assert "body" not in lazy.context
    lazy.ready()
    assert (lazy.kind, lazy.url, lazy.title, lazy.template) == (eager.kind, eager.url, eager.title, eager.template)
    assert lazy.context == eager.context


def test_every_footer_reads_only_its_pages_deps():
    h = _traced(_catalogue())
    handouts._page_source(h, "")          # its index of pages by address (from the shared fields)
    checked = 0
    for page in h.site.pages.values():
        with reads() as read:
            line, _short = handouts._page_source(h, page.url)
            h.render("_page_foot.html", address=h.url(page.url), line=line)
        if page.deps is not None:
            assert read <= set(page.deps), f"{page.url}'s footer reads {sorted(read - set(page.deps))}"
            checked += 1
    for url in ("", "search/", "about/", "checker/", "screen/"):     # hand-written pages: no county
        with reads() as read:
            handouts._page_source(h, url)
        assert not read
    assert checked > 100


def test_county_keys_change_with_the_county_and_those_joined_to_it():
    catalogue = _catalogue()
    inputs = handouts.inputs_digest()
    before = handouts.county_keys(handouts.Handouts(catalogue, base="/"), inputs)
    edited = copy.deepcopy(catalogue)
    edited["counties"][CIXI]["services"][0]["summary"] += "。"
    after = handouts.county_keys(handouts.Handouts(edited, base="/"), inputs)
    assert {c for c in before if before[c] != after[c]} == {CIXI}
    a, b = edited["counties"][SHENGSI], edited["counties"][CIXI]
    a["services"][0].setdefault("excludes", []).append({"service": b["services"][0]["id"], "text": "不能同时享受"})
    joined = handouts.county_keys(handouts.Handouts(edited, base="/"), inputs)
    assert {c for c in before if before[c] != joined[c]} == {CIXI, SHENGSI}
    other = handouts.county_keys(handouts.Handouts(catalogue, base="https://example.org/"), inputs)
    assert not set(before.values()) & set(other.values())


# ------------------------------------------------------------ build(previous=…) with stand-ins


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """Stand-ins for the fonts and Chromium; counts what is printed."""
    printed: list = []

    def fonts(text, work, folder):
        names = {}
        for weight in handouts.NOTO:
            names[weight] = f"mbsans-{weight}.ttf"
            (work / names[weight]).write_text("".join(sorted(set(text))), encoding="utf-8")
        return names

    def print_jobs(h, todo, fonts, work, site_dir, workers, done):
        if not todo:
            return
        font_bytes = b"".join((work / fonts[w]).read_bytes() for w in sorted(fonts))
        for job in todo:
            html = h.render(job.template, job=job, fonts=fonts, page_of={}, **job.context)
            data = b"%PDF " + hashlib.sha256(html.encode() + font_bytes).hexdigest().encode()
            out = site_dir / job.url
            out.parent.mkdir(parents=True, exist_ok=True)
            out.with_name(".tmp").write_bytes(data)
            os.replace(out.with_name(".tmp"), out)
            printed.append(job.url)
            done(job, {"pages": 1, "bytes": len(data), "fit": 0, "seconds": 0.0})

    inputs = handouts.inputs_digest()     # held: other work on the code meanwhile must not re-key the builds
    monkeypatch.setattr(handouts, "inputs_digest", lambda: inputs)
    monkeypatch.setattr(handouts, "cached_fonts", fonts)
    monkeypatch.setattr(handouts, "print_jobs", print_jobs)
    monkeypatch.setattr(handouts, "TIMES", tmp_path / "times.json")
    monkeypatch.setenv("MB_BUILD_CACHE", str(tmp_path / "cache"))
    return printed


def _build(tmp_path, site, catalogue, previous=None):
    h = handouts.Handouts(catalogue, base="/")
    done = handouts.build(tmp_path / site, log=lambda *a: None, previous=previous, h=h, work=tmp_path / "work")
    return done, handouts.last_record


def _files(site: Path) -> dict:
    """{path: (bytes, inode, mtime)} of every file."""
    out = {}
    for p in sorted(site.rglob("*")):
        if p.is_file():
            st = p.stat()
            out[p.relative_to(site).as_posix()] = (p.read_bytes(), st.st_ino, st.st_mtime_ns)
    return out


def _previous(site: Path, record) -> dict:
    """What state.begin gives the next build: the site folder's files and the handouts' record."""
    return {"files": state.scan(site), "handouts": record}


def _same_as_clean(tmp_path, name, catalogue, site, record):
    clean, clean_record = _build(tmp_path, name, catalogue)
    a = {k: v[0] for k, v in _files(tmp_path / site).items()}
    b = {k: v[0] for k, v in _files(tmp_path / name).items()}
    assert a == b
    assert record == clean_record
    return clean


def test_an_unchanged_build_renders_and_touches_nothing(tmp_path, fake):
    catalogue = _catalogue(CIXI, SHENGSI)
    done, record = _build(tmp_path, "site", catalogue)
    assert len(fake) == len(done) > 10 and all(j.rendered for j in done)
    before = _files(tmp_path / "site")
    fake.clear()
    again, record2 = _build(tmp_path, "site", catalogue, _previous(tmp_path / "site", record))
    assert not fake and not any(j.rendered for j in again) and all(j.reused for j in again)
    assert _files(tmp_path / "site") == before          # bytes, inodes, mtimes: not even linked again
    assert record2 == record
    assert [(j.url, j.pages, j.bytes) for j in again] == [(j.url, j.pages, j.bytes) for j in done]


def test_one_amount_renders_one_county_and_prints_what_shows_it(tmp_path, fake):
    catalogue = _catalogue(CIXI, SHENGSI)
    _done, record = _build(tmp_path, "site", catalogue)
    before = _files(tmp_path / "site")
    edited = copy.deepcopy(catalogue)
    service = next(s for s in edited["counties"][CIXI]["services"] if s["id"] == SERVICE)
    service["amount"] = {**service["amount"], "hours": 4, "text": "每月4小时免费居家养老服务"}
    fake.clear()
    done, record2 = _build(tmp_path, "site", edited, _previous(tmp_path / "site", record))
    cixi = {j.url for j in done if j.context["county"]["code"] == CIXI}
    assert {j.url for j in done if j.rendered} == cixi
    county = edited["counties"][CIXI]["url"]
    assert set(fake) == {service["url"] + "mingbaika.pdf", county + "booklet.pdf", county + "rules.pdf"}
    after = _files(tmp_path / "site")
    touched = {k for k in after if after[k] != before.get(k)}
    assert touched - {"handouts.json"} == set(fake)
    _same_as_clean(tmp_path, "clean", edited, "site", record2)


def test_a_new_character_outside_gb2312_reprints_everything(tmp_path, fake):
    catalogue = _catalogue(CIXI, SHENGSI)
    _done, record = _build(tmp_path, "site", catalogue)
    edited = copy.deepcopy(catalogue)
    assert "赟" not in record["chars"] + "".join(c for _k, c in record["counties"].values())
    assert handouts.font_extras("赟") == "赟"           # in GBK, not in GB 2312 (a name's character)
    edited["counties"][CIXI]["services"][0]["summary"] += "（赟）"
    fake.clear()
    done, record2 = _build(tmp_path, "site", edited, _previous(tmp_path / "site", record))
    assert set(fake) == {j.url for j in done}             # the fonts changed: every PDF
    assert record2["fonts"] != record["fonts"]
    _same_as_clean(tmp_path, "clean", edited, "site", record2)


def test_a_new_character_within_gb2312_reprints_only_what_shows_it(tmp_path, fake):
    """The fonts hold all of GB 2312 (handouts.base_chars): a character no handout had before, but
    within it, leaves the fonts and every PDF that does not show it as they were."""
    catalogue = _catalogue(CIXI, SHENGSI)
    _done, record = _build(tmp_path, "site", catalogue)
    edited = copy.deepcopy(catalogue)
    assert "鑫" not in record["chars"] + "".join(c for _k, c in record["counties"].values())
    assert handouts.font_extras("鑫县A，") == ""
    edited["counties"][CIXI]["services"][0]["summary"] += "（鑫）"
    fake.clear()
    done, record2 = _build(tmp_path, "site", edited, _previous(tmp_path / "site", record))
    assert record2["fonts"] == record["fonts"]
    cixi = {j.url for j in done if j.context["county"]["code"] == CIXI}
    assert fake and set(fake) <= cixi and len(fake) < len(cixi)
    _same_as_clean(tmp_path, "clean", edited, "site", record2)


def test_gone_and_damaged_pdfs(tmp_path, fake):
    """A form dropped: its PDF goes. A PDF changed or removed in site/ since: placed again from the cache."""
    catalogue = _catalogue(CIXI, SHENGSI)
    _done, record = _build(tmp_path, "site", catalogue)
    previous = _previous(tmp_path / "site", record)
    edited = copy.deepcopy(catalogue)
    form = edited["counties"][CIXI]["forms"].pop()
    gone = handouts.form_url(edited["counties"][CIXI], form)
    assert (tmp_path / "site" / gone).is_file()
    shengsi = edited["counties"][SHENGSI]
    booklet = tmp_path / "site" / handouts.booklet_url(shengsi)
    booklet.unlink()
    card = tmp_path / "site" / handouts.card_url(shengsi["services"][0])
    card.unlink()
    card.write_bytes(b"changed")
    fake.clear()
    done, record2 = _build(tmp_path, "site", edited, previous)
    assert not fake                                       # nothing new to print: the rest is in the cache
    assert not (tmp_path / "site" / gone).exists() and booklet.is_file() and card.read_bytes() != b"changed"
    assert not any(j.rendered for j in done if j.context["county"]["code"] == SHENGSI)
    _same_as_clean(tmp_path, "clean", edited, "site", record2)


def test_an_old_or_missing_record_builds_like_a_clean_build(tmp_path, fake):
    catalogue = _catalogue(CIXI)
    _done, record = _build(tmp_path, "site", catalogue)
    for old in (None, {}, {**record, "format": "0"}):
        done, _ = _build(tmp_path, "site", catalogue, {"files": state.scan(tmp_path / "site"), "handouts": old})
        assert all(j.rendered for j in done)
    _same_as_clean(tmp_path, "clean", catalogue, "site", record)


def test_footers_go_only_into_the_pages_named(tmp_path):
    h = handouts.Handouts(_catalogue(CIXI), base="/")
    page = "<html><head></head><body>x</body></html>"
    for rel in ("index.html", "a/index.html", "b/index.html"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(page, encoding="utf-8")
    assert handouts.stamp_pages(tmp_path, h, {"a/index.html", "a/x.js"}) == 1
    assert "mb-print-foot" in (tmp_path / "a/index.html").read_text(encoding="utf-8")
    assert (tmp_path / "b/index.html").read_text(encoding="utf-8") == page
    assert handouts.stamp_pages(tmp_path, h) == 2


def test_an_emptied_folder_with_the_record_renders_only_what_changed(tmp_path, fake):
    """The page structure changed, the hooks emptied site/: given the handouts' record with no files,
    the unchanged counties' PDFs are placed from the cache by their recorded keys, not rendered."""
    catalogue = _catalogue(CIXI, SHENGSI)
    _done, record = _build(tmp_path, "site", catalogue)
    edited = copy.deepcopy(catalogue)
    edited["counties"][CIXI]["services"][0]["summary"] += "。"
    fake.clear()
    (tmp_path / "empty").mkdir()
    done, record2 = _build(tmp_path, "empty", edited, {"files": {}, "handouts": record})
    assert {j.url for j in done if j.rendered} == {j.url for j in done if j.context["county"]["code"] == CIXI}
    assert len(fake) == 2             # the service's 明白卡 and the booklet (the 核对表 does not show a summary)
    _same_as_clean(tmp_path, "clean", edited, "empty", record2)
