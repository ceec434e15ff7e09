"""The offline step (site_build/offline.py) and precompression (site_build/precompress.py) given the
record of the last build (site_build/state.py, `previous`) read only the files that changed, and
leave the folder byte for byte as a clean build of the same pages does (issue 17)."""
from __future__ import annotations

import pytest

from site_build import offline, precompress, state

COUNTIES = ["zj/a/", "zj/b/", "hn/c/"]
HEAD = '<html><head>\n<meta charset="utf-8">\n<script>document.documentElement.dataset.x = "{n}"</script>\n</head>'
PREPARE = '<p>出门前下载（约 <span data-prepare-size>5</span> MB）</p>'


def pages(edits: dict | None = None) -> dict:
    """{rel: text} of a small site as mkdocs would write it (before the offline step); `edits`
    replaces or adds files (None: removes one)."""
    body = "<p>养老服务明白卡 基本养老服务 {n}</p>\n" * 40
    theme = '<script src="{up}assets/javascripts/bundle.js"></script><link href="{up}assets/stylesheets/main.css" rel="stylesheet">'

    def page(rel, extra=""):
        up = "../" * rel.count("/")
        return (HEAD.format(n=rel) + "<body>" + theme.format(up=up) + extra + body.format(n=rel) + "</body></html>\n")
    out = {"assets/offline.js": "// registers sw.js\n" * 40,
           "assets/javascripts/bundle.js": "function f(){return 1}\n" * 100,
           "assets/javascripts/unused.js": "function g(){return 2}\n" * 100,
           "assets/stylesheets/main.css": "body{color:#000}\n" * 100,
           "assets/pyodide/pyodide.asm.js": "var pyodide = 1;\n" * 300,
           "search/meta.json": '{"v": 3, "pad": "' + "x" * 600 + '"}', "search/hints.json": "{}",
           "search/t0.json": '{"养老": [1, 2, 3]}' * 60, "search/d0.json": '[["a", "b"]]' * 60,
           "sitemap.xml": "<urlset>" + "<url>x</url>" * 100 + "</urlset>",
           "index.html": page("index.html", PREPARE), "checker/index.html": page("checker/index.html", PREPARE),
           "screen/index.html": page("screen/index.html", PREPARE), "glossary/index.html": page("glossary/index.html"),
           "404.html": page("404.html")}
    for county in COUNTIES:
        for sub in ("", "service-1/", "service-2/"):
            out[f"{county}{sub}index.html"] = page(f"{county}{sub}index.html")
        out[f"{county}handout.pdf"] = "%PDF-1.7 " + county * 100
    for rel, text in (edits or {}).items():
        if text is None:
            out.pop(rel, None)
        else:
            out[rel] = page(rel, text) if rel.endswith(".html") and not text.startswith("<html") else text
    return out


def write(root, files: dict, only=None):
    for rel, text in files.items():
        if only is not None and rel not in only:
            continue
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def run(site, previous=None, budget=None, pc=None):
    old = offline.ALL_COUNTIES_BELOW
    if budget is not None:
        offline.ALL_COUNTIES_BELOW = budget
    try:
        info = offline.build(site, previous)
    finally:
        offline.ALL_COUNTIES_BELOW = old
    packed = precompress.build(site, previous, cache=pc)
    return info, packed


def contents(site) -> dict:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def compressed(tmp_path_factory):
    """One precompression cache for every test here (the same files compressed once)."""
    return tmp_path_factory.mktemp("precompress")


@pytest.fixture
def setup(tmp_path, monkeypatch, compressed):
    monkeypatch.setenv("MB_BUILD_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(offline, "county_dirs", lambda site: [c for c in COUNTIES if (site / c).is_dir()])
    pc = compressed
    monkeypatch.setattr(precompress.wire_bytes, "__defaults__", (".br", pc))
    return tmp_path, pc


# (what the second build changes, the budget of the first build, of the second build)
SCENARIOS = {
    "nothing": ({}, set(), 0, 0),
    # one county's pages written again (two of them changed, one the same bytes), a search shard,
    # a page that now links a theme script no page linked, the home page's inline script
    "one county": ({"zj/b/index.html": "<p>新的一句</p>", "zj/b/service-1/index.html": "<p>改了</p>",
                    "search/t0.json": '{"养老": [1, 2]}' * 70,
                    "glossary/index.html": '<script src="../assets/javascripts/unused.js"></script>',
                    "index.html": PREPARE + "<script>var y = 2</script>"},
                   {"zj/b/service-2/index.html"}, 0, 0),
    "grouped no more": ({"hn/c/index.html": "<p>新的一句</p>"}, set(), 0, 10 ** 9),
    "grouped now": ({}, set(), 10 ** 9, 0),
    "a file gone": ({"assets/javascripts/bundle.js": None, "hn/c/service-2/index.html": None}, set(), 0, 0),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_second_build_is_the_clean_build_of_its_pages(setup, name):
    tmp, pc = setup
    edits, same, first_budget, second_budget = SCENARIOS[name]
    site = tmp / "site"
    write(site, pages())
    run(site, None, first_budget, pc)
    previous = {"files": state.scan(site)}
    new = pages(edits)
    # what this build's earlier steps rewrite: the edited files (and a page written again unchanged)
    write(site, new, only=set(edits) | same)
    for rel, text in edits.items():
        if text is None:
            (site / rel).unlink()
    info, packed = run(site, previous, second_budget, pc)

    clean = tmp / "clean"
    write(clean, new)
    clean_info, clean_packed = run(clean, None, second_budget, pc)
    got, want = contents(site), contents(clean)
    assert sorted(got) == sorted(want)
    assert [rel for rel in want if got[rel] != want[rel]] == []
    leave = ("read", "pages_read")
    assert {k: v for k, v in info.items() if k not in leave} == {k: v for k, v in clean_info.items() if k not in leave}
    assert {k: v for k, v in packed.items() if k not in leave} == {k: v for k, v in clean_packed.items() if k not in leave}
    # only what changed was read (a county that joined or left the groups: its pages too)
    touched = {r for r in edits if edits[r] is not None} | same
    if first_budget != second_budget:
        touched |= {r for r in new if r.endswith(".html") and r.startswith(tuple(COUNTIES))}
    assert info["pages_read"] == len({r for r in touched if r.endswith(".html")}), info
    assert packed["read"] <= len(touched | {"sw.js", *offline.PREPARE_PAGES}), packed
    if name == "nothing":
        assert packed["read"] == 0 and info["pages_read"] == 0


def test_without_a_record_the_folder_is_built_whole_again(setup):
    """previous=None on a folder an earlier run left (a test, a hand run): the same as a clean build."""
    tmp, pc = setup
    site, clean = tmp / "site", tmp / "clean"
    write(site, pages())
    run(site, None, 0, pc)
    write(site, pages({"zj/a/index.html": "<p>又改了</p>"}), only={"zj/a/index.html"})
    run(site, None, 10 ** 9, pc)
    write(clean, pages({"zj/a/index.html": "<p>又改了</p>"}))
    run(clean, None, 10 ** 9, pc)
    assert contents(site) == contents(clean)


def test_without_its_facts_the_offline_step_reads_everything_and_gives_the_same(setup):
    """The record but not offline.py's facts (build/cache/offline/ removed): every file is read again,
    and the folder is still the clean build's."""
    import shutil
    tmp, pc = setup
    site, clean = tmp / "site", tmp / "clean"
    write(site, pages())
    run(site, None, 0, pc)
    previous = {"files": state.scan(site)}
    shutil.rmtree(tmp / "cache" / "offline")
    write(site, pages({"zj/a/index.html": "<p>又改了</p>"}), only={"zj/a/index.html"})
    info, _ = run(site, previous, 0, pc)
    assert info["pages_read"] == len([r for r in pages() if r.endswith(".html")])
    write(clean, pages({"zj/a/index.html": "<p>又改了</p>"}))
    run(clean, None, 0, pc)
    assert contents(site) == contents(clean)
