"""The reliability audit of 2026-11-29, section 4 (a catalogue that cannot break a page) and the
pages' security meta tags: every broken catalogue file is refused with file, line and field, fast,
by every command, never with a traceback; names with markup are refused, and escaped anyway in the
nav and <title> of a site built from a catalogue that holds them; every page carries a
Content-Security-Policy and no-referrer. The CLI rows of section 1 are in test_cli.py; the
browser checks (CSP in Chromium, share link, offline PDF) in test_checker_browser.py and
test_offline.py."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from site_build import offline
from site_build.catalogue import CatalogueError, load_catalogue, load_county

ROOT = Path(__file__).resolve().parent.parent
BROKEN = ROOT / "tests" / "fixtures" / "broken" / "reliability" / "zhejiang"
REL = "tests/fixtures/broken/reliability/zhejiang"

# fixture: (line, field, words the message holds) — audit row in the comment
MESSAGES = {
    "markup-name": (19, "services[0].name", "names and titles may not contain"),                  # 4.1
    "markup-county-name": (4, "county.name", "names and titles may not contain"),                 # 4.1
    "open-tier-then-more": (35, "services[0].amount.tiers[2].min", "tiers[1] has no max"),         # 4.2
    "open-first-tier": (34, "services[0].amount.tiers[1].min", "tiers[0] has no max"),             # 4.2
    "age-min-above-max": (28, "services[0].conditions[1].age.min", "min 90 is above max 80"),      # 4.3
    "nan-yuan": (33, "services[0].amount.tiers[0].yuan", "not .nan, .inf"),                        # 4.4
    "inf-yuan": (33, "services[0].amount.tiers[0].yuan", "not .nan, .inf"),                        # 4.4
    "bool-tier-min": (33, "services[0].amount.tiers[0]", "must be whole 周岁"),                     # 4.5
    "excludes-itself": (41, "services[0].excludes[0].service", "cannot exclude itself"),           # 4.5
    "alias-bomb": (31, "(yaml)", "anchors and aliases"),                                           # 4.6
    "anchor": (21, "(yaml)", "anchors and aliases"),                                               # 4.6
    "deep-nesting": (29, "(yaml)", "nested more than"),                                            # 4.7
    "gbk-word": (37, "(file)", "is not UTF-8"),                                                    # 4.8
}


def test_every_reliability_fixture_has_a_message_test():
    assert {p.stem for p in BROKEN.glob("*.yaml")} == set(MESSAGES)


@pytest.mark.parametrize("name", sorted(MESSAGES))
def test_report_4_a_broken_entry_is_refused_with_file_line_and_field(name):
    line, field, words = MESSAGES[name]
    start = time.perf_counter()
    with pytest.raises(CatalogueError) as err:
        load_county(BROKEN / f"{name}.yaml")
    assert time.perf_counter() - start < 1
    assert str(err.value).startswith(f"{REL}/{name}.yaml:{line}: {field}: "), str(err.value)
    assert words in str(err.value)


def _county(tmp_path, text: str) -> Path:
    path = tmp_path / "zhejiang" / "sample.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _valid() -> str:
    return (ROOT / "tests" / "fixtures" / "valid-county.yaml").read_text(encoding="utf-8").replace("SLUG", "sample")


def test_report_4_7_nesting_100000_deep_is_refused_quickly_without_a_crash(tmp_path):
    """libyaml's composer segfaulted at 100,000 `[`; the event scan stops at the schema's depth."""
    path = _county(tmp_path, _valid() + "deep: " + "[" * 100_000 + "]" * 100_000 + "\n")
    start = time.perf_counter()
    with pytest.raises(CatalogueError) as err:
        load_county(path)
    assert time.perf_counter() - start < 2 and "nested more than" in str(err.value)


def test_report_4_6_a_billion_laughs_in_a_validated_value_is_refused_in_a_second(tmp_path):
    bomb = "".join(f"    - &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]\n" for i in range(1, 10))
    text = _valid().replace("      text: 每月60元起", "      text: *l9").replace(
        "services:", "bombs:\n    - &l0 lol\n" + bomb + "services:")
    start = time.perf_counter()
    with pytest.raises(CatalogueError) as err:
        load_county(_county(tmp_path, text))
    assert time.perf_counter() - start < 1 and "anchors and aliases" in str(err.value)


@pytest.mark.parametrize("old, new, words", [
    ("{min: 80, max: 89, yuan: 60,", "{min: 80, max: 89, yuan: true,", "not .nan, .inf or true/false"),
    ("      - age: {min: 80}", "      - age: {min: {male: 90, female: 85}, max: {male: 80, female: 95}}", "above max"),
    ("      - age: {min: 80}", "      - {field: per_capita_income, min: 900, max: 100}", "above max"),
    ("      - age: {min: 80}", "      - {field: per_capita_income, max: .inf}", "finite"),
    ("    name: 高龄津贴", "    name: \"高龄`津贴\"", "names and titles"),
    ("    name: 高龄津贴", "    name: \"高龄'津贴\"", "names and titles"),
    ("  province: 浙江省", "  province: 浙江省<b>", "names and titles"),
    ("    groups: [age]", "    groups: [[age]]", "groups"),             # a list where a name is looked up
])
def test_report_4_more_bad_values_are_refused(tmp_path, old, new, words):
    text = _valid()
    assert old in text
    with pytest.raises(CatalogueError) as err:
        load_county(_county(tmp_path, text.replace(old, new, 1)))
    assert words in str(err.value)


SHAPES = ["[[a]]", "{a: 1}", "[]", "{}", "true", ".nan", "null", "-1", "1e400", "[1, [2]]"]


def test_any_value_of_any_shape_anywhere_gives_a_message_with_its_line(tmp_path):
    """Every `key: value` line of a county file replaced by a list, a mapping, a boolean, .nan …:
    refused with file, line and field — never a TypeError or a 'cannot be checked'."""
    base = (ROOT / "tests" / "fixtures" / "valid-county.yaml").read_text(encoding="utf-8").replace("SLUG", "sample")
    base = base.replace("    source: {item: 11}", "    source: {item: 11}\n    phones:\n      - {name: 县民政局, number: \"0577-1\"}\n"
                        "    excludes:\n      - {service: \"330324-12\", text: 二选一}\n    also: [一]")
    base = base.replace("      - age: {min: 80}", "      - age: {min: 80}\n      - {field: economic, in: [dibao]}\n"
                        "      - {any: [{field: dementia, is: true}, {field: per_capita_income, max: 100}]}\n      - {ref: elder}")
    lines = base.splitlines()
    tried = 0
    for i, line in enumerate(lines):
        match = re.match(r"^(\s*(?:- )?[A-Za-z_]+: )(.+)$", line)
        if not match:
            continue
        for shape in SHAPES:
            text = "\n".join(lines[:i] + [match.group(1) + shape] + lines[i + 1:])
            tried += 1
            try:
                load_county(_county(tmp_path, text))
            except CatalogueError as err:
                assert "cannot be checked" not in str(err), (line, shape, str(err))
    assert tried > 300


# ---------------------------------------------------------------- every command, never a traceback

@pytest.fixture(scope="module")
def broken_checkout(tmp_path_factory):
    """A copy of the code and catalogue with a compiled JSON, then one county broken after it."""
    root = tmp_path_factory.mktemp("checkout")
    for name in ("checker", "site_build", "catalogue"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    done = subprocess.run([sys.executable, "-m", "site_build.catalogue"], cwd=root, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"the catalogue of this checkout does not compile: {done.stderr[:300]}")
    time.sleep(0.01)
    yongjia = root / "catalogue" / "zhejiang" / "yongjia.yaml"
    data = yongjia.read_bytes()
    yongjia.write_bytes(data.replace("高龄津贴".encode(), "高龄津贴".encode() + "民政".encode("gbk"), 1))  # one GBK word
    os.utime(yongjia)
    return root


@pytest.mark.parametrize("args, stdin", [
    (("site_build.catalogue", "--check"), None),
    (("site_build.catalogue",), None),
    (("site_build", "--no-pdf"), None),
    (("checker", "check", "-"), '{"hukou": "330324", "age": 80}'),
    (("checker", "services", "--county", "330324"), None),
])
def test_report_4_9_a_broken_catalogue_gives_its_message_from_every_command(broken_checkout, args, stdin):
    done = subprocess.run([sys.executable, "-m", *args], cwd=broken_checkout, input=stdin, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr and "目录" in done.stderr
    if args[0] == "site_build.catalogue" or args[0] == "site_build":
        assert "catalogue/zhejiang/yongjia.yaml:" in done.stderr and "not UTF-8" in done.stderr


# ---------------------------------------------------------------- escaping in the built HTML

@pytest.fixture(scope="module")
def markup_site(tmp_path_factory):
    """The site built by mkdocs from a catalogue (MB_CATALOGUE, bypassing the loader's refusal) whose
    county, province and service names hold markup."""
    tmp = tmp_path_factory.mktemp("markup")
    catalogue = load_catalogue()
    code = "330324" if "330324" in catalogue["counties"] else next(iter(catalogue["counties"]))
    county = catalogue["counties"][code]
    catalogue["counties"] = {code: county}
    county["name"] = county["name"] + "<i>县</i>"
    county["province"] = county["province"] + "&amp;"
    service = county["services"][0]
    service["name"] = "高龄津贴<img src=x onerror=alert(1)><script>alert(2)</script>"
    path = tmp / "catalogue.json"
    path.write_text(json.dumps(catalogue, ensure_ascii=False), encoding="utf-8")
    env = dict(os.environ, MB_CATALOGUE=str(path), NO_MKDOCS_2_WARNING="1")
    site = tmp / "site"
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--quiet", "--site-dir", str(site)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return site, county, service


def test_report_4_1_names_with_markup_are_text_in_nav_and_title(markup_site):
    site, county, service = markup_site
    page = (site / service["url"] / "index.html").read_text(encoding="utf-8")
    assert "<script>alert(2)" not in page and "<img src=x" not in page and "<i>县</i>" not in page
    title = re.search(r"<title>(.*?)</title>", page, re.S).group(1)
    assert "高龄津贴&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in title
    nav = page[page.index('class="md-nav'):]
    assert "高龄津贴&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in nav
    assert "&lt;i&gt;县&lt;/i&gt;" in nav          # the county's section title
    assert "&amp;amp;" in nav                      # the province's '&' shown as typed
    for other in site.rglob("*.html"):
        text = other.read_text(encoding="utf-8")
        assert "<script>alert(2)" not in text and "onerror=alert(1)>" not in text, other


# ---------------------------------------------------------------- Content-Security-Policy, referrer

def test_the_policy_allows_only_the_site_and_each_pages_own_inline_code():
    page = '<head><meta charset="utf-8"><script>a()</script><style media="print">x{}</style><script src="s.js"></script></head>'
    policy = offline.content_security_policy(page)
    assert policy.startswith("default-src 'self';") and "'unsafe-inline'" not in policy and "*" not in policy
    assert "https:" not in policy and "http:" not in policy
    assert policy.count("'sha256-") == 2


def test_every_built_page_has_the_policy_first_in_head_and_no_referrer(site_dir):
    pages = list(site_dir.rglob("*.html"))
    assert pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        metas = re.findall(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', text)
        assert len(metas) == 1, page
        assert metas[0] == offline.content_security_policy(text), page   # hashes match this page's inline code
        head = text[: text.index("</head>")]
        first_script = min((head.find(t) for t in ("<script", "<style", "<link") if t in head), default=len(head))
        assert head.index("Content-Security-Policy") < first_script, page
        if page.name != "404.html" or "<head" in text:
            assert '<meta name="referrer" content="no-referrer">' in text, page


def test_mkdocs_with_an_unreadable_catalogue_says_so_without_a_traceback(tmp_path):
    bad = tmp_path / "catalogue.json"
    bad.write_text("{not json", encoding="utf-8")
    env = dict(os.environ, MB_CATALOGUE=str(bad), NO_MKDOCS_2_WARNING="1")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--quiet", "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "Traceback" not in done.stderr and "make catalogue" in done.stderr


def test_the_browser_entry_point_refuses_deep_nesting_and_huge_numbers_without_a_traceback():
    """check_json is what the browser worker calls: no traceback may reach err.en."""
    import json as _json
    import checker as _checker
    for text in ('{"x":' + "[" * 100000 + "]" * 100000 + "}", '{"age": ' + "9" * 5000 + "}", '{"sex": ["male"]}'):
        out = _json.loads(_checker.check_json(text))
        assert out["ok"] is False and "Traceback" not in out["error"]["en"] and out["error"]["zh"]
