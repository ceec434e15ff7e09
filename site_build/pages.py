"""The guide's pages as data: which pages the catalogue gives (URL, title, template), the
province → county → service nav, and their HTML rendered through content/templates/ (Jinja2).

site_build/hooks.py hands these to mkdocs; the tests and the benchmark use them directly.
Nothing here knows about mkdocs.
"""
from __future__ import annotations

import datetime as dt
import os
import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from checker.engine import DEFAULT_ASK, compile_condition, in_force
from checker.profile import FIELDS
from site_build import cache as artefacts
from site_build import rules as rule_sheets
from site_build.catalogue import load_shared

ROOT = Path(__file__).resolve().parent.parent
# MB_TEMPLATES: another copy of content/templates/ (tests/test_incremental.py edits one)
TEMPLATES = Path(os.environ.get("MB_TEMPLATES") or ROOT / "content" / "templates")

APPLY_TEXT = {"automatic": "不用申请", "apply": "需要申请", "unknown": "文件没写要不要申请"}
APPLY_AT_TEXT = {
    "hukou": "到户籍地（户口所在地）办理",
    "residence": "到常住地（平时住的地方）办理",
    "venue": "直接到提供服务的地方",
    "none": "不用去哪里办",
    "unknown": "文件没有写去哪里办",
}
READING_TEXT = {"convention": "本页的约定，文件没有写", "inference": "本页的推断，文件没有明说",
                "at_most": "文件没有写清楚条件，最多答“可能”", "contested": "文件前后说法不一"}


def unsaid(where: str) -> str:
    """`where` of a service nobody applies for, without a leading 不用申请 the page already says."""
    return re.sub(r"^(不用申请|无需申请|不需要申请)(（[^）]*）)?[。，；,]?", "", where or "")


def ask(county) -> str:
    """Who to ask when the document is silent: the county's own `ask`, or the general hotline."""
    return county.get("ask") or DEFAULT_ASK
PAID_BY_TEXT = {
    "hukou": "户籍地（户口所在地）发放",
    "residence": "常住地（平时住的地方）发放",
    "shared": "户籍地和常住地分担",
}

# Hand-written pages that the nav lists after the generated ones, if they exist in docs_dir.
CHECKER_PAGES = ("checker/index.md", "checker.md")


@dataclass
class Page:
    """One generated page: `src` is its path in docs_dir, `url` where it is served."""
    src: str
    title: str            # the <title> (and the page's h1 unless the template says otherwise)
    nav_title: str
    template: str
    context: dict = field(default_factory=dict)
    in_nav: bool = True   # False: a page for staff (the 核对表), left out of the elder-facing nav
    # The counties whose data the page (and its print footer) reads, besides Site.shared_digest;
    # None: every county. tests/test_page_deps.py renders every page with the counties' data traced.
    deps: tuple | None = None

    @property
    def url(self) -> str:
        stem = self.src[:-3]
        if stem == "index":
            return ""
        if stem.endswith("/index"):
            return stem[: -len("index")]
        return stem + "/"


def rel_url(target: str, from_url: str) -> str:
    """Relative link from the page served at `from_url` ("a/b/") to `target` ("c/d/#x", "" = home)."""
    path, _, frag = target.partition("#")
    base = from_url.rstrip("/") or "."
    dest = path.rstrip("/") or "."
    out = posixpath.relpath(dest, base)
    if out == ".":
        out = "./"
    elif path.endswith("/") or path == "":
        out += "/"
    return out + (f"#{frag}" if frag else "")


def date_text(iso: str | None) -> str:
    if not iso:
        return "文件未注明日期"
    d = dt.date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"


def age_range(lo, hi) -> str:
    if hi is None:
        return f"{lo}周岁以上"
    if lo == hi:
        return f"{lo}周岁"
    return f"{lo}至{hi}周岁"


class Terms:
    """Links the first occurrence of each glossary word on a page to its explanation."""

    def __init__(self, glossary: dict, link: str):
        self.glossary, self.link = glossary, link
        words = sorted(glossary, key=len, reverse=True)
        self.pattern = re.compile("|".join(map(re.escape, words))) if words else None
        self.used: list = []      # linked (the first time each appears)
        self.order: list = []     # every glossary word met, linked or plain (for 这页用到的词)

    def __call__(self, text) -> Markup:
        escaped = str(escape(text or ""))
        if self.pattern is None:
            return Markup(escaped)

        def link(match):
            word = match.group(0)
            if word in self.used:
                return word
            self.used.append(word)
            self.order.append(word)
            entry = self.glossary[word]
            tip = f"{entry['full']}：{entry['text']}" if entry.get("full") else entry["text"]
            return f'<a class="mb-term" href="{self.link}#{word}" title="{escape(tip)}">{word}</a>'
        return Markup(self.pattern.sub(link, escaped))

    def plain(self, text) -> Markup:
        """Text inside a link or a heading (a service card, a page title), where a word should not be a
        link of its own: its glossary words are only noted, for the page's 这页用到的词 list."""
        escaped = str(escape(text or ""))
        if self.pattern is not None:
            self.order.extend(self.pattern.findall(escaped))
        return Markup(escaped)

    def entries(self):
        """The page's glossary words, linked or noted, in the order they first appear; then any word
        an explanation itself uses (集中供养 is explained with 特困), so the list needs nothing else."""
        words = list(dict.fromkeys(self.order))
        for word in words:            # grows while it is read: explanations of the added words too
            for other in (self.pattern.findall(self.glossary[word]["text"]) if self.pattern else []):
                if other not in words:
                    words.append(other)
        return [(w, self.glossary[w]) for w in words]


def in_force_today(catalogue: dict, day: dt.date) -> dict:
    """The catalogue as pages show it on `day`: every dated value (`changes`) replaced by the one in
    force, and each service's changes still to come as plain lines (`changes_ahead`). The checker
    keeps every dated value and answers for its own `as_of`. Everything `day` changes is in the view
    (a service that has ended says `ended`), so a county's view is all its pages read of it.
    Counties and services are copied, the rest shared with `catalogue` (nothing below them is
    changed: `walk` builds new amounts)."""
    view = dict(catalogue)
    view["counties"] = {code: {**county, "services": [dict(s) for s in county["services"]]}
                        for code, county in catalogue["counties"].items()}
    iso = day.isoformat()
    for county in view["counties"].values():
        titles = {d["file"]: d["title"] for d in [county["document"]] + (county.get("documents") or [])}

        def walk(node, ahead):
            if isinstance(node, list):
                return [walk(x, ahead) for x in node]
            if not isinstance(node, dict):
                return node
            if "changes" in node:
                current, _, upcoming = in_force(node, day)
                for change in node["changes"]:
                    when = dt.date.fromisoformat(change["from"])
                    if when > day:
                        text = change.get("text") or str(change.get("yuan"))
                        ahead.append(f"从{date_text(change['from'])}起：{text}（依据《{titles.get(change['document'], change['document'])}》）")
                node = current
            return {k: walk(v, ahead) for k, v in node.items()}

        for s in county["services"]:
            if s.get("until"):
                s["ended"] = s["until"] < iso
            ahead: list = []
            if s.get("amount"):
                s["amount"] = walk(s["amount"], ahead)
            if ahead:
                s["changes_ahead"] = ahead
    return view


class Site:
    """The whole guide, computed once from the compiled catalogue, as it stands today."""

    def __init__(self, catalogue: dict, today: dt.date | None = None):
        self.today = today or dt.date.today()
        catalogue = in_force_today(catalogue, self.today)
        self.catalogue = catalogue
        # The compiled JSON sorts its keys; pages follow shared.yaml's order (groups, topics, glossary).
        shared = load_shared()
        self.groups, self.topics, self.glossary = (
            {k: catalogue[name][k] for k in shared[name] if k in catalogue[name]}
            for name in ("groups", "topics", "glossary"))
        self.counties = sorted(catalogue["counties"].values(), key=lambda c: c["code"])
        self.services = {s["id"]: s for c in self.counties for s in c["services"]}
        provinces: dict = {}
        for c in self.counties:
            p = provinces.setdefault(c["province_slug"], {"slug": c["province_slug"], "name": c["province"],
                                                          "url": f"{c['province_slug']}/", "counties": []})
            p["counties"].append(c)
        self.provinces = list(provinces.values())
        self.by_topic: dict = {}
        for c in self.counties:
            for s in c["services"]:
                if s.get("topic"):
                    self.by_topic.setdefault(s["topic"], []).append((c, s))
        self.topic_order = [t for t in self.topics if t in self.by_topic]
        self.away = [(c, [s for s in c["services"] if self.is_away(s)]) for c in self.counties]
        self.away = [(c, ss) for c, ss in self.away if ss]
        # service id → [(the service that excludes it, the text)], for the rule sheets
        self.excluded_by: dict = {}
        for other in self.services.values():
            for ex in other.get("excludes") or []:
                self.excluded_by.setdefault(ex["service"], []).append((other, ex["text"]))
        self.pages: dict[str, Page] = {}
        self._add_pages()
        self.env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                               trim_blocks=True, lstrip_blocks=True)
        self.env.globals.update(site=self, APPLY_TEXT=APPLY_TEXT, APPLY_AT_TEXT=APPLY_AT_TEXT,
                                PAID_BY_TEXT=PAID_BY_TEXT, date_text=date_text, age_range=age_range,
                                tel=tel, ask=ask)
        self.env.filters["unsaid"] = unsaid
        self.checker_src: str | None = None   # set by the hooks when the checker page exists
        self._digests: dict = {}
        self._template_digests: dict = {}
        self._shared_digest: str | None = None

    # ------------------------------------------------------------ which pages

    @staticmethod
    def is_away(service) -> bool:
        """Services the 人户分离 page lists: those saying what to do when living away."""
        return bool(service.get("away") or service.get("paid_by") or "away" in service["groups"])

    def _add(self, page: Page):
        self.pages[page.src] = page

    def related(self, county) -> tuple:
        """County codes a county's pages read: its own, and those of the services it excludes or
        that exclude one of its services (their names and links show on its pages)."""
        mine = {s["id"] for s in county["services"]}
        codes = {county["code"]}
        for s in county["services"]:
            for ex in s.get("excludes") or []:
                other = self.services.get(ex["service"])
                if other is not None:
                    codes.add(other["county"])
        for sid, by in self.excluded_by.items():
            if sid in mine:
                codes.update(other["county"] for other, _text in by)
        return tuple(sorted(codes))

    def _add_pages(self):
        # the print footer of a province page lists every county's document (handouts._page_source)
        for p in self.provinces:
            self._add(Page(f"{p['slug']}/index.md", p["name"], p["name"], "province.html", {"province": p}))
            for c in p["counties"]:
                deps = self.related(c)
                self._add(Page(f"{c['url']}index.md", f"{c['name']}（{c['province']}）", c["name"], "county.html",
                               {"county": c, "province": p}, deps=deps))
                self._add(Page(rule_sheets.page_src(c), f"{c['name']}{rule_sheets.TITLE}（给工作人员核对用）",
                               rule_sheets.TITLE, "rules.html",
                               {"county": c, "province": p, "sheet_of": rule_sheets.sheet}, in_nav=False, deps=deps))
                for s in c["services"]:
                    self._add(Page(f"{s['url'][:-1]}.md", f"{s['name']}（{c['name']}）", s["name"], "service.html",
                                   {"service": s, "county": c, "province": p}, deps=deps))
        self._add(Page("compare/index.md", "各县对比", "各县对比", "compare_index.html"))
        for t in self.topic_order:
            name = self.topics[t]["name"]
            self._add(Page(f"compare/{t}.md", f"{name}：各县对比", name, "compare.html",
                           {"topic": t, "topic_name": name, "rows": self.by_topic[t]}))
        self._add(Page("away.md", "住在外地、人户分离怎么办", "住在外地怎么办", "away.html"))
        self._add(Page("glossary.md", "名词解释", "名词解释", "glossary.html"))

    def nav(self, existing: set) -> list:
        """mkdocs `nav`: home, checker, provinces → counties → services, comparisons, the rest.
        `existing` holds the hand-written pages' paths; missing ones are left out."""
        def have(*srcs):
            return next((s for s in srcs if s in existing), None)
        nav: list = []
        if have("index.md"):
            nav.append({"首页": "index.md"})
        if self.checker_src:
            nav.append({"查一查能享受什么": self.checker_src})
        # Material prints nav titles unescaped: names from the catalogue go in as HTML text (the loader
        # refuses markup characters in names as well; this holds for any catalogue, e.g. MB_CATALOGUE).
        e = lambda text: str(escape(text))  # noqa: E731
        for p in self.provinces:
            counties = [{e(c["name"]): [f"{c['url']}index.md"] + [{e(s["name"]): f"{s['url'][:-1]}.md"} for s in c["services"]]}
                        for c in p["counties"]]
            nav.append({e(p["name"]): [f"{p['slug']}/index.md"] + counties})
        nav.append({"各县对比": ["compare/index.md"] + [{e(self.topics[t]["name"]): f"compare/{t}.md"} for t in self.topic_order]})
        nav.append({"住在外地怎么办": "away.md"})
        nav.append({"名词解释": "glossary.md"})
        for title, src in (("搜索", "search.md"), ("批量排摸（工作人员用）", "screen/index.md"), ("关于本站", "about.md")):
            if have(src):
                nav.append({title: src})
        return nav

    # ------------------------------------------------------------ rendering

    def render(self, src: str) -> str:
        page = self.pages[src]
        return self.render_template(page.template, page.url, page=page, **page.context)

    def render_template(self, template: str, url: str, **context) -> str:
        terms = Terms(self.glossary, rel_url("glossary/", url))
        html = self.env.get_template(template).render(
            url=url, rel=lambda target: rel_url(target, url), terms=terms,
            checker_url=rel_url("checker/", url) if self.checker_src else None, **context)
        # Collapse blank lines so Markdown treats the result as one HTML block, whatever it holds.
        return re.sub(r"\n\s*\n", "\n", html)

    # ------------------------------------------------------------ helpers the templates use

    def county_groups(self, county):
        """[(group key, group, [services])] in shared.yaml order; a service shows under each of its groups."""
        out = []
        for key, group in self.groups.items():
            services = [s for s in county["services"] if key in s["groups"]]
            if services:
                out.append((key, group, services))
        return out

    def ask_for(self, service) -> str:
        """Who to ask about a service when its document is silent (its county's `ask`)."""
        return ask(self.catalogue["counties"][service["county"]])

    @staticmethod
    def has_readings(service) -> bool:
        """Whether any condition of the service is our reading rather than the document's words."""
        def walk(c):
            return bool(c.get("reading") or c.get("at_most") or "contested" in c) or any(
                walk(x) for k in ("any", "all", "contested") for x in c.get(k, ())) or ("not" in c and walk(c["not"]))
        return any(walk(c) for c in service["conditions"])

    def conditions(self, service) -> list:
        """The service's conditions in plain words: [{text, children}] (children for 任意一条)."""
        def item(cond):
            if "label" not in cond and ("any" in cond or "all" in cond):
                kind = "any" if "any" in cond else "all"
                head = "符合下面任意一条：" if kind == "any" else "下面几条都要符合："
                return {"text": head, "children": [item(c) for c in cond[kind]], "reading": reading(cond)}
            text = compile_condition(cond, self.catalogue)[0]
            if cond.get("age", {}).get("month_start"):
                text += "（从满这个年龄的当月起）"
            law = cond.get("law")  # a shared definition from national law (老年人 = 60周岁以上)
            return {"text": text, "children": [],
                    "reading": reading(cond) or (f"文件没写年龄，按{law.split('：')[0]}" if law else None)}

        def reading(cond):
            """Our reading, not the document's words: how we read it and why it is only 可能 when it fails."""
            kind = cond.get("reading") or ("contested" if "contested" in cond else
                                           "at_most" if cond.get("at_most") == "maybe" else None)
            return f"{READING_TEXT[kind]}：{cond['doubt']}" if kind else None
        return [item(c) for c in service["conditions"]]

    def condition_summary(self, service) -> str:
        """All conditions on one line, for the comparison table."""
        def flat(item):
            if item["children"]:
                inner = "、".join(flat(c) for c in item["children"])
                return ("以下任一：" if item["text"].startswith("符合下面任意") else "") + inner
            return item["text"]
        return "；".join(flat(c) for c in self.conditions(service))

    def amount_rows(self, amount) -> list:
        """Rows for the amount table: tiers by age, or one row per case of `by` (nested cases joined)."""
        if not amount:
            return []
        if amount.get("tiers"):
            return [(age_range(t["min"], t.get("max")), t["text"]) for t in amount["tiers"]]
        if amount.get("by"):
            rows = []

            def walk(by, prefix):
                values = FIELDS[by["field"]][2]
                for key in by.get("order") or by["cases"]:     # the document's order of the cases
                    case = by["cases"][key]
                    label = str(values.get(key, key)) if values else str(key)
                    label = f"{prefix}，{label}" if prefix else label
                    if case.get("by"):
                        walk(case["by"], label)
                    else:
                        rows.append((label, case["text"]))
            walk(amount["by"], "")
            return rows
        return []

    def amount_header(self, amount) -> str:
        if amount and amount.get("by"):
            return FIELDS[amount["by"]["field"]][1]
        return "年龄"

    def phones(self, service, county) -> list:
        return service.get("phones") or county.get("phones") or []

    def excluded(self, ex):
        return self.services.get(ex["service"])

    def source_where(self, service) -> str:
        src = service["source"]
        where = f"第{src['item']}项" if src.get("item") else ""
        if src.get("section"):
            where = f"{where}（{src['section']}）" if where else src["section"]
        return where

    def template_digest(self, name: str) -> str:
        """A hash of template `name` and every template it extends, includes or imports (content/
        templates/, or MB_TEMPLATES), with this module and the code the templates' helpers use."""
        found = self._template_digests.get(name)
        if found is None:
            from jinja2 import meta
            parts, todo, seen = [], [name], set()
            while todo:
                t = todo.pop()
                if t in seen or t is None:
                    continue
                seen.add(t)
                source = self.env.loader.get_source(self.env, t)[0]
                parts += [t, source]
                todo.extend(sorted(meta.find_referenced_templates(self.env.parse(source)), key=str))
            code = [f.read_bytes() for f in CODE_FILES()]
            found = self._template_digests[name] = artefacts.digest(parts, *code)
        return found

    def county_digest(self, code: str) -> str:
        """A hash of county `code` as the pages show it today (its view: see in_force_today). A page
        that reads only these counties (Page.deps), the templates and the shared parts of the
        catalogue is the same while their hashes are (site_build/hooks.py, handouts.py)."""
        found = self._digests.get(code)
        if found is None:
            found = self._digests[code] = artefacts.digest(self.catalogue["counties"][code])
        return found

    def shared_digest(self) -> str:
        """A hash of what every page may read besides the counties: groups, topics, glossary,
        recognised, and which counties there are in which provinces (names, order, URLs)."""
        if self._shared_digest is None:
            c = self.catalogue
            self._shared_digest = artefacts.digest(
                c.get("groups"), c.get("topics"), c.get("glossary"), c.get("recognised"), self.checker_src,
                [[p["slug"], p["name"], [[x["code"], x["name"], x["url"], x.get("prefecture"), x["province"]]
                                         for x in p["counties"]]] for p in self.provinces])
        return self._shared_digest

    def show_all_counties_on_home(self) -> bool:
        """The home page lists counties directly while there are few; later only provinces."""
        return len(self.counties) <= 40


def CODE_FILES() -> list:   # noqa: N802 — what rendering runs besides the templates
    return (sorted((ROOT / "checker").glob("*.py")) + [ROOT / "site_build" / n for n in ("pages.py", "rules.py")]
            + sorted(rule_sheets.CASES_DIR.glob("*/*.yaml")))      # the rule sheets show the test cases


def tel(number: str) -> str:
    return "tel:" + re.sub(r"[^0-9+]", "", number)
