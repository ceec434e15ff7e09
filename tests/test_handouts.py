"""Printed handouts (issue 6): the PDFs the build puts in site/ and the print footer of every page.

Checks the real files with poppler (pdftotext, pdffonts, pdfinfo, pdftoppm) and zbar (zbarimg):
every county has its booklet and every service its one-page 明白卡; the booklet holds every service
name and amount; the fonts are Noto Sans CJK embedded; pages are A4; the QR codes decode to the
page's address; 慈溪's forms carry the words of 附件4 and the headings of 附件1; 嵊泗's away guide is
one page. The site must be built with PDFs (`make site`); the PDF tests skip otherwise.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from site_build import handouts, rules
from site_build.catalogue import load_catalogue

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("MB_SITE_DIR") or ROOT / "site")   # MB_SITE_DIR: test another build
POPPLER = all(shutil.which(t) for t in ("pdftotext", "pdffonts", "pdfinfo", "pdftoppm"))


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def run(*cmd) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


def pdftext(pdf: Path) -> str:
    return run("pdftotext", "-enc", "UTF-8", str(pdf), "-")


def pdfinfo(pdf: Path) -> dict:
    out = {}
    for line in run("pdfinfo", str(pdf)).splitlines():
        key, _, value = line.partition(":")
        out[key.strip()] = value.strip()
    return out


def qr_codes(pdf: Path, tmp_path: Path, page: int = 1) -> list[str]:
    stem = tmp_path / f"qr-{pdf.stem}-{page}"
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(stem)],
                   check=True)
    res = subprocess.run(["zbarimg", "-q", "--raw", f"{stem}.png"], capture_output=True, text=True)
    return [line for line in res.stdout.splitlines() if line]


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture(scope="module")
def counties(catalogue):
    return sorted(catalogue["counties"].values(), key=lambda c: c["code"])


@pytest.fixture(scope="module")
def manifest():
    path = SITE / "handouts.json"
    if not path.is_file():
        pytest.skip("site/handouts.json is missing: build the site with PDFs (`make site`)")
    if not POPPLER:
        pytest.skip("poppler-utils is missing: run scripts/setup.sh")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def by_url(manifest):
    return {h["url"]: h for h in manifest["handouts"]}


# ------------------------------------------------------------------ without a build

def test_pdf_urls_sit_next_to_their_pages(counties):
    yongjia = next(c for c in counties if c["code"] == "330324")
    s = next(s for s in yongjia["services"] if s["slug"] == "11")
    assert handouts.booklet_url(yongjia) == "zhejiang/yongjia/booklet.pdf"
    assert handouts.card_url(s) == "zhejiang/yongjia/11/mingbaika.pdf"
    cixi = next(c for c in counties if c["code"] == "330282")
    assert [handouts.form_url(cixi, f) for f in cixi["forms"]] == ["zhejiang/cixi/form-survey.pdf",
                                                                   "zhejiang/cixi/form-notice.pdf"]


def test_away_guide_for_shengsi_not_for_counties_without_away_texts(counties):
    guides = {c["code"] for c in counties if handouts.has_away_guide(c)}
    assert "330922" in guides
    assert "330324" not in guides and "431225" not in guides


def test_public_url_from_environment_or_site_relative(monkeypatch):
    monkeypatch.delenv("MB_SITE_URL", raising=False)
    monkeypatch.setattr(handouts, "ROOT", Path("/nonexistent"))
    assert handouts.site_base() == "/"
    assert handouts.public_url("zhejiang/yongjia/11/") == "/zhejiang/yongjia/11/"
    monkeypatch.setenv("MB_SITE_URL", "https://example.org/mbk")
    assert handouts.public_url("zhejiang/yongjia/") == "https://example.org/mbk/zhejiang/yongjia/"


def test_qr_is_never_micro_qr():
    svg = str(handouts.qr_svg("/a/"))
    assert svg.startswith("<svg") and 'aria-label="二维码：/a/"' in svg
    import segno
    assert not segno.make("/a/", micro=False).is_micro


def test_qr_masks_kept_across_builds_draw_the_same_svg(tmp_path, monkeypatch):
    """build/cache/qr/ keeps the mask segno chose for each text; given back, segno draws the same
    bytes (and a damaged entry is chosen again, not trusted)."""
    import segno
    monkeypatch.setenv("MB_BUILD_CACHE", str(tmp_path))
    texts = ["/zhejiang/yongjia/11/", "/hunan/huitong/", "https://example.org/mbk/zhejiang/cixi/3/"]

    def fresh_process():
        handouts.qr_svg.cache_clear()
        monkeypatch.setattr(handouts, "_qr", {"path": None, "old": None, "new": {}, "used": set()})

    fresh_process()
    first = [str(handouts.qr_svg(t)) for t in texts]
    handouts.save_qr_masks()
    stored = json.loads(next((tmp_path / "qr").glob("masks-*.json")).read_text(encoding="utf-8"))
    assert stored == {t: segno.make(t, micro=False, error="m").mask for t in texts}
    stored[texts[0]] = 99
    next((tmp_path / "qr").glob("masks-*.json")).write_text(json.dumps(stored), encoding="utf-8")
    fresh_process()
    assert [str(handouts.qr_svg(t)) for t in texts] == first
    assert list(handouts._qr["new"]) == [texts[0]]
    fresh_process()


def test_css_string_escapes_quotes_and_style_end():
    assert str(handouts.css_string('来源："x"</style>')) == '"来源：\\"x\\"\\3C /style>"'


def test_away_guide_sorts_shengsi_services_by_where(catalogue):
    h = handouts.Handouts(catalogue, base="/")
    shengsi = catalogue["counties"]["330922"]
    groups = {key: [s["slug"] for s in services] for key, _t, _h, services in h.where_groups(shengsi)}
    assert set(groups["residence"]) == {"retrofit", "care-subsidy", "youdai-card", "dibao"}
    assert "gaoling" in groups["paid_home"] and "sanquan" in groups["auto"]
    assert sum(len(v) for v in groups.values()) == len(shengsi["services"])


# ------------------------------------------------------------------ the built PDFs

def test_every_booklet_card_form_and_guide_exists(manifest, by_url, counties):
    expected = []
    for c in counties:
        expected.append(handouts.booklet_url(c))
        expected.append(rules.pdf_url(c))   # 核对表 (tests/test_rules_sheet.py checks its content)
        expected += [handouts.card_url(s) for s in c["services"]]
        expected += [handouts.form_url(c, f) for f in c.get("forms") or []]
        if handouts.has_away_guide(c):
            expected.append(handouts.away_url(c))
    assert sorted(by_url) == sorted(expected)
    for url in expected:
        path = SITE / url
        assert path.is_file(), url
        assert path.read_bytes()[:5] == b"%PDF-", url
        assert path.stat().st_size == by_url[url]["bytes"], url


def test_booklet_has_every_service_name_and_amount(manifest, counties):
    for c in counties:
        text = squash(pdftext(SITE / handouts.booklet_url(c)))
        assert squash(c["name"]) in text
        for s in c["services"]:
            assert squash(s["name"]) in text, f"{c['name']}: {s['name']}"
            if s.get("amount"):
                assert squash(s["amount"]["text"]) in text, f"{c['name']}: {s['name']}: {s['amount']['text']}"


def test_booklet_cover_has_hotline_and_contents_page_numbers(manifest, counties):
    for c in counties:
        pages = pdftext(SITE / handouts.booklet_url(c)).split("\f")
        cover = squash(pages[0])
        assert c["name"] in cover and ("咨询电话" in cover or "12345" in cover)
        for ph in c.get("phones") or []:
            assert ph["number"] in cover
        contents = squash(pages[1])
        assert "目录" in contents
        numbers = re.findall(r"第(\d+)页(?!，共)", contents)   # not the page footer "第 2 页，共 7 页"
        assert numbers and all(2 < int(n) <= len(pages) for n in numbers), c["name"]


def test_booklet_contents_give_every_service_its_page(manifest, counties):
    """Every entry of every booklet's contents has its page number, and the service's heading is on
    that page. (嵊泗's contents once showed "第 页" for 高龄津贴 and two more: their headings follow a
    source line ending in a digit, "出处：二、(一)4", and were not found in the run-together text.)"""
    h = handouts.Handouts(base="/")
    for c in counties:
        pdf = SITE / handouts.booklet_url(c)
        pages = [squash(p) for p in pdftext(pdf).split("\f")]
        layout = run("pdftotext", "-layout", "-enc", "UTF-8", str(pdf), "-").split("\f")   # an entry a line
        first = next(i for i, p in enumerate(layout) if re.search(r"^\s*1．", p, re.M))     # service 1's heading
        front = [squash(line) for p in layout[1:first] for line in p.splitlines()]        # the contents pages
        assert not [line for line in front if re.search(r"第页$", line)], c["name"]
        for n, s in h.numbered[c["code"]]:
            entry = re.compile(re.escape(f"{n}{squash(s['name'])}") + r"[…·.]*第(\d+)页$")
            numbers = {m.group(1) for m in map(entry.match, front) if m}
            assert len(numbers) == 1, (c["name"], n, s["name"], numbers)
            heading = f"{n}．{squash(s['name'])}"
            assert heading in pages[int(numbers.pop()) - 1], (c["name"], s["name"])


def test_cjk_fonts_are_embedded(manifest, by_url):
    sample = [h["url"] for h in manifest["handouts"] if h["kind"] != "card"]
    sample += [h["url"] for h in manifest["handouts"] if h["kind"] == "card"][::10]
    for url in sample:
        rows = run("pdffonts", str(SITE / url)).splitlines()[2:]
        assert rows, url
        names = [r.split()[0] for r in rows]
        assert any(re.match(r"[A-Z]{6}\+NotoSansCJKsc-(Regular|Bold)$", n) for n in names), (url, names)
        for r in rows:
            assert " yes " in r and "Type 3" not in r, (url, r)   # embedded, and no glyph fell back


def test_every_pdf_is_a4(manifest):
    for h in manifest["handouts"]:
        size = pdfinfo(SITE / h["url"])["Page size"]
        w, hgt = (float(x) for x in re.findall(r"[\d.]+", size)[:2])
        assert sorted((round(w), round(hgt))) == [595, 842], (h["url"], size)


def test_every_card_and_away_guide_is_one_page(manifest):
    for h in manifest["handouts"]:
        if h["kind"] in ("card", "away"):
            assert pdfinfo(SITE / h["url"])["Pages"] == "1", h["url"]
            assert h["pages"] == 1


def test_qr_codes_decode_to_the_page_address(manifest, by_url, counties, tmp_path):
    base = manifest["base"]
    for c in counties:
        assert qr_codes(SITE / handouts.booklet_url(c), tmp_path) == [base + c["url"]], c["name"]
        s = c["services"][len(c["services"]) // 2]
        assert qr_codes(SITE / handouts.card_url(s), tmp_path) == [base + s["url"]], s["id"]
        if handouts.has_away_guide(c):
            assert qr_codes(SITE / handouts.away_url(c), tmp_path) == [base + c["url"]]


def test_card_says_what_and_where(manifest, catalogue):
    s = next(s for s in catalogue["counties"]["330324"]["services"] if s["slug"] == "11")
    text = squash(pdftext(SITE / handouts.card_url(s)))
    for words in (s["name"], "不用申请", s["amount"]["text"], "0577-67266075", "永嘉县基本养老服务指导目录", "2023年12月28日"):
        assert squash(words) in text, words


def test_cixi_forms_have_the_notice_text_and_survey_headings(manifest, catalogue):
    cixi = catalogue["counties"]["330282"]
    forms = {f["id"]: f for f in cixi["forms"]}
    notice = squash(pdftext(SITE / handouts.form_url(cixi, forms["notice"])))
    for piece in re.split(r"_{2,}|\n", forms["notice"]["text"]):
        assert squash(piece) in notice, piece
    assert "附件4" in notice and "签名：" in notice
    survey_pdf = SITE / handouts.form_url(cixi, forms["survey"])
    survey = squash(pdftext(survey_pdf))
    assert "附件1" in survey and squash(forms["survey"]["title"]) in survey
    for column in forms["survey"]["columns"]:
        assert squash(column) in survey, column
    w, h = (float(x) for x in re.findall(r"[\d.]+", pdfinfo(survey_pdf)["Page size"])[:2])
    assert w > h   # landscape, room to write


def test_shengsi_away_guide_says_where(manifest, catalogue):
    shengsi = catalogue["counties"]["330922"]
    text = squash(pdftext(SITE / handouts.away_url(shengsi)))
    assert "户籍地" in text and "常住地" in text and "12345" in text
    for s in shengsi["services"]:
        assert squash(s["name"]) in text, s["name"]


# ------------------------------------------------------------------ the site's pages

def _page_html(url: str) -> str:
    path = SITE / url / "index.html"
    if not path.is_file():
        pytest.skip("site/ is not built")
    return path.read_text(encoding="utf-8")


def test_county_and_service_pages_link_their_pdfs(manifest, counties):
    for c in counties:
        for url, pdfs in [(c["url"], [handouts.booklet_url(c)])] + [(s["url"], [handouts.card_url(s)]) for s in c["services"]]:
            html = _page_html(url)
            for pdf in pdfs:
                rel = Path(pdf).relative_to(url) if pdf.startswith(url) else None
                assert f'href="{rel}"' in html, (url, pdf)
            for href in re.findall(r'href="([^"]+\.pdf)"', html):
                assert (SITE / url / href).resolve().is_file(), (url, href)


def test_every_page_has_the_print_footer(manifest):
    for path in SITE.rglob("index.html"):
        if path.relative_to(SITE).parts[0] == "assets":
            continue
        html = path.read_text(encoding="utf-8")
        assert 'class="mb-print-foot"' in html and "<svg" in html, path
        assert "@bottom-left" in html, path


def test_printing_a_service_page(manifest, site_server, browser, tmp_path, catalogue):
    """Printing a normal page (print.css): A4, no navigation or buttons, body ≥ 14 pt, the address
    as QR code, the source and date on paper."""
    s = next(s for s in catalogue["counties"]["330324"]["services"] if s["slug"] == "11")
    page = browser.new_page()
    try:
        page.goto(site_server + s["url"])
        page.emulate_media(media="print")
        hidden = page.evaluate("""() => ['.mb-header', '.md-sidebar', '.mb-crumbs', '.mb-checker', '.mb-print-links', '.mb-back']
            .map(sel => [...document.querySelectorAll(sel)].every(e => getComputedStyle(e).display === 'none'))""")
        assert all(hidden), hidden
        sizes = page.evaluate("""() => [...document.querySelectorAll('.md-content p, .md-content li, .md-content td, .mb-print-foot p')]
            .filter(e => e.offsetParent !== null && e.textContent.trim()).map(e => parseFloat(getComputedStyle(e).fontSize))""")
        assert sizes and min(sizes) >= 14 * 96 / 72 - 0.1, min(sizes)   # 14 pt in CSS px
        pdf = tmp_path / "page.pdf"
        page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    finally:
        page.close()
    assert re.findall(r"[\d.]+", pdfinfo(pdf)["Page size"])[:2] == ["595.92", "842.88"] or \
        sorted(round(float(x)) for x in re.findall(r"[\d.]+", pdfinfo(pdf)["Page size"])[:2]) == [595, 842]
    text = squash(pdftext(pdf))
    assert "搜索" not in text and "查一查能享受什么" not in text
    assert "永嘉县基本养老服务指导目录" in text and "2023年12月28日" in text
    pages = int(pdfinfo(pdf)["Pages"])
    codes = qr_codes(pdf, tmp_path, page=pages)
    assert codes == [manifest["base"] + s["url"]]


def test_booklet_service_qr_codes_decode(manifest, counties, tmp_path):
    """Each service in a booklet carries a small QR code to its own page."""
    h = handouts.Handouts(base=manifest["base"])
    for c in counties:
        pdf = SITE / handouts.booklet_url(c)
        n, s = h.numbered[c["code"]][0]
        page = handouts._find_pages(pdf, {s["id"]: f"{n}．{s['name']}"})[s["id"]]
        assert manifest["base"] + s["url"] in qr_codes(pdf, tmp_path, page=page), (c["name"], s["name"])


def test_the_printed_fonts_hold_gb2312_whatever_the_handouts_use():
    """The build's font subset (build/handouts/) maps every character of GB 2312, not only those the
    handouts use now, so a new character within it changes no font and reprints nothing else; the
    PDFs embed only the glyphs they show (pdffonts: a named CID subset)."""
    from fontTools.ttLib import TTFont
    fonts = sorted(handouts.WORK.glob("mbsans-*.ttf"))
    if len(fonts) != len(handouts.NOTO):
        pytest.skip("no fonts in build/handouts/: run `make site` first")
    base = handouts.base_chars()
    assert len([c for c in base if "\u4e00" <= c <= "\u9fff"]) == 6763
    for path in fonts:
        cmap = TTFont(path, lazy=True)["cmap"].getBestCmap()
        assert not sorted(c for c in base if ord(c) not in cmap), path
