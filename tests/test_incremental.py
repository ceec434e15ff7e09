"""Incremental and parallel PDF builds (issue 17): site_build/handouts.py, site_build/cache.py.

On a one-county fixture catalogue (慈溪: booklet, 核对表, 2 明白卡, 2 forms, the away guide):
  - one printer and two printer processes make byte-identical PDFs;
  - after one amount is changed in the county's YAML, exactly the PDFs that show it get a new key
    and are printed again (the service's 明白卡, the booklet, the 核对表), the rest are reused
    from the cache unchanged;
  - a change to a print template gives a new key to every PDF that uses it, and only those.
Takes about 10 s (Chromium): it prints 7 PDFs three times and one PDF set again.
"""
from __future__ import annotations

import hashlib
import re
import shutil
import zlib
from pathlib import Path

import pytest

from site_build import cache as artefacts
from site_build import handouts
from site_build.catalogue import CATALOGUE_DIR, load_catalogue

COUNTY = ("zhejiang", "cixi")
SERVICE = "330282-home-care"          # amount: {hours: 3, per: month, text: 每月3小时免费居家养老服务}

pytestmark = pytest.mark.skipif(not Path(handouts.CHROMIUM).exists() or not all(
    Path(p).exists() for p, _ in handouts.NOTO.values()), reason="Chromium or Noto Sans CJK missing: run scripts/setup.sh")


def render_all(*args, **kwargs):
    """handouts.render_all in a thread of its own: Playwright's sync API refuses to start in a thread
    whose asyncio loop is running, and the session's `browser` fixture (other test files) keeps one
    running in the main thread."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(handouts.render_all, *args, **kwargs).result()


def fixture_catalogue(folder: Path, edit=None) -> dict:
    """A catalogue of the one county (its YAML and its source documents), optionally edited."""
    province, slug = COUNTY
    (folder / province).mkdir(parents=True, exist_ok=True)
    text = (CATALOGUE_DIR / province / f"{slug}.yaml").read_text(encoding="utf-8")
    if edit:
        text = edit(text)
    (folder / province / f"{slug}.yaml").write_text(text, encoding="utf-8")
    sources = folder / "sources" / province / slug
    if not sources.exists():
        shutil.copytree(CATALOGUE_DIR / "sources" / province / slug, sources)
    return load_catalogue(folder)


def more_hours(text: str) -> str:
    old = "amount: {hours: 3, per: month, text: 每月3小时免费居家养老服务}"
    assert text.count(old) == 1, "the fixture county's amount moved: update this test"
    return text.replace(old, "amount: {hours: 4, per: month, text: 每月4小时免费居家养老服务}")


def sums(site: Path) -> dict:
    return {p.relative_to(site).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(site.rglob("*.pdf"))}


PDF_OBJECT = re.compile(rb"(?m)^(\d+) 0 obj\b(.*?)\bendobj\b", re.S)


def pdf_objects(data: bytes) -> dict:
    """{object number: its bytes} of a PDF written as plain `N 0 obj … endobj` (Chromium's: no
    object streams), with each Flate stream inflated (and its /Length left out) so a difference
    shows as text."""
    out = {}
    for m in PDF_OBJECT.finditer(data):
        body = m.group(2)
        stream = re.search(rb">>\s*stream\r?\n(.*)\r?\nendstream", body, re.S)
        if stream and b"/FlateDecode" in body[:stream.start(1)]:
            try:
                head = re.sub(rb"/Length \d+\s*", b"", body[:stream.start(1)])
                body = head + b"[inflated]" + zlib.decompress(stream.group(1)) + body[stream.end(1):]
            except zlib.error:
                pass
        out[int(m.group(1))] = body
    return out


def pdf_difference(a: bytes, b: bytes, shown: int = 3) -> str:
    """A short object-level diff: sizes, which objects differ or are missing, and for the first
    few the bytes around where they start to differ."""
    first, second = pdf_objects(a), pdf_objects(b)
    differ = sorted(n for n in first.keys() & second.keys() if first[n] != second[n])
    lines = [f"{len(a)} vs {len(b)} bytes, {len(first)} vs {len(second)} objects, {len(differ)} differ: {differ[:20]}"]
    for label, missing in (("only in the first", first.keys() - second.keys()), ("only in the second", second.keys() - first.keys())):
        if missing:
            lines.append(f"{label}: {sorted(missing)[:20]}")
    for n in differ[:shown]:
        x, y = first[n], second[n]
        at = next((i for i in range(min(len(x), len(y))) if x[i] != y[i]), min(len(x), len(y)))
        lines.append(f"object {n} ({len(x)} vs {len(y)} bytes), from byte {at}:\n  {x[max(0, at - 60):at + 100]!r}\n  {y[max(0, at - 60):at + 100]!r}")
    return "\n".join(lines)


def mismatch_report(urls, first: Path, second: Path, keep: Path, works=()) -> str:
    """What differs in each PDF of `urls` between two sites (copies of both kept in `keep`), and
    whether the HTML the two builds printed last for it (in their work folders) differed too."""
    out = []
    for url in urls:
        a, b = (first / url).read_bytes(), (second / url).read_bytes()
        kept = keep / url.replace("/", "__")
        kept.mkdir(parents=True, exist_ok=True)
        (kept / f"1-{first.name}.pdf").write_bytes(a)
        (kept / f"2-{second.name}.pdf").write_bytes(b)
        out.append(f"{url} (both kept in {kept}):\n{pdf_difference(a, b)}")
        if works:
            name = url.replace("/", "__") + ".html"
            html = [(w / name).read_text(encoding="utf-8").splitlines() if (w / name).exists() else None for w in works]
            if None in html:
                out.append(f"  printed HTML: not in {works}")
            elif html[0] == html[1]:
                out.append("  printed HTML: the same in both builds (so Chromium printed it differently)")
            else:
                i = next((i for i, (x, y) in enumerate(zip(*html)) if x != y), min(map(len, html)))
                out.append(f"  printed HTML differs from line {i + 1}:\n  {html[0][i:i + 1]}\n  {html[1][i:i + 1]}")
    return "\n".join(out)


def keys(h: handouts.Handouts) -> dict:
    """{url: key} as render_all computes them (fonts and build version held fixed)."""
    return {job.url: handouts.pdf_key(job, h.render(job.template, job=job, fonts=None, page_of={}, **job.context),
                                      "fonts", "version") for job in handouts.jobs(h)}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The fixture county printed serially into a cache, and again by two printer processes."""
    tmp = tmp_path_factory.mktemp("incremental")
    h = handouts.Handouts(fixture_catalogue(tmp / "catalogue"), base="/")
    # a work folder each: the HTML each build printed last stays, for mismatch_report
    serial = render_all(h, tmp / "serial", work=tmp / "work-serial", workers=1, cache=tmp / "cache" / "pdf",
                        log=lambda *a: None)
    # an empty PDF cache of its own (everything printed again); the fonts come from tmp/cache/fonts
    parallel = render_all(h, tmp / "parallel", work=tmp / "work-parallel", workers=2, cache=tmp / "cache" / "pdf2",
                          log=lambda *a: None)
    assert not any(j.reused for j in parallel)
    return tmp, h, serial


def test_parallel_and_serial_pdfs_are_byte_identical(built, tmp_path):
    tmp, _h, serial = built
    assert len(serial) == 7 and {j.kind for j in serial} == {"booklet", "rules", "card", "form", "away"}
    assert not any(j.reused for j in serial)
    a, b = sums(tmp / "serial"), sums(tmp / "parallel")
    assert len(a) == 7 and a.keys() == b.keys()
    differ = [url for url in a if a[url] != b[url]]
    assert not differ, mismatch_report(differ, tmp / "serial", tmp / "parallel", tmp_path,
                                       works=(tmp / "work-serial", tmp / "work-parallel"))


def test_mismatch_report_names_the_objects_that_differ(tmp_path):
    """What the byte-identical tests print when they fail: the objects that differ and their bytes."""
    def pdf(title, length):
        return (b"%PDF-1.4\n1 0 obj\n<</Title (" + title + b")>>\nendobj\n2 0 obj\n<</Filter /FlateDecode /Length "
                + str(length).encode() + b">> stream\n" + zlib.compress(b"BT /F1 12 Tf (page 3) Tj ET") + b"\nendstream\nendobj\n")
    first, second = tmp_path / "a", tmp_path / "b"
    for site, title in ((first, b"booklet"), (second, b"bookle7")):
        (site / "x").mkdir(parents=True)
        (site / "x" / "booklet.pdf").write_bytes(pdf(title, 9))
    report = mismatch_report(["x/booklet.pdf"], first, second, tmp_path / "kept")
    assert "1 differ: [1]" in report and "from byte 17" in report and "bookle7" in report
    assert (tmp_path / "kept" / "x__booklet.pdf" / "1-a.pdf").read_bytes() == (first / "x" / "booklet.pdf").read_bytes()
    assert pdf_objects(pdf(b"t", 9))[2].endswith(b"[inflated]BT /F1 12 Tf (page 3) Tj ET\nendstream\n")


def test_pdf_normalisation():
    """The printing time and the browser's DOM node numbers do not reach the PDF."""
    pdf = (b"%PDF-1.4\n1 0 obj\n<</ID (node00012345) /H [(node00012345) (node000999999)]>>\nendobj\n"
           b"2 0 obj\n<</CreationDate (D:20261129202639+00'00')>>\nendobj\n")
    xref = len(pdf)
    pdf += (b"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n%010d 00000 n \ntrailer\n<</Size 3>>\n"
            b"startxref\n%d\n%%%%EOF\n" % (pdf.index(b"2 0 obj"), xref))
    out = handouts.normalise_pdf(pdf, "20231228")
    assert b"(node00000001) /H [(node00000001) (node00000002)]" in out
    assert b"(D:20231228000000+00'00')" in out
    # the 9-digit id became 8 digits: object 2 and the table moved one byte, and say so
    start = out.index(b"2 0 obj")
    assert b"%010d 00000 n \n" % start in out
    assert out.rstrip().endswith(b"startxref\n%d\n%%%%EOF" % out.index(b"xref\n"))


def test_pdf_idtree_in_id_order():
    """Chromium lists the IDTree in its DOM node order, which varies between prints of the same page
    (a 明白卡's two header cells came out in either order): normalised, the ids are in their order."""
    def pdf(names: bytes):
        body = (b"%%PDF-1.4\n1 0 obj\n<</T (node00000777) /U (node00000555)>>\nendobj\n"
                b"2 0 obj\n<</Limits [(node00000555) (node00000777)] /Names [%s]>>\nendobj\n" % names)
        xref = len(body)
        return body + (b"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n%010d 00000 n \ntrailer\n<</Size 3>>\n"
                       b"startxref\n%d\n%%%%EOF\n" % (body.index(b"2 0 obj"), xref))
    one = pdf(b"(node00000555) 28 0 R (node00000777) 130 0 R")
    other = pdf(b"(node00000777) 130 0 R (node00000555) 28 0 R")
    a, b = handouts.normalise_pdf(one, "20231228"), handouts.normalise_pdf(other, "20231228")
    assert a == b and len(a) == len(one)
    # 777 appears first in the file: it is 1
    assert b"/Limits [(node00000001) (node00000002)] /Names [(node00000001) 130 0 R (node00000002) 28 0 R]" in a


class FlakyPrinter:
    """Stands in for handouts.Printer: a print is the hash of the HTML loaded, except the prints
    numbered in `odd`, which come out different each time (and, if `moves`, with the page numbers
    moved)."""
    pages = {"330282-home-care": 3, "330282-paid-care": 6}

    def __init__(self, odd=(), moves=False):
        self.odd, self.moves, self.n, self.html = set(odd), moves, 0, b""

    def load(self, path):
        self.html = path.read_bytes()

    def pdf(self, out, date):
        self.n += 1
        data = b"%PDF " + hashlib.sha256(self.html).hexdigest().encode() + (b" odd %d" % self.n if self.n in self.odd else b"")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
        return data

    def found(self, pdf, keys):
        odd = b" odd " in pdf.read_bytes() and self.moves
        return {sid: page + odd for sid, page in self.pages.items()}


@pytest.mark.parametrize("odd, moves, prints", [((), False, 3), ((3,), False, 4), ((2,), True, 5), ((3,), True, 6),
                                                ((2, 4), True, 7)])
def test_a_booklet_is_kept_only_when_two_prints_agree(tmp_path, monkeypatch, odd, moves, prints):
    """print_one keeps a booklet once its page numbers are confirmed and the same HTML printed
    twice gave the same bytes: a print that came out different is printed again, never kept."""
    h = handouts.Handouts(fixture_catalogue(tmp_path / "catalogue"), base="/")
    booklet = next(j for j in handouts.jobs(h) if j.kind == "booklet")
    printer = FlakyPrinter(odd, moves)
    monkeypatch.setattr(handouts, "_find_pages", printer.found)
    out = tmp_path / "booklet.pdf"
    facts = handouts.print_one(printer, h, booklet, {400: "r.ttf", 700: "b.ttf"}, tmp_path, out)
    html = h.render(booklet.template, job=booklet, fonts={400: "r.ttf", 700: "b.ttf"}, page_of=FlakyPrinter.pages,
                    **booklet.context)
    assert out.read_bytes() == b"%PDF " + hashlib.sha256(html.encode("utf-8")).hexdigest().encode()
    assert facts["prints"] == printer.n == prints
    with pytest.raises(RuntimeError, match="no two alike"):
        handouts.print_one(FlakyPrinter(range(1, 99)), h, booklet, {400: "r.ttf", 700: "b.ttf"}, tmp_path, out)


def test_a_booklet_whose_contents_would_miss_a_page_number_stops_the_build(tmp_path, monkeypatch):
    """A heading the printed text does not show (as 嵊泗's 高龄津贴 once) would leave "第 页" in the
    contents: the build stops and names the service, rather than print it."""
    h = handouts.Handouts(fixture_catalogue(tmp_path / "catalogue"), base="/")
    booklet = next(j for j in handouts.jobs(h) if j.kind == "booklet")
    printer = FlakyPrinter()
    monkeypatch.setattr(handouts, "_find_pages", lambda pdf, keys: {"330282-home-care": 3})
    with pytest.raises(RuntimeError, match="没有页码") as err:
        handouts.print_one(printer, h, booklet, {400: "r.ttf", 700: "b.ttf"}, tmp_path, tmp_path / "booklet.pdf")
    paid = next(s["name"] for s in h.catalogue["counties"]["330282"]["services"] if s["id"] == "330282-paid-care")
    assert paid in str(err.value) and "home" not in str(err.value)


def test_one_amount_reprints_exactly_the_pdfs_that_show_it(built):
    tmp, h, _serial = built
    edited = handouts.Handouts(fixture_catalogue(tmp / "catalogue", more_hours), base="/")
    before, after = keys(h), keys(edited)
    assert before.keys() == after.keys()
    changed = {url for url in before if before[url] != after[url]}
    county = "zhejiang/cixi/"
    card = next(s for s in edited.catalogue["counties"]["330282"]["services"] if s["id"] == SERVICE)
    # the 明白卡 of that service, the booklet and the 核对表 show the amount; the other card, the forms
    # and the away guide do not
    assert changed == {handouts.card_url(card), f"{county}booklet.pdf", f"{county}rules.pdf"}

    # the build reuses the rest from the cache and prints only those
    old = sums(tmp / "serial")
    done = render_all(edited, tmp / "serial", work=tmp / "work", workers=1, cache=tmp / "cache" / "pdf",
                               log=lambda *a: None)
    assert {j.url for j in done if not j.reused} == changed
    new = sums(tmp / "serial")
    assert {url for url in old if old[url] != new[url]} == changed


def test_a_template_change_rekeys_every_pdf_that_uses_it(built, tmp_path):
    _tmp, h, _serial = built
    before = keys(h)
    templates = tmp_path / "print"
    shutil.copytree(handouts.TEMPLATES, templates)
    card = templates / "card.html"
    card.write_text(card.read_text(encoding="utf-8").replace("{% endblock %}", "<!-- changed -->{% endblock %}", 1),
                    encoding="utf-8")
    h.env.loader = handouts.FileSystemLoader(str(templates))
    h.env.cache.clear()
    try:
        after = keys(h)
        assert {url for url in before if before[url] != after[url]} == {u for u in before if u.endswith("mingbaika.pdf")}
        css = templates / "handout.css"        # included by _base.html: every handout
        css.write_text(css.read_text(encoding="utf-8") + "\n/* changed */\n", encoding="utf-8")
        h.env.cache.clear()
        again = keys(h)
        assert all(after[url] != again[url] for url in after)
    finally:
        h.env.loader = handouts.FileSystemLoader(str(handouts.TEMPLATES))
        h.env.cache.clear()


def test_cache_keys_and_store(tmp_path):
    assert artefacts.digest("a", "bc") != artefacts.digest("ab", "c")
    store = artefacts.Cache(tmp_path / "c")
    assert store.get("ff00") is None
    src = tmp_path / "x.pdf"
    src.write_bytes(b"%PDF")
    store.put("ff00", src, {"pages": 1})
    assert store.get("ff00") == {"pages": 1}
    store.place("ff00", tmp_path / "site" / "y.pdf")
    assert (tmp_path / "site" / "y.pdf").read_bytes() == b"%PDF"
    assert store.prune(older_than=0) == 0            # in use by this build
    assert artefacts.Cache(tmp_path / "c").prune(older_than=0) == 1


def test_a_build_with_the_last_ones_record_touches_only_what_changed(built, tmp_path):
    """render_all given the record of the last build into the same folder (handouts.build(previous=…)):
    with nothing changed no handout is rendered and no PDF touched; after one amount, the county's
    handouts are rendered and only the PDFs whose key changed are replaced; the folder is then the
    one a build from nothing makes (tests/test_handouts_deps.py tests this with a stand-in printer)."""
    from site_build import state
    tmp, h, _serial = built
    site, cache, quiet = tmp_path / "site", tmp / "cache" / "pdf", (lambda *a: None)
    first = handouts.Handouts(fixture_catalogue(tmp / "catalogue"), base="/")
    render_all(first, site, work=tmp_path / "work", workers=1, cache=cache, log=quiet)
    recorded = state.scan(site)          # what state.record keeps at the end of a build

    def again(h2):
        files = state.scan(site)
        return render_all(h2, site, work=tmp_path / "work", workers=1, cache=cache, log=quiet, record=first.record,
                          unchanged=lambda url: url in files and recorded.get(url) == files[url])

    def stats():
        return {p: (st.st_ino, st.st_size, st.st_mtime_ns) for p in sums(site) for st in [(site / p).stat()]}

    before = stats()
    done = again(handouts.Handouts(fixture_catalogue(tmp / "catalogue"), base="/"))
    assert not any(j.rendered for j in done) and all(j.reused for j in done)
    assert stats() == before
    edited = handouts.Handouts(fixture_catalogue(tmp / "catalogue", more_hours), base="/")
    done = again(edited)
    assert all(j.rendered for j in done)
    after = stats()
    moved = {p for p in before if after[p] != before[p]}
    county = "zhejiang/cixi/"
    assert moved == {f"{county}home-care/mingbaika.pdf", f"{county}booklet.pdf", f"{county}rules.pdf"}
    render_all(edited, tmp_path / "clean", work=tmp_path / "work", workers=1, cache=cache, log=quiet)
    assert sums(site) == sums(tmp_path / "clean")


def test_shards_split_the_provinces_and_merged_caches_print_nothing(built, tmp_path, monkeypatch):
    """--shard K/N takes every N-th province whole; caches joined by --merge give a build that
    prints nothing (what the shards printed is what a single build prints: same keys, same bytes)."""
    tmp, h, _serial = built
    real = handouts.Handouts()
    all_jobs = handouts.jobs(real)
    shards = [{j.url for j in all_jobs if handouts.in_shard(real, j, (k, 2))} for k in (1, 2)]
    assert shards[0] and shards[1] and not shards[0] & shards[1] and shards[0] | shards[1] == {j.url for j in all_jobs}
    for province in {c["province_slug"] for c in real.site.counties}:
        urls = {j.url for j in all_jobs if j.context["county"]["province_slug"] == province}
        assert urls <= shards[0] or urls <= shards[1]
    with pytest.raises(ValueError):
        handouts.parse_shard("3/2")

    monkeypatch.setenv("MB_BUILD_CACHE", str(tmp_path / "merged"))
    assert handouts.merge_caches([tmp / "cache"], log=lambda *a: None) > 0
    done = render_all(h, tmp_path / "site", work=tmp_path / "work", log=lambda *a: None)
    assert len(done) == 7 and all(j.reused for j in done)
    merged, parallel = sums(tmp_path / "site"), sums(tmp / "parallel")
    assert merged.keys() == parallel.keys()
    differ = [url for url in merged if merged[url] != parallel[url]]
    assert not differ, mismatch_report(differ, tmp_path / "site", tmp / "parallel", tmp_path / "kept")


# ------------------------------------------------------------ pages (site_build/hooks.py: page cache)

def mkdocs_pages(tmp: Path, catalogue: dict, site: str, **env) -> dict:
    """`mkdocs build` of the catalogue into tmp/site with the page cache in tmp/cache (two page
    writers): {"written": [urls drawn again], "reused": n, "files": {path: sha256}}."""
    import json
    import os
    import subprocess
    import sys
    from site_build.catalogue import write_compiled
    compiled = write_compiled(catalogue, tmp / f"{site}.json")
    report = tmp / f"{site}-report.json"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--clean", "--quiet",
                           "--site-dir", str(tmp / site)], cwd=Path(handouts.__file__).parent.parent,
                          env=dict(os.environ, NO_MKDOCS_2_WARNING="1", MB_CATALOGUE=str(compiled),
                                   MB_BUILD_CACHE=str(tmp / "cache"), MB_PAGE_JOBS="2",
                                   MB_PAGES_REPORT=str(report), **env),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(report.read_text(encoding="utf-8"))
    out["files"] = {p.relative_to(tmp / site).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                    for p in sorted((tmp / site).rglob("*.html"))}
    return out


def url_of(path: str) -> str:
    return "" if path == "index.html" else path[: -len("index.html")] if path.endswith("/index.html") else path


def test_pages_are_reused_and_exactly_the_changed_ones_drawn_again(tmp_path):
    """Every page is keyed by what it is made from: a second build draws none; after one amount
    is changed, exactly the pages that show it are drawn again (and only they change); after a
    page template is changed, every page that uses it."""
    first = mkdocs_pages(tmp_path, fixture_catalogue(tmp_path / "catalogue"), "a")
    assert len(first["written"]) == len(first["files"]) - 1 and first["reused"] == 0   # 404.html: a theme page
    again = mkdocs_pages(tmp_path, fixture_catalogue(tmp_path / "catalogue"), "b")
    assert again["written"] == [] and again["reused"] == len(first["written"])
    assert again["files"] == first["files"]

    edited = mkdocs_pages(tmp_path, fixture_catalogue(tmp_path / "catalogue2", more_hours), "c")
    changed = {url_of(p) for p in first["files"] if first["files"][p] != edited["files"][p]}
    assert set(edited["written"]) == changed
    service = next(s for s in load_catalogue(tmp_path / "catalogue2")["counties"]["330282"]["services"]
                   if s["id"] == SERVICE)
    # the service's page, the county's 核对表 and the comparison of its topic show the amount
    assert {service["url"], "compare/home_care/"} <= changed
    assert edited["reused"] == len(first["written"]) - len(changed)

    templates = tmp_path / "templates"
    shutil.copytree(Path(handouts.__file__).parent.parent / "content" / "templates", templates)
    page = templates / "service.html"
    page.write_text(page.read_text(encoding="utf-8") + "\n<!-- changed -->\n", encoding="utf-8")
    redrawn = mkdocs_pages(tmp_path, fixture_catalogue(tmp_path / "catalogue"), "d", MB_TEMPLATES=str(templates))
    services = {s["url"] for s in load_catalogue(tmp_path / "catalogue")["counties"]["330282"]["services"]}
    assert set(redrawn["written"]) == services
