"""Printed handouts, made with the build: `build(site_dir)` after mkdocs (see site_build/__main__.py).

What it writes into site/, next to the page each one prints, so they are served and cached like it:

  <province>/<county>/booklet.pdf              服务手册: cover (county, hotline, QR), contents with page
                                               numbers, every service grouped by who it is for
  <province>/<county>/<service>/mingbaika.pdf  明白卡: one A4 page per service
  <province>/<county>/rules.pdf                核对表 for staff: the rule sheet of /<province>/<county>/rules/
                                               (site_build/rules.py), tables at 12 pt, a signature line
  <province>/<county>/form-<id>.pdf            the document's own forms (`county.forms`: 慈溪 附件1, 附件4)
  <province>/<county>/away-guide.pdf           one page "what to do where (户籍地 / 常住地)", for a county
                                               whose every service says what to do when living away
                                               (`away`): 嵊泗's 迁居 document, 慈溪's 人户分离 notice
  handouts.json                                every PDF: url, kind, title, pages, bytes (seconds and
                                               reuse per PDF: build/handouts-times.json)

and, in every HTML page, a print-only footer (the page's address, a QR code to it, the source
document and its date) that content/pages/assets/print.css shows on paper.

QR codes hold the page's public address: `MB_SITE_URL`, else mkdocs.yml `site_url`, else the
site-relative path ("/zhejiang/yongjia/11/"), since the host is not known at build time.

PDFs come from Debian's Chromium (Playwright `page.pdf`), pages loaded from local files with every
other request refused: one browser per worker process, one worker per core (`MB_PDF_JOBS` sets
how many; 1 prints in this process). A handout's bytes do not depend on which worker printed it
or in what order: the fonts are made once before the workers start, the PDF's dates
(CreationDate, ModDate) are its source document's date and the tagged-PDF node ids are renumbered
(`normalise_pdf`), so a build prints the same bytes every time (tests/test_incremental.py compares
serial and parallel builds). A booklet, printed until its contents' page numbers are confirmed, is
kept only once two prints of its final HTML gave the same bytes (`print_one`).

Incremental: each PDF is stored in build/cache/pdf/ under a key that hashes exactly what it is made
from (`pdf_key`: its rendered HTML, the fonts, the PDF date and the build version; see
site_build/cache.py); the next build reuses every PDF whose key it finds and prints only the rest.
Finding a PDF's key means rendering its HTML (~30 ms a county), so a build on the last one's site
folder (`build(previous=…)`, site_build/state.py) first keys each county's handouts by what they
read (`county_keys`: the digests of the counties Site.related names — its own and those joined to
it by an `excludes`, tests/test_handouts_deps.py traces it — Site.shared_digest, the base address,
and `inputs_digest`: templates, test cases, code, fonts' sources, build version). The record of
the last build (`last_record`, kept in site/'s state) gives, for each county, that key and the
characters its handouts use, and for each PDF its key and facts: a county whose key is unchanged
is not rendered, and its PDFs still in site/ as that build left them are not touched; the other
counties' handouts are rendered and keyed as above. The print footers go only into the pages
written since (every page is written again when a county its footer reads changes: Page.deps).
The font subset holds all of GB 2312 (`base_chars`) and the union of every handout's characters
beyond it (a county's come from the record), so it is the same, byte for byte, as one made from all
the handouts: an edit that adds a character outside GB 2312 no handout had, or removes the last use
of one, changes the fonts and with them every PDF's bytes and key (all are printed again); any
other edit — a new character within GB 2312 included — leaves them as they were.
Sharded: `python -m site_build --shard K/N` prints only every N-th province's PDFs into the cache
(`print_shard`), `--merge` joins shard caches before a normal build (`merge_caches`).

The font is Noto Sans CJK SC, subset to the characters the handouts use and converted to
TrueType outlines (fontTools), because Chromium embeds OpenType/CFF fonts only as nameless Type 3 glyph procedures; as TrueType it
embeds a named CID font subset that text tools, screen readers and printers all handle.
"""
from __future__ import annotations

import bisect
import datetime as dt
import functools
import hashlib
import html
import json
import multiprocessing
import os
import queue
import re
import shutil
import subprocess
import time
import traceback
from pathlib import Path

import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from . import cache as artefacts
from . import pages
from . import rules as rule_sheets
from . import state
from checker.catalogue import load_catalogue as compiled_catalogue

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "content" / "templates" / "print"
WORK = ROOT / "build" / "handouts"          # HTML and fonts that Chromium prints from (kept for a look)
TIMES = ROOT / "build" / "handouts-times.json"   # seconds per PDF of the last build, and which were reused
CHROMIUM = os.environ.get("MB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
NOTO = {  # (file, index of "Noto Sans CJK SC" in the collection)
    400: ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    700: ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),
}
FONT_FAMILY = "MB Sans"                     # the converted subset's CSS name
FIT_LEVELS = 8                              # one-page sheets: -1 = 18 pt, 0 = 16 pt … 3 = 14 pt, 4-7 shorter
MAX_JOBS = 4                                # Chromium processes at most (each takes ~200 MB)


# ------------------------------------------------------------------ where the PDFs live

def booklet_url(county) -> str:
    return f"{county['url']}booklet.pdf"


def card_url(service) -> str:
    return f"{service['url']}mingbaika.pdf"


def form_url(county, form) -> str:
    return f"{county['url']}form-{form['id']}.pdf"


def away_url(county) -> str:
    return f"{county['url']}away-guide.pdf"


def has_away_guide(county) -> bool:
    """A county whose every service says what to do when living away gets the one-page guide.
    (Keep in step with content/templates/print/_links.html.)"""
    return bool(county["services"]) and all(s.get("away") for s in county["services"])


def site_base() -> str:
    """The site's public base URL ending in '/', or '/' when it is not known at build time."""
    base = os.environ.get("MB_SITE_URL", "").strip()
    if not base:
        mk = ROOT / "mkdocs.yml"
        if mk.exists():
            m = re.search(r"^site_url:\s*['\"]?([^'\"\s#]+)", mk.read_text(encoding="utf-8"), re.M)
            base = m.group(1) if m else ""
    return (base.rstrip("/") + "/") if base else "/"


def public_url(rel: str, base: str | None = None) -> str:
    """The address a QR code and the printed line carry for the site-relative `rel` ("a/b/")."""
    return (site_base() if base is None else base) + rel


# QR codes: most of their time (3.4 ms a handout, 80 % of keying every handout; BENCHMARKS.md) is
# segno choosing the symbol's mask (all eight drawn and scored). The same address is drawn several
# times a build (a service's 明白卡, its line in the booklet, its page's print footer) and again
# every build, so: each text's SVG is kept while the process runs (qr_svg's lru_cache; forked PDF
# workers inherit it), and the mask segno chose for it — given back to segno.make, which then draws
# only that mask, to the same bytes — is kept across builds in build/cache/qr/ (a few bytes a text;
# MB_BUILD_CACHE moves it, =off: none), keyed by segno's version and QR_OPTIONS. A draw: 1.5 ms,
# 0.3 ms with its mask known, nothing when drawn before in the process (the real site's addresses).
QR_OPTIONS = {"micro": False, "error": "m"}     # segno.make's: never a Micro QR (phones and zbar read only the full kind)
QR_FORMAT = "qr-masks-1"
_qr = {"path": None, "old": None, "new": {}, "used": set()}


def _qr_masks() -> dict:
    """{text: mask} of earlier builds (loaded once a process)."""
    if _qr["old"] is None:
        folder = artefacts.default_folder("qr")
        key = artefacts.digest(QR_FORMAT, segno.__version__, QR_OPTIONS)
        _qr["path"] = folder / f"masks-{key[:24]}.json" if folder else None
        try:
            _qr["old"] = json.loads(_qr["path"].read_text(encoding="utf-8")) if _qr["path"] else {}
        except (OSError, ValueError):
            _qr["old"] = {}
    return _qr["old"]


def save_qr_masks():
    """Store the masks of this process's new texts (with the stored ones, unless those are more
    than three quarters unused here: texts no build draws any more are dropped then)."""
    if not _qr["new"] or _qr["path"] is None:
        return
    old = _qr["old"] or {}
    keep = old if len(old) <= 4 * len(_qr["used"]) else {t: c for t, c in old.items() if t in _qr["used"]}
    data = {**keep, **_qr["new"]}
    try:
        _qr["path"].parent.mkdir(parents=True, exist_ok=True)
        tmp = _qr["path"].with_name(f".{_qr['path'].name}.{os.getpid()}")
        tmp.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, _qr["path"])
    except OSError:
        return
    _qr["old"], _qr["new"] = data, {}


@functools.lru_cache(maxsize=8192)
def qr_svg(url: str) -> Markup:
    """A QR code (never a Micro QR: phones and zbar read only the full kind) as inline SVG."""
    mask = _qr_masks().get(url)
    qr = None
    if isinstance(mask, int):
        try:
            qr = segno.make(url, **QR_OPTIONS, mask=mask)
        except ValueError:    # a damaged cache file: choose again
            qr = None
    if qr is None:
        qr = segno.make(url, **QR_OPTIONS)
        _qr["new"][url] = qr.mask
    _qr["used"].add(url)
    svg = qr.svg_inline(scale=1, border=4, dark="#000", light="#fff", omitsize=True)
    return Markup(svg.replace("<svg ", '<svg class="qr" role="img" aria-label="二维码：%s" ' % html.escape(url), 1))


def css_string(text: str) -> Markup:
    """A CSS string literal (for @page margin boxes), safe inside <style>."""
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ").replace("<", "\\3C ")
    return Markup(f'"{out}"')


# ------------------------------------------------------------------ the data the templates read

class Handouts:
    """Everything the print templates need, from the compiled catalogue and the site's helpers."""

    def __init__(self, catalogue=None, base: str | None = None):
        # the compiled JSON, as the pages read it: the same order of every mapping (an amount's cases)
        # on the page and on paper, whatever the compile cache held (site_build.catalogue keeps the
        # YAML's order when it parses a file, the JSON's when it joins cached entries)
        self.catalogue = catalogue or compiled_catalogue()
        self.site = pages.Site(self.catalogue)
        self.base = site_base() if base is None else base
        self.record = None      # render_all's record of a whole build (build(): last_record)
        self.env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.filters["css_string"] = css_string
        # Booklet order and numbers: a service is numbered where sections() prints it in full.
        self.numbered, self.number_of = {}, {}
        for county in self.site.counties:
            n, numbered = 0, []
            for _key, _group, shown, _others in self.sections(county):
                for s in shown:
                    n += 1
                    numbered.append((n, s))
                    self.number_of[s["id"]] = n
            self.numbered[county["code"]] = numbered
        self.env.globals.update(
            h=self, site=self.site, qr=qr_svg, date_text=pages.date_text, tel=pages.tel,
            APPLY_TEXT=pages.APPLY_TEXT, APPLY_AT_TEXT=pages.APPLY_AT_TEXT, PAID_BY_TEXT=pages.PAID_BY_TEXT,
            FONT_FAMILY=FONT_FAMILY)

    # addresses
    def url(self, rel: str) -> str:
        return public_url(rel, self.base)

    # text helpers
    @staticmethod
    def doc_line(county) -> str:
        doc = county["document"]
        return f"《{doc['title']}》（{doc['status_text']}），{doc['issuer']}，{pages.date_text(doc['date'])}"

    def source_line(self, county, service=None) -> str:
        """The footer: source document, where in it, and its date."""
        doc = county["document"]
        where = self.site.source_where(service) if service else ""
        date = pages.date_text(doc["date"])
        return f"来源：《{doc['title']}》{where}（{doc['status_text']}），{doc['issuer']}，{date}"

    def footer_line(self, county, service=None) -> str:
        """The page footer, kept to a line or two: document, where in it, date."""
        doc = county["document"]
        where = self.site.source_where(service) if service else ""
        return f"来源：《{doc['title']}》{where}（{doc['status_text']}），{pages.date_text(doc['date'])}"

    def form_footer(self, county, form) -> str:
        doc = county["document"]
        return f"{form['source']}，出自《{doc['title']}》（{doc['status_text']}），{pages.date_text(doc['date'])}"

    @staticmethod
    def column_width(column: str, columns: list) -> float:
        """Percent width of a blank table's column: room to write by hand."""
        def weight(c):
            if c == "序号":
                return 2.5
            if "身份证" in c:
                return 11        # 18 digits by hand
            return min(max(len(c), 5), 11)
        return round(100 * weight(column) / sum(weight(c) for c in columns), 2)

    @staticmethod
    def away_title(county) -> str:
        if "迁居" in county["document"]["title"]:
            return "迁居的老人：这些事去哪里办"
        return "人户分离的老人：这些事去哪里办"

    @staticmethod
    def away_line(service, key) -> str:
        where = (service.get("where") or "").strip()
        if key == "paid_home":
            where = Handouts.unsaid(where)
            where = where.split("。")[0] + "。" if "。" in where else where
        paid = ""
        if service.get("paid_by") and "户籍地" not in where and key != "paid_home":
            paid = "钱由" + pages.PAID_BY_TEXT[service["paid_by"]] + "。"
        return f"：{where}{paid}"

    unsaid = staticmethod(pages.unsaid)

    @staticmethod
    def sentences(text: str) -> list:
        """Split at 。；： keeping the marks (the 明白卡 may print only the first)."""
        return [p for p in re.split(r"(?<=[。；])", text) if p]

    @staticmethod
    def county_text(county) -> str:
        """The text a booklet prints (for the words it explains at the back)."""
        parts = []
        for s in county["services"]:
            amount = s.get("amount") or {}
            parts += [s["name"], s["summary"], s.get("target", ""), s.get("where", ""), s.get("away") or "",
                      amount.get("text", ""), *(s.get("steps") or []), *(s.get("also") or []),
                      *(s.get("documents") or [])]
        return "\n".join(parts)

    def hotlines(self, county) -> list:
        return county.get("phones") or []

    def sections(self, county):
        """Booklet body: [(key, group, shown services, [(service, page-of-first-group)] seen elsewhere)].
        A service is printed in full once, under the first of its groups in shared.yaml order."""
        out, placed = [], set()
        for key, group, services in self.site.county_groups(county):
            shown = [s for s in services if s["id"] not in placed]
            others = [s for s in services if s["id"] in placed]
            placed.update(s["id"] for s in shown)
            out.append((key, group, shown, others))
        return out

    def toc(self, county):
        """Contents: [(key, group, services in booklet order)], a service under each of its groups."""
        return [(key, group, sorted(services, key=lambda s: self.number_of[s["id"]]))
                for key, group, services in self.site.county_groups(county)]

    def where_groups(self, county):
        """The away guide: services sorted by what the reader does and where."""
        boxes = {
            "residence": ("在现在住的地方（常住地）办", "到平时住的地方的乡镇（街道）或窗口申请，不用回户口所在地。"),
            "hukou": ("回户口所在地（户籍地）办", "要到户口所在地的乡镇（街道）或部门申请。"),
            "venue": ("直接到服务的地方", "直接去提供服务的场所。"),
            "paid_home": ("不用申请，户籍地照常发", "住在外地也照样享受。"),
            "auto": ("不用申请，政府主动提供", "不用跑，不用交材料。"),
            "ask": ("要申请，但文件没写去哪里", "先问现在住的地方的乡镇（街道），或打电话问。"),
        }
        grouped = {k: [] for k in boxes}
        for s in county["services"]:
            if s["apply"] == "apply" and s["apply_at"] in ("residence", "hukou", "venue"):
                grouped[s["apply_at"]].append(s)
            elif s["apply"] == "apply":
                grouped["ask"].append(s)
            elif s.get("paid_by"):
                grouped["paid_home"].append(s)
            else:
                grouped["auto"].append(s)
        return [(k, boxes[k][0], boxes[k][1], grouped[k]) for k in boxes if grouped[k]]

    def glossary_used(self, text: str):
        return [(w, e) for w, e in self.catalogue["glossary"].items() if w in text]

    # rendering
    def render(self, template: str, **context) -> str:
        return self.env.get_template(template).render(**context)


# ------------------------------------------------------------------ jobs

class Job:
    """One PDF: its template context, where it goes, and how it is checked."""

    def __init__(self, kind, url, title, template, context, one_page=False, later=None):
        self.kind, self.url, self.title, self.template, self.context = kind, url, title, template, context
        self.one_page = one_page
        self.pages = 0
        self.bytes = 0
        self.fit = 0
        self.seconds = 0.0
        self.reused = False
        self.rendered = False    # rendered this build to find its key (render_all)
        self._later = later      # more context, made when the job is first rendered (`ready`)

    @property
    def name(self) -> str:
        return self.url.replace("/", "__")

    def ready(self) -> "Job":
        """The job with all its context (the 核对表's body is rendered only now)."""
        if self._later is not None:
            later, self._later = self._later, None
            self.context.update(later())
        return self


def rules_job(h: Handouts, county) -> Job:
    """rule_sheets.print_job's job (核对表 for staff: <county>/rules.pdf) with its body, the rendered
    sheet, left to `Job.ready`: deciding what to print needs only the job's address and county."""
    return Job("rules", rule_sheets.pdf_url(county), f"{county['name']}{rule_sheets.TITLE}", "rules.html",
               {"county": county}, later=lambda: rule_sheets.print_job(h, county).context)


def jobs(h: Handouts, ready: bool = True) -> list[Job]:
    """Every PDF of the catalogue, in order; `ready=False`: the 核对表 not rendered yet (Job.ready)."""
    out = []
    for county in h.site.counties:
        out.append(Job("booklet", booklet_url(county), f"{county['name']}养老服务手册", "booklet.html",
                       {"county": county}))
        out.append(rules_job(h, county))
        for s in county["services"]:
            out.append(Job("card", card_url(s), f"{s['name']}（{county['name']}）明白卡", "card.html",
                           {"county": county, "s": s}, one_page=True))
        for form in county.get("forms") or []:
            template = "form_table.html" if form.get("columns") else "form_text.html"
            out.append(Job("form", form_url(county, form), form["title"], template, {"county": county, "form": form}))
        if has_away_guide(county):
            out.append(Job("away", away_url(county), f"{county['name']}：住在外地的老人在哪里办", "away_guide.html",
                           {"county": county}, one_page=True))
    if ready:
        for job in out:
            job.ready()
    return out


# ------------------------------------------------------------------ fonts

@functools.lru_cache(maxsize=1)
def base_chars() -> frozenset:
    """The characters every font subset holds whatever the handouts use: ASCII, common punctuation and
    the whole of GB 2312 (its 6,763 汉字 and its symbols, from Python's own codec: no data file).

    With them in the fonts, an edit that brings a character no handout had before changes the fonts
    — and so every PDF's key: all ≈ 75,000 reprinted at national size, hours — only when that
    character is outside GB 2312. The handouts of today's catalogue use 967 汉字, all in it. The
    price: the fonts are 8 MB instead of 1 MB (made once, 19 s, and cached), and a county's PDFs
    print ≈ 40 % slower (嵊泗's 28: 6.8 s against 4.8 s; BENCHMARKS.md)."""
    chars = {chr(c) for c in range(0x20, 0x7F)} | set("，。、；：？！“”‘’（）《》〔〕【】—…·％℃０１２３４５６７８９．______")
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                chars.add(bytes((high, low)).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return frozenset(chars)


def font_extras(chars) -> str:
    """The characters of `chars` beyond base_chars(), sorted: what a font subset is keyed by."""
    return "".join(sorted(set(chars) - base_chars()))


def make_fonts(text: str, out_dir: Path) -> dict:
    """Noto Sans CJK SC Regular and Bold, subset to `text` and base_chars(), as TrueType (quadratic)
    outlines. Returns {weight: file name}."""
    from fontTools import subset
    from fontTools.pens.cu2quPen import Cu2QuPen
    from fontTools.pens.ttGlyphPen import TTGlyphPen
    from fontTools.ttLib import TTFont, newTable

    chars = set(text) | base_chars()
    out = {}
    for weight, (path, index) in NOTO.items():
        font = TTFont(path, fontNumber=index, lazy=False, recalcTimestamp=False)   # same bytes every build
        opts = subset.Options()
        opts.layout_features = ["*"]
        opts.name_IDs = ["*"]
        opts.name_languages = ["*"]
        opts.notdef_outline = True
        opts.hinting = False
        opts.drop_tables += ["VORG", "vhea", "vmtx"]
        sub = subset.Subsetter(opts)
        sub.populate(text="".join(sorted(chars)))
        sub.subset(font)
        order = font.getGlyphOrder()
        glyph_set = font.getGlyphSet()
        glyf = newTable("glyf")
        glyf.glyphOrder = order
        glyf.glyphs = {}
        for name in order:
            pen = TTGlyphPen(glyph_set)
            glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
            glyf.glyphs[name] = pen.glyph()
        font["glyf"] = glyf
        font["loca"] = newTable("loca")
        del font["CFF "]
        maxp = font["maxp"]
        maxp.tableVersion = 0x00010000
        for attr in ("maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                     "maxStackElements", "maxSizeOfInstructions", "maxComponentElements"):
            setattr(maxp, attr, 0)
        maxp.maxZones = 1
        font["head"].glyphDataFormat = 0
        post = font["post"]
        post.formatType, post.extraNames, post.mapping = 2.0, [], {}
        font.sfntVersion = "\x00\x01\x00\x00"
        name = f"mbsans-{weight}.ttf"
        font.save(str(out_dir / name))
        out[weight] = name
    return out


def fonts_source() -> list:
    """What make_fonts' fonts are made from besides the characters: the Noto files, fontTools, its code."""
    import inspect

    import fontTools
    noto = []
    for weight, (path, index) in sorted(NOTO.items()):
        st = os.stat(path)
        noto.append(f"{weight}:{path}:{index}:{st.st_size}:{int(st.st_mtime)}")
    return ["fonts", artefacts.FORMAT, fontTools.version, noto, inspect.getsource(make_fonts),
            artefacts.digest("".join(sorted(base_chars())))]


def cached_fonts(text: str, work: Path, folder: Path | None) -> dict:
    """make_fonts, reusing the fonts of an earlier build with the same characters from `folder`
    (build/cache/fonts/<key>/; key: the characters, the Noto files, fontTools, make_fonts' code)."""
    if folder is None:
        return make_fonts(text, work)
    key = artefacts.digest(*fonts_source(), font_extras(text))
    stored = folder / key[:2] / key
    names = {weight: f"mbsans-{weight}.ttf" for weight in NOTO}
    if all((stored / name).is_file() for name in names.values()):
        for name in names.values():
            shutil.copyfile(stored / name, work / name)
        os.utime(stored)
        return names
    out = make_fonts(text, work)
    tmp = stored.with_name(f".{key}.{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name in out.values():
        shutil.copyfile(work / name, tmp / name)
    try:
        tmp.rename(stored)
    except OSError:          # another build stored the same fonts meanwhile
        shutil.rmtree(tmp, ignore_errors=True)
    now = time.time()
    for old in folder.glob("*/*"):     # fonts nobody used for a day
        if old != stored and now - old.stat().st_mtime > artefacts.PRUNE_AFTER:
            shutil.rmtree(old, ignore_errors=True)
    return out


# ------------------------------------------------------------------ printing

def pdf_pages(data: bytes) -> int:
    """Page count of a Chromium PDF (its page objects are plain dictionaries)."""
    return len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", data))


class Printer:
    """One headless Chromium for the whole build; pages load local files only."""

    def __init__(self):
        from playwright.sync_api import sync_playwright
        self._pw = sync_playwright().start()
        self.browser = self._pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.context = self.browser.new_context(locale="zh-CN", offline=True)
        self.context.route(re.compile(r"^(?!file:|data:|about:)"), lambda route: route.abort())
        self.page = self.context.new_page()
        self.page.emulate_media(media="print")

    def load(self, path: Path):
        self.page.goto(path.as_uri(), wait_until="load")
        # Load both faces before printing: the page footer (an @page margin box) does not make the
        # browser fetch a face, and without it falls back to the system's CFF font (Type 3).
        self.page.evaluate("""family => Promise.all([document.fonts.load(`400 16px "${family}"`),
                                                    document.fonts.load(`700 16px "${family}"`)])
                                 .then(() => document.fonts.ready).then(() => true)""", FONT_FAMILY)

    def pdf(self, out: Path, date: str) -> bytes:
        """Print to `out`, with the PDF's CreationDate and ModDate set to `date` (YYYYMMDD)."""
        data = normalise_pdf(self.page.pdf(prefer_css_page_size=True, print_background=True, outline=True,
                                       tagged=True), date)
        out.parent.mkdir(parents=True, exist_ok=True)
        # a new file, never written into the old one: that may be a hard link into the cache
        tmp = out.with_name(f".{out.name}.{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, out)
        return data

    def set_fit(self, level: int):
        self.page.evaluate("l => { for (let i = 1; i <= l; i++) document.documentElement.classList.add('fit' + i); }", level)

    def set_big(self, on: bool):
        self.page.evaluate("on => document.documentElement.classList.toggle('big', on)", on)

    def overflows(self) -> bool:
        """Whether the one-page sheet is taller than the A4 page box (measured in print layout)."""
        return self.page.evaluate("""() => {
            const sheet = document.querySelector('.sheet');
            return sheet.scrollHeight > sheet.clientHeight + 1;
        }""")

    def close(self):
        self.context.close()
        self.browser.close()
        self._pw.stop()


def _page_texts(pdf: Path) -> list[str]:
    """Each page's text, a line of it a line, without spaces."""
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return ["\n".join(filter(None, (re.sub(r"\s+", "", line) for line in p.split("\n")))) for p in out.split("\f")]


def _find_pages(pdf: Path, keys: dict) -> dict:
    """{service id: page number} from the booklet's text: each service's heading "N．name", at the
    start of a line (so "4．" is not found in "14．"; a heading may wrap onto the next line).

    The lines are kept apart: a heading often follows the service before it on the same page, whose
    source line ends in a digit ("出处：二、(一)4"), and with the page's text run together "…(一)44．高龄津贴"
    looked like heading 44 — the contents then showed "第 页" for every such service."""
    texts = _page_texts(pdf)
    found = {}
    for sid, key in keys.items():
        heading = re.compile(r"(?:^|\n)" + "\n?".join(map(re.escape, re.sub(r"\s+", "", key))))
        for i, text in enumerate(texts):
            if heading.search(text):
                found[sid] = i + 1
                break
    return found


def _write(path: Path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def normalise_pdf(data: bytes, date: str) -> bytes:
    """Make Chromium's PDF depend on the page alone, not on when or after what it was printed:
      - CreationDate and ModDate (the time of printing) become `date` (YYYYMMDD) at 00:00 UTC;
      - the tagged-PDF ids of table cells, "(node00015434)" (DOM node numbers, which grow with
        every page the browser process has loaded), are numbered 1, 2, 3 … in the order they
        appear, with the same width (8 digits), and every reference to them follows;
    then the cross-reference table is moved by what the edits added or removed (nothing, unless
    an id had more than 8 digits). Last, the tagged PDF's IDTree (`_sorted_idtree`) lists its ids in
    the new numbers' order."""
    edits = []                                   # (start, end, new bytes), in file order
    stamp = f"D:{date}000000+00'00'".encode()
    for m in re.finditer(rb"/(?:CreationDate|ModDate) \((D:[^)]*)\)", data):
        edits.append((m.start(1), m.end(1), stamp))
    ids = {}
    for m in re.finditer(rb"\(node(\d+)\)", data):
        edits.append((m.start(1), m.end(1), ids.setdefault(m.group(1), b"%08d" % (len(ids) + 1))))
    edits.sort()
    out, at, starts, shifts, delta = [], 0, [], [], 0
    for start, end, new in edits:
        out += [data[at:start], new]
        at = end
        delta += len(new) - (end - start)
        starts.append(end)
        shifts.append(delta)
    out.append(data[at:])
    result = b"".join(out)
    if not any(shifts):
        return _sorted_idtree(result)
    def moved(offset: int) -> int:
        k = bisect.bisect_right(starts, offset)
        return offset + (shifts[k - 1] if k else 0)

    m = re.search(rb"startxref\s+(\d+)\s+%%EOF\s*$", result)
    if not m:
        raise ValueError("a PDF without a startxref")
    old_xref = int(m.group(1))
    xref = moved(old_xref)
    head = re.compile(rb"xref\s+0 (\d+)\s*?\n").match(result, xref)
    if not head:
        raise ValueError("a PDF whose cross-reference table is not where startxref says")
    n, pos = int(head.group(1)), head.end()
    table = bytearray(result[pos:pos + 20 * n])
    for i in range(n):
        entry = table[20 * i:20 * i + 20]
        if entry[17:18] == b"n":
            table[20 * i:20 * i + 10] = b"%010d" % moved(int(entry[:10]))
    tail = result[pos + 20 * n:m.start(1)] + str(xref).encode() + result[m.end(1):]
    return _sorted_idtree(result[:pos] + bytes(table) + tail)


_IDTREE = re.compile(rb"/Limits \[\(node\d{8}\) \(node\d{8}\)\](\s*/Names \[)([^\]]*)(\])")
_IDTREE_PAIR = re.compile(rb"\((node\d{8})\) (\d+ 0 R)")


def _sorted_idtree(data: bytes) -> bytes:
    """Chromium (Skia) writes the IDTree's /Names in the order of its DOM node numbers, which depends
    on what the page did before printing (the one-page fit measures the sheet; ~5 % of 明白卡 with
    two header cells came out in the other order: found by the sharded build's comparison). With
    the ids renumbered in file order, the pairs are sorted by the new ids and /Limits set to the
    first and last: the same pieces in another order, so no offset moves."""
    def fix(m):
        pairs = _IDTREE_PAIR.findall(m.group(2))
        if not pairs:
            return m.group(0)
        between = _IDTREE_PAIR.split(m.group(2))[::3]    # what separates the pairs, kept as it is
        pairs.sort()
        body = between[0] + b"".join(b"(%s) %s" % pair + sep for pair, sep in zip(pairs, between[1:]))
        return b"/Limits [(%s) (%s)]" % (pairs[0][0], pairs[-1][0]) + m.group(1) + body + m.group(3)
    return _IDTREE.sub(fix, data)


def pdf_date(job: Job) -> str:
    """The date a PDF carries in its metadata: its source document's (SOURCE_DATE_EPOCH overrides)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc).strftime("%Y%m%d")
    date = str(job.context["county"]["document"].get("date") or "")
    return re.sub(r"\D", "", date)[:8].ljust(8, "0") if re.match(r"\d{4}", date) else "20000101"


def build_version() -> str:
    """What every PDF depends on besides its HTML and fonts: this file (printing, fitting), the
    cache format, Chromium's binary and Playwright's version."""
    from importlib.metadata import version
    try:
        st = os.stat(os.path.realpath(CHROMIUM))
        chromium = f"{os.path.realpath(CHROMIUM)}:{st.st_size}:{int(st.st_mtime)}"
    except OSError:
        chromium = CHROMIUM
    return artefacts.digest(artefacts.FORMAT, Path(__file__).read_bytes(), chromium, version("playwright"),
                            CHROMIUM_ARGS)


def pdf_key(job: Job, source: str, fonts_digest: str, version: str) -> str:
    """The cache key of one PDF: its first-pass HTML (catalogue entries, templates, CSS, helper
    code all show there), its fonts, its date, its kind and the build version."""
    return artefacts.digest(version, fonts_digest, job.kind, job.one_page, pdf_date(job), source)


def pdf_jobs() -> int:
    """Printer processes: MB_PDF_JOBS, else one per core (at most MAX_JOBS)."""
    env = os.environ.get("MB_PDF_JOBS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(MAX_JOBS, os.cpu_count() or 1))


BOOKLET_PRINTS = 8      # a booklet is printed until its page numbers are confirmed and two prints agree


def print_one(printer: Printer, h: Handouts, job: Job, fonts: dict, work: Path, out: Path) -> dict:
    """Print one handout to `out`; its facts (pages, bytes, fit, seconds, prints). Everything the
    bytes depend on is in the job, the fonts and the templates: never the printer's history.

    A booklet's contents page shows the page of each service, known only once it is printed: the
    first print has blank numbers, the next ones the numbers the print before found (`_find_pages`).
    The booklet is done when a print shows the numbers it was made with (a fixed point) AND an
    earlier print of that same HTML gave the same bytes. So a booklet takes three prints (blank,
    numbers, the same again); a print that came out different (a CI run once had one booklet
    differ between two builds, every other PDF equal, never seen again in hundreds of prints) is
    printed again instead of being kept, and the numbers kept are always ones a print confirmed
    (the third print used to be kept unchecked). After BOOKLET_PRINTS prints without both, the
    build stops: better no booklet than one whose bytes depend on the run."""
    started = time.perf_counter()
    src = work / f"{job.name}.html"
    page_of, fit, alike, prints = {}, 0, set(), 0      # alike: digests of the prints of this page_of's HTML
    for _attempt in range(BOOKLET_PRINTS if job.kind == "booklet" else 1):
        prints += 1
        _write(src, h.render(job.template, job=job, fonts=fonts, page_of=page_of, **job.context))
        printer.load(src)
        if job.one_page:
            # Largest type that fits: 18 pt where there is room, else 16 pt and down.
            fit = -1
            printer.set_big(True)
            if printer.overflows():
                printer.set_big(False)
                fit = 0
            while fit >= 0 and printer.overflows() and fit < FIT_LEVELS - 1:
                fit += 1
                printer.set_fit(fit)
        data = printer.pdf(out, pdf_date(job))
        if job.kind != "booklet":
            break
        keys = {s["id"]: f"{n}．{s['name']}" for n, s in h.numbered[job.context["county"]["code"]]}
        found, digest = _find_pages(out, keys), hashlib.sha256(data).digest()
        if found == page_of and digest in alike:
            break
        alike = alike | {digest} if found == page_of else set()
        page_of = found
    else:
        raise RuntimeError(f"handouts: {job.url}: {prints} prints and no two alike with the page numbers "
                           f"they show confirmed (last found {page_of})")
    if job.kind == "booklet" and set(keys) - set(page_of):     # its contents would say "第 页"
        lost = "、".join(keys[sid] for sid in keys if sid not in page_of)
        raise RuntimeError(f"handouts: {job.url}: 目录里这些服务没有页码 / the contents would show no page for: "
                           f"{lost} (their headings were not found in the printed text: _find_pages)")
    return {"pages": pdf_pages(data), "bytes": len(data), "fit": fit,
            "seconds": round(time.perf_counter() - started, 2), "prints": prints}


def _worker(h, todo, fonts, work, site_dir, tasks, results):
    """A printer process: its own Chromium, jobs by index from `tasks` until None."""
    printer = Printer()
    try:
        while True:
            i = tasks.get()
            if i is None:
                break
            try:
                results.put((i, print_one(printer, h, todo[i], fonts, work, site_dir / todo[i].url), None))
            except Exception:  # noqa: BLE001 - reported to the parent, which stops the build
                results.put((i, None, traceback.format_exc()))
    finally:
        printer.close()


def print_jobs(h: Handouts, todo: list[Job], fonts: dict, work: Path, site_dir: Path, workers: int,
               done=lambda job, facts: None) -> None:
    """Print `todo`, in this process (workers=1) or in `workers` forked processes, each with its own
    Chromium, taking the next job as it finishes one (longest first: booklets, rule sheets, then the
    rest). `done(job, facts)` is called in this process as each finishes."""
    if not todo:
        return
    workers = max(1, min(workers, len(todo)))
    if workers == 1 or "fork" not in multiprocessing.get_all_start_methods():
        printer = Printer()
        try:
            for job in todo:
                done(job, print_one(printer, h, job, fonts, work, site_dir / job.url))
        finally:
            printer.close()
        return
    cost = {"booklet": 0, "rules": 1, "form": 2, "away": 3, "card": 4}
    order = sorted(range(len(todo)), key=lambda i: (cost.get(todo[i].kind, 2), i))
    ctx = multiprocessing.get_context("fork")
    tasks, results = ctx.Queue(), ctx.Queue()
    for i in order:
        tasks.put(i)
    for _ in range(workers):
        tasks.put(None)
    procs = [ctx.Process(target=_worker, args=(h, todo, fonts, work, site_dir, tasks, results), daemon=True)
             for _ in range(workers)]
    for p in procs:
        p.start()
    try:
        left = len(todo)
        while left:
            try:
                i, facts, error = results.get(timeout=5)
            except queue.Empty:
                if not any(p.is_alive() for p in procs):
                    raise RuntimeError("handouts: every printer process ended before the jobs were done")
                continue
            if error:
                raise RuntimeError(f"handouts: printing {todo[i].url} failed:\n{error}")
            done(todo[i], facts)
            left -= 1
        for p in procs:
            p.join()
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
                p.join()


def parse_shard(text: str) -> tuple[int, int]:
    """"K/N" → (K, N), 1 ≤ K ≤ N."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)):
        raise ValueError(f"--shard wants K/N with 1 ≤ K ≤ N, not {text!r}")
    return int(m.group(1)), int(m.group(2))


def in_shard(h: Handouts, job: Job, shard: tuple[int, int] | None) -> bool:
    """Shard K of N prints the handouts of every N-th province (provinces by slug, the K-th first)."""
    if shard is None:
        return True
    if getattr(h, "_province_index", None) is None:
        h._province_index = {slug: i for i, slug in enumerate(sorted({c["province_slug"] for c in h.site.counties}))}
    return h._province_index[job.context["county"]["province_slug"]] % shard[1] == shard[0] - 1


# ------------------------------------------------------------------ what each handout depends on (incremental builds)

RECORD_FORMAT = "1"
# build()'s record of the PDFs it left in site_dir, for the next build (JSON-able; site_build/__main__.py
# keeps it in site/'s state record, state.py, and hands it back as `previous["handouts"]`)
last_record: dict | None = None


def inputs_digest() -> str:
    """What any handout may read besides the catalogue: the print and page templates (the 核对表 is
    content/templates/rules.html), the test cases (the 核对表 shows them), the code that renders
    them, the fonts' sources, the PDF build version and SOURCE_DATE_EPOCH (the PDFs' date)."""
    parts = [RECORD_FORMAT, build_version(), fonts_source(), os.environ.get("SOURCE_DATE_EPOCH", "").strip()]
    for folder, pattern in ((TEMPLATES, "**/*"), (pages.TEMPLATES, "**/*"), (rule_sheets.CASES_DIR, "*/*.yaml"),
                            (ROOT / "site_build", "*.py"), (ROOT / "checker", "*.py")):
        for f in sorted(p for p in Path(folder).glob(pattern) if p.is_file()):
            parts += [f.relative_to(folder).as_posix(), artefacts.file_digest(f)]
    return artefacts.digest(*parts)


def county_keys(h: Handouts, inputs: str) -> dict:
    """{county code: the key of everything its handouts read}: `inputs` (inputs_digest), the site's
    base address, Site.shared_digest and the digest of each county its handouts read — Site.related,
    as for its pages: its own, and those joined to it by an `excludes` (the 核对表 names them).
    tests/test_handouts_deps.py renders every job with the counties' data traced."""
    site = h.site
    common = artefacts.digest(inputs, h.base, site.shared_digest())
    return {c["code"]: artefacts.digest(common, [[code, site.county_digest(code)] for code in site.related(c)])
            for c in site.counties}


def render_all(h: Handouts, site_dir: Path, work: Path = WORK, only=None, log=print, workers: int | None = None,
               cache: Path | None | str = "default", shard: tuple[int, int] | None = None,
               record: dict | None = None, unchanged=lambda url: False) -> list[Job]:
    """Render every handout to HTML in `work`, then to PDF in `site_dir`. `only`: kinds to make.
    `workers`: printer processes (default `pdf_jobs()`). `cache`: the folder of stored PDFs
    (default build/cache/pdf, None: print everything). `shard` (K, N): print only the missing
    PDFs of shard K's provinces (`in_shard`), into the cache; the others are left out. `work` is replaced whole at the end, so two
    builds at once do not trip over each other.

    `record`: `h.record` of the last build into `site_dir` (a whole build — no `only`, no `shard` —
    sets it). A county whose key (`county_keys`) is the one recorded, with the same fonts, is not
    rendered: each of its PDFs that `unchanged(url)` says is in site_dir as that build left it is
    left alone (not even linked again), the others are placed from the cache by their recorded key.
    Every other county's handouts are rendered and keyed (pdf_key) as without a record; a PDF whose
    key is the recorded one and whose file is unchanged is left alone too. PDFs of jobs that are
    gone are removed."""
    todo = [j for j in jobs(h, ready=False) if only is None or j.kind in only]
    whole = only is None and shard is None
    old = record if whole and isinstance(record, dict) and record.get("format") == RECORD_FORMAT else None
    old_jobs, old_counties = (old["jobs"], old["counties"]) if old else ({}, {})
    final, work = work, work.with_name(f"{work.name}.{os.getpid()}")
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    # First the HTML (booklets with blank page numbers) of every county not known from the record:
    # the font subset covers the characters of all handouts (a known county's are in the record).
    by_county: dict = {}
    for job in todo:
        by_county.setdefault(job.context["county"]["code"], []).append(job)
    ckeys = county_keys(h, inputs_digest()) if whole else {}
    same = {code for code, js in by_county.items() if code in old_counties and old_counties[code][0] == ckeys[code]
            and all(j.url in old_jobs for j in js)}
    sources, chars = {}, {}

    def render(code):
        for job in by_county[code]:
            job.ready()
            sources[job.name] = h.render(job.template, job=job, fonts=None, page_of={}, **job.context)
            job.rendered = True
        chars[code] = set().union(*(sources[j.name] for j in by_county[code]))

    for code in by_county:
        if code not in same:
            render(code)
    save_qr_masks()
    for code in same:
        chars[code] = set(old["chars"]) | set(old_counties[code][1])
    text = font_extras(set().union(*chars.values()))     # make_fonts adds base_chars() to these
    folder = artefacts.default_folder("pdf") if cache == "default" else cache
    store = artefacts.Cache(folder) if folder else None
    fonts_folder = Path(folder).with_name("fonts") if folder else None
    fonts_id = artefacts.digest(*fonts_source(), text)
    fonts, fonts_digest = None, None
    if old and (old.get("fonts") or [None])[0] == fonts_id:
        fonts_digest = old["fonts"][1]            # the same characters: the same fonts (make_fonts is deterministic)
        if fonts_folder is not None:              # fonts_id is cached_fonts' key: keep its entry from being pruned
            try:
                os.utime(fonts_folder / fonts_id[:2] / fonts_id)
            except OSError:
                pass
    else:
        start = time.perf_counter()
        fonts = cached_fonts(text, work, fonts_folder)
        fonts_digest = artefacts.digest(*(artefacts.file_digest(work / fonts[w]) for w in sorted(fonts)))
        log(f"handouts: fonts subset and converted ({time.perf_counter() - start:.1f} s)")
        if old and (old.get("fonts") or [None, None])[1] != fonts_digest:
            for code in sorted(same):        # new fonts: every PDF has a new key
                render(code)
            same = set()
    version = build_version()
    keys, missing, kept = {}, [], 0
    for job in todo:
        rec = old_jobs.get(job.url)
        keys[job.name] = key = rec[0] if job.context["county"]["code"] in same else \
            pdf_key(job, sources[job.name], fonts_digest, version)
        if rec and rec[0] == key and unchanged(job.url):
            job.pages, job.bytes, job.fit, job.seconds = rec[1:5]
            job.reused = True
            kept += 1
            if store is not None:
                store.used.add(key)          # prune() keeps it
            continue
        facts = store.get(key) if store is not None else None
        if facts is None:
            if in_shard(h, job, shard):
                missing.append(job.ready())
            continue
        store.place(key, site_dir / job.url)
        job.pages, job.bytes, job.fit, job.seconds = facts["pages"], facts["bytes"], facts["fit"], facts["seconds"]
        job.reused = True
    gone = 0
    if old:
        current = {j.url for j in todo}
        for url in old_jobs:
            if url not in current and (site_dir / url).is_file():
                (site_dir / url).unlink()
                gone += 1
    if store is not None or old:
        log(f"handouts: {kept} PDFs left as they were, {len(todo) - len(missing) - kept} placed from "
            f"{store.folder if store is not None else '-'}, {len(missing)} to print"
            + (f", {gone} removed" if gone else "") + f" ({len(todo) - len(sources)} not rendered)")

    def done(job, facts):
        job.pages, job.bytes, job.fit, job.seconds = facts["pages"], facts["bytes"], facts["fit"], facts["seconds"]
        if job.one_page and job.pages != 1:
            log(f"handouts: WARNING {job.url} has {job.pages} pages at the smallest type")
        if store is not None:
            store.put(keys[job.name], site_dir / job.url, facts)
            store.place(keys[job.name], site_dir / job.url)

    if missing and fonts is None:     # the fonts of the record's characters, to print with
        fonts = cached_fonts(text, work, fonts_folder)
        if artefacts.digest(*(artefacts.file_digest(work / fonts[w]) for w in sorted(fonts))) != fonts_digest:
            raise RuntimeError("handouts: the fonts made from the recorded characters differ from the recorded ones")
    n = pdf_jobs() if workers is None else workers
    start = time.perf_counter()
    print_jobs(h, missing, fonts, work, site_dir, n, done)
    if missing:
        log(f"handouts: printed {len(missing)} PDFs with {max(1, min(n, len(missing)))} Chromium "
            f"({time.perf_counter() - start:.1f} s)")
    if store is not None and cache == "default" and only is None and shard is None:
        store.prune(every=artefacts.PRUNE_EVERY)
    if whole:
        common = set.intersection(*chars.values()) if chars else set()   # kept once, not in every county
        h.record = {"format": RECORD_FORMAT, "fonts": [fonts_id, fonts_digest], "chars": "".join(sorted(common)),
                    "counties": {code: [ckeys[code], "".join(sorted(chars[code] - common))] for code in by_county},
                    "jobs": {j.url: [keys[j.name], j.pages, j.bytes, j.fit, j.seconds] for j in todo}}
    shutil.rmtree(final, ignore_errors=True)
    try:
        work.rename(final)
    except OSError:   # another build put its own there meanwhile
        shutil.rmtree(work, ignore_errors=True)
    return todo


def print_shard(shard: tuple[int, int], log=print) -> list[Job]:
    """`python -m site_build --shard K/N`: print the PDFs of shard K's provinces into the cache
    (build/cache, or MB_BUILD_CACHE), nothing else; a later build with every shard's cache merged
    (`merge_caches`) finds them all and prints nothing. The pages are not built: a shard's folder
    is its cache."""
    import tempfile
    if artefacts.default_folder("pdf") is None:
        raise ValueError("--shard stores its PDFs in the build cache: MB_BUILD_CACHE must not be off")
    h = Handouts()
    with tempfile.TemporaryDirectory(prefix="mb-shard-") as tmp:
        done = render_all(h, Path(tmp), log=log, shard=shard)
    mine = [j for j in done if in_shard(h, j, shard)]
    log(f"handouts: shard {shard[0]}/{shard[1]}: {len(mine)} of {len(done)} PDFs "
        f"({sum(not j.reused for j in mine)} printed) in {artefacts.default_folder('pdf')}")
    return mine


def merge_caches(folders, log=print) -> int:
    """Join shard caches (each a build/cache folder: pdf/, fonts/) into this build's cache. Entries
    are content-addressed, so joining is a union; returns how many files were added."""
    target = artefacts.default_folder("pdf")
    if target is None:
        raise ValueError("--merge joins shard caches into the build cache: MB_BUILD_CACHE must not be off")
    n = 0
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder}: not a shard's cache folder")
        for src in sorted(folder.rglob("*")):
            if not src.is_file() or src.name.startswith("."):
                continue
            dest = target.parent / src.relative_to(folder)
            if dest.exists():
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.{os.getpid()}")
            try:
                os.link(src, tmp)
            except OSError:
                shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
            n += 1
    log(f"handouts: {n} files joined into {target.parent} from {len(folders)} shard caches")
    return n


# ------------------------------------------------------------------ the print footer in every HTML page

def _page_source(h: Handouts, url: str):
    """(source line, short footer) for the site page at `url`."""
    if getattr(h, "_sources_by_url", None) is None:     # county and service pages, looked up by address
        h._sources_by_url, h._all_docs = {}, None
        h._provinces = {c["province_slug"] for c in h.site.counties}
        for county in h.site.counties:
            for s in county["services"]:
                h._sources_by_url.setdefault(s["url"], (county, s))
            for u in (rule_sheets.page_url(county), county["url"]):
                h._sources_by_url[u] = (county, None)
    if url in h._sources_by_url:
        county, s = h._sources_by_url[url]
        line = h.source_line(county, s) if s else h.source_line(county)
        return line, line
    if url.startswith(("compare/", "away/", "glossary/")) or url.count("/") == 1 and url[:-1] in h._provinces:
        if getattr(h, "_all_docs", None) is None:
            h._all_docs = "；".join(f"{c['name']}：《{c['document']['title']}》（{c['document']['status_text']}）"
                                    f"{pages.date_text(c['document']['date'])}" for c in h.site.counties)
        return f"来源：各县公开的政策文件（{h._all_docs}）", "来源：各县公开的政策文件，每项注明出处"
    return "本站内容全部来自各县公开的政策文件，每页注明出处和日期。", "养老服务明白卡：内容来自各县公开的政策文件"


def stamp_pages(site_dir: Path, h: Handouts, only=None) -> int:
    """Add the print-only footer (address, QR code, source and date) to every HTML page, or to the
    pages among `only` (paths relative to site_dir: the files an incremental build wrote again)."""
    n = 0
    paths = sorted(site_dir.rglob("*.html")) if only is None else \
        [site_dir / rel for rel in sorted(only) if rel.endswith("index.html")]
    for path in paths:
        rel = path.relative_to(site_dir).as_posix()
        if rel == "404.html" or rel.startswith("assets/") or not rel.endswith("index.html"):
            continue
        url = rel[: -len("index.html")]
        text = path.read_text(encoding="utf-8")
        if "mb-print-foot" in text or "</body>" not in text:
            continue
        line, short = _page_source(h, url)
        address = h.url(url)
        foot = h.render("_page_foot.html", address=address, line=line)
        style = f'<style media="print">@page {{ @bottom-left {{ content: {css_string(short)}; }} }}</style>'
        text = text.replace("</head>", style + "</head>", 1)
        text = text.replace("</body>", foot + "</body>", 1)
        path.write_text(text, encoding="utf-8")
        n += 1
    save_qr_masks()
    return n


# ------------------------------------------------------------------ the build step

def build(site_dir, pdf: bool = True, log=print, previous: dict | None = None, h: Handouts | None = None,
          work: Path = WORK):
    """The footers, then the PDFs and handouts.json. `previous`: site_dir's record of the last build
    (state.begin: the site folder as that build left it, and its `handouts` section, `last_record`),
    or None: everything is made, as in a clean build. With it, the footer goes only into the pages
    written since (state.changed: every other page already has the one it would get, since a page
    is written again whenever a county its footer reads changes: Page.deps), and the PDFs of the
    counties whose handouts' dependencies are unchanged are neither rendered nor touched
    (render_all). Either way `last_record` is this build's record for the next one (None: no PDFs)."""
    global last_record
    last_record = None
    site_dir = Path(site_dir)
    h = h or Handouts()
    files = changed = None
    if previous is not None:
        old_files = previous.get("files") or {}
        files = state.scan(site_dir)
        changed = {rel for rel, st in files.items() if old_files.get(rel) != st}     # = state.changed
    start = time.perf_counter()
    n = stamp_pages(site_dir, h, changed)
    log(f"handouts: print footer and QR code in {n} pages ({time.perf_counter() - start:.1f} s)")
    if not pdf:
        return []
    start = time.perf_counter()
    record = (previous or {}).get("handouts")
    done = render_all(h, site_dir, work=work, log=log, record=record,
                      unchanged=lambda url: url in files and old_files.get(url) == files[url]) if previous is not None \
        else render_all(h, site_dir, work=work, log=log)
    last_record = h.record
    took = time.perf_counter() - start
    # site/handouts.json holds only what the PDFs are (the same for the same sources, however built);
    # how long each took and whether it came from the cache go to build/handouts-times.json
    manifest = {
        "base": h.base,
        "handouts": [{"url": j.url, "kind": j.kind, "title": j.title, "pages": j.pages, "bytes": j.bytes,
                      "fit": j.fit, "page": j.context.get("s", j.context["county"])["url"]} for j in done],
    }
    text = json.dumps(manifest, ensure_ascii=False, indent=1)
    path = site_dir / "handouts.json"
    try:
        same = path.read_text(encoding="utf-8") == text
    except (OSError, ValueError):
        same = False
    if not same:         # written only when it changes: the later steps redo only what changed
        path.write_text(text, encoding="utf-8")
    times = {"built_seconds": round(took, 1), "workers": pdf_jobs(),
             "handouts": [{"url": j.url, "seconds": round(j.seconds, 2), "reused": j.reused} for j in done]}
    try:
        TIMES.parent.mkdir(parents=True, exist_ok=True)
        TIMES.write_text(json.dumps(times, ensure_ascii=False, indent=1), encoding="utf-8")
    except OSError:
        pass
    total = sum(j.bytes for j in done)
    log(f"handouts: {len(done)} PDFs, {sum(j.pages for j in done)} pages, {total / 1e6:.1f} MB ({took:.1f} s)")
    return done


def main(argv=None):
    import sys
    argv = sys.argv[1:] if argv is None else argv
    site_dir = Path(argv[0]) if argv and not argv[0].startswith("-") else ROOT / "site"
    build(site_dir, pdf="--no-pdf" not in argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
