"""mkdocs hooks: the catalogue's pages (province, county, service, comparison, glossary, 人户分离)
become generated files, the nav becomes the province → county → service tree, generated pages get
their HTML from site_build.pages, markers in hand-written pages are filled, and the search index is
written after the build. Set MB_CATALOGUE=path/to/catalogue.json to build another catalogue (bench)."""
from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from mkdocs.structure.files import File, InclusionLevel  # noqa: E402
from mkdocs.structure.nav import Link  # noqa: E402

from mkdocs.exceptions import PluginError  # noqa: E402

from checker.catalogue import CatalogueMissing, load_catalogue  # noqa: E402
from site_build import pages as site_pages  # noqa: E402
from site_build import search as site_search  # noqa: E402
from site_build.catalogue import CatalogueError  # noqa: E402

SITE: site_pages.Site | None = None
# Markers a hand-written page may hold; each is replaced by a template rendered for that page.
MARKERS = {
    "<!-- mb:home-counties -->": "home_counties.html",
    "<!-- mb:search -->": "search_box.html",
}


def on_config(config):
    global SITE
    try:
        catalogue = load_catalogue(os.environ.get("MB_CATALOGUE") or None)
    except CatalogueMissing as err:   # stale, missing or unreadable: mkdocs prints the message, no traceback
        raise PluginError(str(err)) from None
    SITE = site_pages.Site(catalogue)
    return config


def on_files(files, config):
    written = {f.src_uri for f in files.documentation_pages()}
    clash = sorted(written & set(SITE.pages))
    if clash:
        raise SystemExit(f"content/pages/ has files that the catalogue generates: {', '.join(clash)}")
    SITE.checker_src = next((s for s in site_pages.CHECKER_PAGES if s in written), None)
    if SITE.checker_src is None and files.get_file_from_path("checker/index.html"):
        SITE.checker_src = "checker/index.html"   # a static page: linked in on_nav
    for src, page in SITE.pages.items():
        # A staff page (the 核对表) is not in the nav: without the sidebar its tables get the width.
        front = {"title": page.title, "hide": ["toc"] if page.in_nav else ["toc", "navigation"],
                 "mb_kind": page.template[:-5]}
        files.append(File.generated(config, src, content=f"---\n{json.dumps(front, ensure_ascii=False)}\n---\n",
                                    inclusion=InclusionLevel.UNDEFINED if page.in_nav else InclusionLevel.NOT_IN_NAV))
    nav = SITE.nav(written)
    if SITE.checker_src and not SITE.checker_src.endswith(".md"):
        nav = [item for item in nav if "查一查能享受什么" not in item]
    config["nav"] = nav
    return files


def on_nav(nav, config, files):
    if SITE.checker_src and not SITE.checker_src.endswith(".md"):
        nav.items.insert(1, Link("查一查能享受什么", "checker/"))
    return nav


def on_page_content(html, page, config, files):
    src = page.file.src_uri
    if src in SITE.pages:
        return SITE.render(src)
    for marker, template in MARKERS.items():
        if marker in html:
            html = html.replace(marker, SITE.render_template(template, page.url))
    return html


_BETWEEN_TAGS = re.compile(r">[ \t]*\n\s*<")


def on_post_page(output, page, config):
    """Material's templates leave long runs of blank lines (≈ 900 bytes per nav entry): a run of
    whitespace holding a line break between two tags renders exactly as one line break."""
    if "<pre" in output or "<textarea" in output:
        return output
    return _BETWEEN_TAGS.sub(">\n<", output)


def on_post_build(config):
    _drop_unused_theme_scripts(Path(config["site_dir"]))
    out = Path(config["site_dir"]) / "search"
    out.mkdir(parents=True, exist_ok=True)
    try:
        index = site_search.build_index(SITE, require_words=not os.environ.get("MB_CATALOGUE"))
    except CatalogueError as err:  # e.g. catalogue/words.yaml: file, line and field, no traceback
        raise PluginError(f"目录有错误 / the catalogue has errors:\n{err}") from None
    for name, content in index.items():
        (out / name).write_text(json.dumps(content, ensure_ascii=False, separators=(",", ":"), sort_keys=True),
                               encoding="utf-8")  # sorted: the same bytes on every build


def _drop_unused_theme_scripts(site: Path):
    """Material copies its JS bundle, lunr and search worker into every build; no page of ours loads
    them (content/overrides/main.html drops the bundle, we have our own search). Removed, so the
    site holds no script that even names a CDN."""
    scripts = site / "assets" / "javascripts"
    if not scripts.is_dir():
        return
    if any("assets/javascripts/" in page.read_text(encoding="utf-8") for page in site.rglob("*.html")):
        return  # a page does load the theme's scripts: keep them
    shutil.rmtree(scripts)
