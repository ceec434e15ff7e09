"""The one catalogue loader: reads catalogue/**/*.yaml, validates it, and writes the compiled JSON.

Every error names the file, the line and the field and says what is allowed. The site build,
the checker (through checker/catalogue.json) and the tests all read the catalogue through here.
Run `python -m site_build.catalogue [--check]`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import re
import sys
from pathlib import Path

import yaml

from checker.engine import DEFAULT_ASK
from checker.profile import FIELDS, PROVINCE_PREFIXES, is_county_code

ROOT = Path(__file__).resolve().parent.parent
CATALOGUE_DIR = ROOT / "catalogue"
COMPILED = ROOT / "checker" / "catalogue.json"
SEEDS_DIR = CATALOGUE_DIR / "sources"   # <province>/<county>/<document>.txt with its <document>.yaml


class CatalogueError(ValueError):
    """One or more broken entries; `problems` holds (file, line, field, message)."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__("\n".join(f"{f}:{line}: {field}: {msg}" for f, line, field, msg in problems))


# ---------------------------------------------------------------- YAML with line numbers

class Map(dict):
    """A mapping that remembers the line of each key (1-based)."""
    line = 0
    lines: dict


class Seq(list):
    line = 0
    lines: list


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """libyaml's parser where PyYAML has it (about 3× faster), with our constructors and line marks."""


def _construct_mapping(loader, node):
    loader.flatten_mapping(node)
    out = Map()
    out.line, out.lines = node.start_mark.line + 1, {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (重复的字段 {key!r}): first on line {out.lines[key]}",
                key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[key] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader, node):
    out = Seq(loader.construct_object(child, deep=True) for child in node.value)
    out.line, out.lines = node.start_mark.line + 1, [child.start_mark.line + 1 for child in node.value]
    return out


def _construct_str(loader, node):
    return loader.construct_scalar(node)


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
# Dates stay strings: the schema checks their form and the JSON carries them as text.
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_str)


# The schema nests at most 13 deep today (conditions inside any/all/not/contested); 40 leaves room.
MAX_DEPTH = 40


def _scan(path: Path, text: str):
    """Refuse, before anything is built, what the schema never needs and what can take minutes or
    crash the parser: anchors and aliases (`&a`, `*a`: an alias bomb grows to gigabytes) and nesting
    deeper than MAX_DEPTH (100,000 `[` crash libyaml's composer). Reads the event stream only."""
    depth = 0
    for event in yaml.parse(text, Loader=_Loader):
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise CatalogueError([(_rel(path), line, "(yaml)",
                                   "anchors and aliases (&name, *name) are not allowed: write each value out "
                                   "(不要用 & 和 * 引用，每处直接写出)")])
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise CatalogueError([(_rel(path), line, "(yaml)",
                                       f"nested more than {MAX_DEPTH} levels deep; the catalogue never needs that "
                                       f"(嵌套超过{MAX_DEPTH}层)")])
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def read_yaml(path: Path, data: bytes | None = None):
    """Parse one YAML file (or `data`, its bytes already read) into Map/Seq with line marks."""
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as err:
            raise CatalogueError([(_rel(path), 0, "(file)", f"cannot read: {err.strerror or err}")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise CatalogueError([(_rel(path), line, "(file)",
                               f"byte {err.start + 1} is not UTF-8: save the file as UTF-8 (请以 UTF-8 编码保存)")]) from None
    try:
        _scan(path, text)
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        line = mark.line + 1 if mark else 0
        raise CatalogueError([(_rel(path), line, "(yaml)", f"{err.problem or err}")]) from None
    except yaml.YAMLError as err:  # e.g. a control character the reader refuses
        raise CatalogueError([(_rel(path), 0, "(yaml)", str(err))]) from None


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


# ---------------------------------------------------------------- schema

GROUP_KEYS: set = set()
TOPIC_KEYS: set = set()
SHARED_CONDITIONS: dict = {}
SERVICE_TYPES = {"物质帮助", "照护服务", "关爱服务", "医疗服务"}
PERS = ("month", "year", "once", "household")
APPLY = ("automatic", "apply", "unknown")          # unknown: 文件没写要不要申请
APPLY_AT = ("hukou", "residence", "venue", "none", "unknown")   # none: only with automatic; unknown: 文件没写去哪里办
READINGS = ("convention", "inference")
PAID_BY = ("hukou", "residence", "shared")
# Who a service is for and what it gives: the checker's answer orders what to do by these
# (the elder's cash and care first; a relative's training or help after a death last).
FOR = ("elder", "family", "after_death")
BENEFIT = ("cash", "care", "once", "perk")
CONDITION_KINDS = ("hukou", "residence", "hukou_province", "age", "field", "any", "all", "not", "contested", "ref")
DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Characters that mean something in HTML (and backticks, for Markdown): never in a name or title.
MARKUP_CHARS = re.compile(r"[<>&\"'`\x00-\x1f\x7f]")


class _Checker:
    def __init__(self, path: Path):
        self.file = _rel(path)
        self.problems: list = []
        self.local_conditions: dict = {}
        self.doc_files: set = set()

    def err(self, node, key, field, msg):
        line = 0
        if isinstance(node, Map):
            line = node.lines.get(key, node.line) if key is not None else node.line
        elif isinstance(node, Seq):
            line = node.lines[key] if isinstance(key, int) and key < len(node.lines) else node.line
        self.problems.append((self.file, line, field, msg))

    # -- primitives
    def mapping(self, node, field, required=(), optional=()):
        if not isinstance(node, dict):
            self.problems.append((self.file, getattr(node, "line", 0), field, f"must be a mapping (键: 值), got {type(node).__name__}"))
            return False
        allowed = set(required) | set(optional)
        for key in node:
            if key not in allowed:
                self.err(node, key, f"{field}.{key}", f"unknown field {key!r} — allowed: {', '.join(sorted(allowed))}")
        for key in required:
            if key not in node:
                self.err(node, None, f"{field}.{key}", "is required (必填)")
        return True

    def text(self, node, key, field, required=True, max_len=None):
        if key not in node:
            if required:
                self.err(node, None, f"{field}.{key}", "is required (必填)")
            return
        value = node[key]
        if not isinstance(value, str) or not value.strip():
            self.err(node, key, f"{field}.{key}", f"must be non-empty text, got {value!r}")
        elif max_len and len(value) > max_len:
            self.err(node, key, f"{field}.{key}", f"is {len(value)} characters; at most {max_len} (不超过{max_len}个字)")

    def text_list(self, node, key, field):
        if key not in node:
            return
        value = node[key]
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            self.err(node, key, f"{field}.{key}", "must be a list of non-empty texts")

    def entries(self, node, key, field) -> list:
        """An optional list of entries (phones, forms, excludes): [] when absent, refused when not a list."""
        value = node.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.err(node, key, f"{field}.{key}", f"must be a list (列表), got {type(value).__name__}")
            return []
        return value

    def choice(self, node, key, field, allowed, required=True):
        if key not in node:
            if required:
                self.err(node, None, f"{field}.{key}", f"is required — one of {', '.join(allowed)}")
            return
        if node[key] not in allowed:
            self.err(node, key, f"{field}.{key}", f"{node[key]!r} is not allowed — use one of {', '.join(map(str, allowed))}")

    def date(self, node, key, field, required=False, nullable=False):
        if key not in node:
            if required:
                self.err(node, None, f"{field}.{key}", "is required: a date \"YYYY-MM-DD\"")
            return
        value = node[key]
        if value is None and nullable:
            return
        ok = isinstance(value, str) and DATE_RE.fullmatch(value)
        if ok:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                ok = False
        if not ok:
            self.err(node, key, f"{field}.{key}", f"{value!r} is not an existing date — write \"YYYY-MM-DD\" in quotes")

    def number(self, node, key, field):
        if key in node and (isinstance(node[key], bool) or not isinstance(node[key], (int, float)) or node[key] < 0
                            or not math.isfinite(node[key])):
            self.err(node, key, f"{field}.{key}", f"{node[key]!r} must be a number ≥ 0 (not .nan, .inf or true/false)")

    def plain_name(self, node, key, field):
        """Names and titles go into the nav, <title> and link text of every page: no markup characters."""
        value = node.get(key) if isinstance(node, dict) else None
        if isinstance(value, str) and MARKUP_CHARS.search(value):
            found = "".join(sorted(set(MARKUP_CHARS.findall(value))))
            self.err(node, key, f"{field}.{key}", f"{value!r} holds {found!r}: names and titles may not contain "
                     "< > & \" ' ` or control characters (名称中不能有这些符号)")

    # -- county
    def county(self, data, path: Path):
        if not self.mapping(data, "(file)", required=("county", "services")):
            return
        c = data["county"]
        if self.mapping(c, "county", required=("code", "name", "slug", "prefecture", "province", "province_slug", "document"),
                        optional=("phones", "notes", "forms", "conditions", "ask", "recognition", "documents", "settlement")):
            if not is_county_code(c.get("code")):
                self.err(c, "code", "county.code", f"{c.get('code')!r} is not a 6-digit GB/T 2260 county code in quotes, e.g. \"330324\"")
            for key in ("name", "prefecture", "province"):
                self.text(c, key, "county")
                self.plain_name(c, key, "county")
            if c.get("slug") != path.stem:
                self.err(c, "slug", "county.slug", f"{c.get('slug')!r} must equal the file name {path.stem!r}")
            if c.get("province_slug") != path.parent.name:
                self.err(c, "province_slug", "county.province_slug", f"{c.get('province_slug')!r} must equal the folder name {path.parent.name!r}")
            docs = [("county.document", c.get("document"))]
            if "documents" in c:  # other documents of the county over time (older or newer), cited by dated values
                if not isinstance(c["documents"], list) or not c["documents"]:
                    self.err(c, "documents", "county.documents", "must be a list of documents, each like `document`")
                else:
                    docs += [(f"county.documents[{i}]", d) for i, d in enumerate(c["documents"])]
            for name, d in docs:
                if not self.mapping(d, name, required=("title", "file", "date", "date_text", "issuer")):
                    continue
                for key in ("title", "date_text", "issuer"):
                    self.text(d, key, name)
                self.date(d, "date", name, required=True, nullable=True)
                f = d.get("file")
                if not (isinstance(f, str) and re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z_.-]*\.txt", f)):
                    self.err(d, "file", f"{name}.file", f"{f!r} must be the name of a .txt file in "
                             "catalogue/sources/<province>/<county>/, like 001_ad73a97c7bcfe62c.txt")
                elif f in self.doc_files:
                    self.err(d, "file", f"{name}.file", f"{f!r} is listed twice")
                else:
                    self.doc_files.add(f)
            for i, ph in enumerate(self.entries(c, "phones", "county")):
                if self.mapping(ph, f"county.phones[{i}]", required=("name", "number", "source")):
                    for key in ("name", "number", "source"):
                        self.text(ph, key, f"county.phones[{i}]")
            self.text_list(c, "notes", "county")
            self.text(c, "ask", "county", required=False)
            self.text(c, "recognition", "county", required=False)
            local = c.get("conditions")
            if local is not None:
                if not isinstance(local, dict):
                    self.err(c, "conditions", "county.conditions", "must map a name to a condition, e.g. hukou_local: {hukou: [...], reading: convention, doubt: ...}")
                else:
                    self.local_conditions = dict(local)
                    for name, cond in local.items():
                        if not (isinstance(name, str) and re.fullmatch(r"[a-z][a-z0-9_]*", name)):
                            self.err(local, name, f"county.conditions.{name}", "a name of lower-case ASCII letters, digits and _")
                        if name in SHARED_CONDITIONS:
                            self.err(local, name, f"county.conditions.{name}", f"{name!r} is already a shared condition in shared.yaml: choose another name")
                        self.condition(cond, f"county.conditions.{name}")
            for i, form in enumerate(self.entries(c, "forms", "county")):
                if self.mapping(form, f"county.forms[{i}]", required=("id", "title", "source"), optional=("columns", "text", "rows")):
                    self.text(form, "title", f"county.forms[{i}]")
                    self.text(form, "source", f"county.forms[{i}]")
                    self.text_list(form, "columns", f"county.forms[{i}]")
                    self.text(form, "text", f"county.forms[{i}]", required=False)
            if "settlement" in c:
                self.settlement(c, data.get("services"))
        services = data.get("services")
        if not isinstance(services, list) or not services:
            self.err(data, "services", "services", "must be a non-empty list")
            return
        code = c.get("code") if isinstance(c, dict) else None
        ids, slugs = {}, {}
        for i, s in enumerate(services):
            self.service(s, f"services[{i}]", code)
            if isinstance(s, dict):
                for seen, key in ((ids, "id"), (slugs, "slug")):
                    value = s.get(key)
                    if not isinstance(value, (str, int)):
                        continue  # refused above (id and slug are quoted text)
                    if value in seen:
                        self.err(s, key, f"services[{i}].{key}", f"{value!r} is used twice (also services[{seen[value]}])")
                    seen[value] = i

    def settlement(self, c, services):
        """county.settlement: how the county settles a service across its towns (checker/settle.py and
        the 附件1 list of checker/screen.py read it): the service, the survey form, the towns in the
        document's order with their other spellings, who pays which share, the categories of people."""
        f = "county.settlement"
        block = c["settlement"]
        if not self.mapping(block, f, required=("source", "service", "towns", "shares", "categories"),
                            optional=("survey_form", "town_aliases", "annex2_title", "annex3_title", "unit")):
            return
        for key in ("source", "annex2_title", "annex3_title", "unit"):
            self.text(block, key, f, required=key == "source", max_len=80)
        ids = {s.get("id") for s in services or [] if isinstance(s, dict)}
        if block.get("service") not in ids:
            self.err(block, "service", f"{f}.service", f"{block.get('service')!r} is not a service of this county")
        if "survey_form" in block and block["survey_form"] not in {x.get("id") for x in c.get("forms") or [] if isinstance(x, dict)}:
            self.err(block, "survey_form", f"{f}.survey_form", f"{block['survey_form']!r} is not the id of one of county.forms")
        towns = block.get("towns")
        if not isinstance(towns, list) or not towns or not all(isinstance(t, str) and t.strip() and not re.search(r"[<>&\"'`]", t) for t in towns):
            self.err(block, "towns", f"{f}.towns", "must be a list of town names (镇、街道) as the document writes them")
        elif len(set(towns)) != len(towns):
            self.err(block, "towns", f"{f}.towns", "a town is listed twice")
        aliases = block.get("town_aliases") or {}
        if not isinstance(aliases, dict) or not all(isinstance(k, str) and v in (towns or []) for k, v in aliases.items()):
            self.err(block, "town_aliases", f"{f}.town_aliases", "must map another spelling to one of `towns`")
        shares = block.get("shares")
        ok = isinstance(shares, list) and len(shares) >= 2
        for i, share in enumerate(shares if ok else []):
            if not self.mapping(share, f"{f}.shares[{i}]", required=("payer", "percent"), optional=("annex3", "changes")):
                ok = False
                continue
            if "changes" in share:  # a share that changed on a date (dated values, as for amounts)
                self.changes(share, f"{f}.shares[{i}]")
            self.text(share, "payer", f"{f}.shares[{i}]", max_len=20)
            self.text(share, "annex3", f"{f}.shares[{i}]", required=False, max_len=20)
            p = share.get("percent")
            if isinstance(p, bool) or not isinstance(p, int) or not 0 < p < 100:
                self.err(share, "percent", f"{f}.shares[{i}].percent", f"{p!r} must be a whole percent between 1 and 99")
                ok = False
        if not ok or sum(s.get("percent", 0) for s in shares if isinstance(s, dict) and isinstance(s.get("percent"), int)) != 100:
            self.err(block, "shares", f"{f}.shares", "must list at least two payers whose whole percents add up to 100")
        elif any("changes" in s for s in shares):
            days = sorted({ch["from"] for s in shares for ch in s.get("changes") or [] if isinstance(ch, dict) and isinstance(ch.get("from"), str)})
            for day in days:
                total = 0
                for s in shares:
                    value = s["percent"]
                    for ch in s.get("changes") or []:
                        if isinstance(ch, dict) and isinstance(ch.get("from"), str) and ch["from"] <= day and "percent" in ch:
                            value = ch["percent"]
                    total += value if isinstance(value, int) and not isinstance(value, bool) else 0
                if total != 100:
                    self.err(block, "shares", f"{f}.shares", f"from {day} the shares add up to {total}, not 100: change them on the same day")
        cats = block.get("categories")
        if not isinstance(cats, list) or not cats:
            self.err(block, "categories", f"{f}.categories", "must list the categories of people (附件2's columns)")
        else:
            for i, cat in enumerate(cats):
                if self.mapping(cat, f"{f}.categories[{i}]", required=("name", "words"), optional=("field",)):
                    self.text(cat, "name", f"{f}.categories[{i}]", max_len=40)
                    self.text_list(cat, "words", f"{f}.categories[{i}]")
                    if "field" in cat and cat["field"] not in FIELDS:
                        self.err(cat, "field", f"{f}.categories[{i}].field", f"{cat['field']!r} is not a profile field")

    def service(self, s, field, code):
        required = ("id", "item", "slug", "name", "groups", "target", "type", "summary", "wording", "conditions",
                    "apply", "apply_at", "where", "departments", "source")
        optional = ("topic", "what", "also", "amount", "paid_by", "away", "steps", "documents", "time_limit",
                    "basis", "excludes", "effective", "until", "notes", "phones", "self_paid", "for", "benefit")
        if not self.mapping(s, field, required, optional):
            return
        sid, slug = s.get("id"), s.get("slug")
        if not (isinstance(slug, str) and re.fullmatch(r"[0-9a-z][0-9a-z-]*", slug)):
            self.err(s, "slug", f"{field}.slug", f"{slug!r} must be lower-case ASCII letters, digits and '-', in quotes")
        elif is_county_code(code) and sid != f"{code}-{slug}":
            self.err(s, "id", f"{field}.id", f"{sid!r} must be \"{code}-{slug}\" (county code, '-', slug)")
        item = s.get("item")
        if item is not None and (isinstance(item, bool) or not isinstance(item, int) or item < 1):
            self.err(s, "item", f"{field}.item", f"{item!r} must be the document's item number or null")
        for key in ("name", "target", "wording", "where"):
            self.text(s, key, field)
        self.plain_name(s, "name", field)
        self.text(s, "summary", field, max_len=40)
        self.text(s, "what", field, required=False)
        self.text(s, "away", field, required=False)
        self.text(s, "time_limit", field, required=False)
        if "topic" in s:
            self.choice(s, "topic", field, sorted(TOPIC_KEYS))
        groups = s.get("groups")
        if not isinstance(groups, list) or not groups or any(not isinstance(g, str) or g not in GROUP_KEYS for g in groups):
            self.err(s, "groups", f"{field}.groups", f"{groups!r} — must be a list from: {', '.join(sorted(GROUP_KEYS))}")
        types = s.get("type")
        if not isinstance(types, list) or not types or any(not isinstance(t, str) or t not in SERVICE_TYPES for t in types):
            self.err(s, "type", f"{field}.type", f"{types!r} — must be a list from: {', '.join(sorted(SERVICE_TYPES))}")
        self.choice(s, "apply", field, APPLY)
        self.choice(s, "apply_at", field, APPLY_AT)
        if s.get("apply_at") == "none" and s.get("apply") != "automatic":
            self.err(s, "apply_at", f"{field}.apply_at",
                     "`none` (不用去哪里办) only goes with `apply: automatic`; where the document names no place, write `unknown` (文件没写去哪里办)")
        self.choice(s, "paid_by", field, PAID_BY, required=False)
        self.choice(s, "for", field, FOR, required=False)
        self.choice(s, "benefit", field, BENEFIT, required=False)
        for key in ("also", "steps", "documents", "departments", "basis", "notes"):
            self.text_list(s, key, field)
        self.date(s, "effective", field)
        self.date(s, "until", field)
        if isinstance(s.get("effective"), str) and isinstance(s.get("until"), str) and s["until"] < s["effective"]:
            self.err(s, "until", f"{field}.until", f"{s['until']} is before effective {s['effective']}")
        if "self_paid" in s and not isinstance(s["self_paid"], bool):
            self.err(s, "self_paid", f"{field}.self_paid", "must be true or false")
        src = s.get("source")
        if src is not None and self.mapping(src, f"{field}.source", optional=("item", "section", "document")):
            if "document" in src and src["document"] not in self.doc_files:
                self.err(src, "document", f"{field}.source.document", f"{src['document']!r} is not one of the county's documents: {', '.join(sorted(self.doc_files))}")
            if not src:
                self.err(s, "source", f"{field}.source", "needs `item` (the document's number) or `section`")
            if "item" in src and src["item"] != item:
                self.err(src, "item", f"{field}.source.item", f"{src['item']!r} differs from the service's item {item!r}")
            self.text(src, "section", f"{field}.source", required=False)
        conds = s.get("conditions")
        if not isinstance(conds, list):
            self.err(s, "conditions", f"{field}.conditions", "must be a list (empty only if the service is for everyone)")
        else:
            for i, cond in enumerate(conds):
                self.condition(cond, f"{field}.conditions[{i}]")
        if "amount" in s:
            self.amount(s["amount"], f"{field}.amount", top=True)
        for i, ex in enumerate(self.entries(s, "excludes", field)):
            if self.mapping(ex, f"{field}.excludes[{i}]", required=("service", "text")):
                self.text(ex, "text", f"{field}.excludes[{i}]")
                if ex.get("service") == sid:
                    self.err(ex, "service", f"{field}.excludes[{i}].service",
                             f"{sid!r} is this service itself: a service cannot exclude itself (不能排除自己)")
        for i, ph in enumerate(self.entries(s, "phones", field)):
            if self.mapping(ph, f"{field}.phones[{i}]", required=("name", "number")):
                self.text(ph, "number", f"{field}.phones[{i}]")

    def condition(self, c, field):
        if not isinstance(c, dict):
            self.problems.append((self.file, getattr(c, "line", 0), field, "a condition must be a mapping, e.g. {age: {min: 80}}"))
            return
        kinds = [k for k in CONDITION_KINDS if k in c]
        if len(kinds) != 1:
            self.err(c, None, field, f"needs exactly one of {', '.join(CONDITION_KINDS)}; found {kinds or 'none'}")
            return
        kind = kinds[0]
        extra = {"field": ("in", "is", "min", "max", "within_months")}.get(kind, ())
        self.mapping(c, field, required=(kind,), optional=("label", "source", "note", "reading", "doubt", "at_most") + extra)
        self.text(c, "label", field, required=False)
        self.modifiers(c, field, kind)
        value = c[kind]
        if kind in ("hukou", "residence"):
            if not isinstance(value, list) or not value or not all(is_county_code(v) for v in value):
                self.err(c, kind, f"{field}.{kind}", f"{value!r} must be a list of quoted 6-digit county codes")
        elif kind == "hukou_province":
            if not isinstance(value, list) or not value or not all(isinstance(v, str) and v in PROVINCE_PREFIXES for v in value):
                self.err(c, kind, f"{field}.{kind}", f"{value!r} must be a list of quoted 2-digit province codes (the first two digits of a county code), e.g. [\"33\"]")
        elif kind == "age":
            if self.mapping(value, f"{field}.age", optional=("min", "max", "month_start")):
                if "min" not in value and "max" not in value:
                    self.err(value, None, f"{field}.age", "needs `min` and/or `max` (周岁, inclusive)")
                for key in ("min", "max"):
                    if key not in value:
                        continue
                    v = value[key]
                    if isinstance(v, dict):
                        if set(v) != {"male", "female"} or not all(isinstance(x, int) and not isinstance(x, bool) for x in v.values()):
                            self.err(value, key, f"{field}.age.{key}", f"{v!r} — a sex-dependent age is {{male: N, female: N}}")
                    elif isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 130:
                        self.err(value, key, f"{field}.age.{key}", f"{v!r} must be a whole number of 周岁 (0-130)")
                if "month_start" in value and not isinstance(value["month_start"], bool):
                    self.err(value, "month_start", f"{field}.age.month_start", "must be true or false")
                self.min_not_above_max(value, f"{field}.age")
        elif kind == "field":
            if not isinstance(value, str) or value not in FIELDS:
                self.err(c, "field", f"{field}.field", f"{value!r} is not a profile field — one of {', '.join(FIELDS)}")
                return
            ftype, _, values = FIELDS[value]
            ops = [k for k in ("in", "is", "min", "max", "within_months") if k in c]
            if not ops:
                self.err(c, None, field, "a field condition needs `in`, `is`, `min`, `max` or `within_months`")
            if "within_months" in c and (ftype != "date" or isinstance(c["within_months"], bool)
                                         or not isinstance(c["within_months"], int) or c["within_months"] < 1):
                self.err(c, "within_months", f"{field}.within_months",
                         f"`within_months: N` needs a date field and a whole number of months ≥ 1; {value} is {ftype}")
            if "in" in c and ftype == "county":
                if not isinstance(c["in"], list) or not c["in"] or not all(is_county_code(v) for v in c["in"]):
                    self.err(c, "in", f"{field}.in", f"{c['in']!r} — {value} takes a list of quoted 6-digit county codes")
            elif "in" in c:
                if values is None or not isinstance(c["in"], list) or not c["in"] or any(not isinstance(v, (str, int)) or v not in values for v in c["in"]):
                    allowed = ", ".join(map(str, values)) if values else "(no list: use is/min/max)"
                    self.err(c, "in", f"{field}.in", f"{c['in']!r} — values of {value} are: {allowed}")
            if "is" in c and (ftype != "bool" or not isinstance(c["is"], bool)):
                self.err(c, "is", f"{field}.is", f"`is: true/false` only works on yes/no fields; {value} is {ftype}")
            for key in ("min", "max"):
                if key in c and (ftype not in ("int", "number") or isinstance(c[key], bool) or not isinstance(c[key], (int, float))
                                 or not math.isfinite(c[key])):
                    self.err(c, key, f"{field}.{key}", f"`{key}` needs a number field and a finite number; {value} is {ftype}")
            self.min_not_above_max(c, field)
        elif kind in ("any", "all"):
            if not isinstance(value, list) or len(value) < 2:
                self.err(c, kind, f"{field}.{kind}", "must list at least two conditions")
            else:
                for i, inner in enumerate(value):
                    self.condition(inner, f"{field}.{kind}[{i}]")
        elif kind == "contested":
            if not isinstance(value, list) or len(value) != 2:
                self.err(c, kind, f"{field}.contested", "must list exactly two conditions: the two readings the document gives")
            else:
                for i, inner in enumerate(value):
                    self.condition(inner, f"{field}.contested[{i}]")
        elif kind == "not":
            self.condition(value, f"{field}.not")
        elif kind == "ref":
            if not isinstance(value, str) or (value not in SHARED_CONDITIONS and value not in self.local_conditions):
                known = ", ".join(list(self.local_conditions) + list(SHARED_CONDITIONS))
                self.err(c, "ref", f"{field}.ref", f"{value!r} is not a named condition (county.conditions or shared.yaml): {known}")

    def min_not_above_max(self, node, field):
        """`min` above `max` can never hold: refused (it would promise a date that never comes)."""
        def by_sex(v):
            return [v.get("male"), v.get("female")] if isinstance(v, dict) else [v, v]
        for a, b in zip(by_sex(node.get("min")), by_sex(node.get("max"))):
            if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (a, b)) and a > b:
                self.err(node, "min", f"{field}.min", f"min {a} is above max {b}: nobody can meet it (最小值大于最大值)")
                return

    def modifiers(self, c, field, kind):
        """reading/at_most need a plain `doubt` (the reason shown when the answer is only maybe);
        contested needs one too. A doubt with nothing to explain is refused."""
        if "reading" in c:
            self.choice(c, "reading", field, READINGS)
        if "at_most" in c and c["at_most"] != "maybe":
            self.err(c, "at_most", f"{field}.at_most", f"{c['at_most']!r} is not allowed — the only value is maybe")
        needs = "reading" in c or "at_most" in c or kind == "contested"
        if needs:
            self.text(c, "doubt", field, required=True)
        elif "doubt" in c:
            self.err(c, "doubt", f"{field}.doubt", "`doubt` goes with `reading`, `at_most: maybe` or `contested`")

    DATED_VALUE_KEYS = ("yuan", "max_yuan", "text", "floor", "in_kind", "percent", "multiplier", "hours", "base")

    def value_document(self, node, field):
        """`document` on an amount: the document its (undated) value comes from, where that is not the
        county's current one (the value before a dated change)."""
        if "document" in node and node["document"] not in self.doc_files:
            self.err(node, "document", f"{field}.document", f"{node['document']!r} is not one of the county's documents: {', '.join(sorted(self.doc_files))}")

    def changes(self, node, field):
        """`changes`: dated values of an amount or tier, oldest first, each from a document of the county."""
        changes = node.get("changes")
        if not isinstance(changes, list) or not changes:
            self.err(node, "changes", f"{field}.changes", "must be a list of dated values: {from: \"YYYY-MM-DD\", document: FILE, yuan: …, text: …}")
            return
        last = None
        for i, ch in enumerate(changes):
            f = f"{field}.changes[{i}]"
            if not self.mapping(ch, f, required=("from", "document"), optional=self.DATED_VALUE_KEYS):
                continue
            self.date(ch, "from", f, required=True)
            for key in ("yuan", "max_yuan", "percent", "multiplier", "hours"):
                self.number(ch, key, f)
            if "text" in ch:
                self.text(ch, "text", f)
            if ch.get("document") not in self.doc_files:
                self.err(ch, "document", f"{f}.document", f"{ch.get('document')!r} is not one of the county's documents: {', '.join(sorted(self.doc_files)) or '(none)'}")
            if isinstance(ch.get("from"), str):
                if last is not None and ch["from"] <= last:
                    self.err(ch, "from", f"{f}.from", f"{ch['from']} must come after the change above ({last}): oldest first, one value a day")
                last = ch["from"]

    def amount(self, a, field, top=False, per=None, case=False):
        if not self.mapping(a, field, optional=("yuan", "per", "floor", "max_yuan", "text", "tiers", "by", "gap",
                                                 "percent", "base", "multiplier", "hours", "note", "in_kind", "choose", "revised",
                                                 "changes", "document")
                            + (("if",) if case else ())):
            return
        if case:
            self.condition(a.get("if"), f"{field}.if")
        if "choose" in a:
            cases = a["choose"]
            if not isinstance(cases, list) or not cases:
                self.err(a, "choose", f"{field}.choose", "must be a list of amounts, each with an `if` condition")
            else:
                for i, inner in enumerate(cases):
                    if isinstance(inner, dict) and "if" not in inner:
                        self.err(cases, i, f"{field}.choose[{i}].if", "is required: the condition under which this amount applies")
                    self.amount(inner, f"{field}.choose[{i}]", per=a.get("per") or per, case=True)
        self.text(a, "text", field, required=True)
        self.choice(a, "revised", field, ("yearly",), required=False)   # a standard revised every year (低保, 特困)
        if "changes" in a:
            self.changes(a, field)
        self.value_document(a, field)
        for key in ("yuan", "max_yuan", "percent", "multiplier", "hours"):
            self.number(a, key, field)
        if "per" in a:
            self.choice(a, "per", field, PERS)
        elif per is None and ("yuan" in a or "tiers" in a or "gap" in a):
            self.err(a, None, f"{field}.per", f"is required with an amount — one of {', '.join(PERS)}")
        if "in_kind" in a and not isinstance(a["in_kind"], bool):
            self.err(a, "in_kind", f"{field}.in_kind", "must be true or false")
        if "floor" in a and not isinstance(a["floor"], bool):
            self.err(a, "floor", f"{field}.floor", "must be true or false")
        if ("percent" in a or "multiplier" in a) and "base" not in a:
            self.err(a, None, f"{field}.base", "a percent or multiplier needs `base` (what it is a share of)")
        if "gap" in a:
            g = a["gap"]
            if self.mapping(g, f"{field}.gap", required=("standard",)):
                self.number(g, "standard", f"{field}.gap")
        if "tiers" in a:
            tiers = a["tiers"]
            if not isinstance(tiers, list) or not tiers:
                self.err(a, "tiers", f"{field}.tiers", "must be a non-empty list of {min, max, yuan, text}")
            else:
                last_max, open_above = None, None
                for i, t in enumerate(tiers):
                    f = f"{field}.tiers[{i}]"
                    if "changes" in t:
                        self.changes(t, f)
                    self.value_document(t, f)
                    if self.mapping(t, f, required=("min", "text"), optional=("max", "yuan", "changes", "document")):
                        self.number(t, "yuan", f)
                        self.text(t, "text", f)
                        lo, hi = t.get("min"), t.get("max")
                        if (isinstance(lo, bool) or not isinstance(lo, int)
                                or (hi is not None and (isinstance(hi, bool) or not isinstance(hi, int) or hi < lo))):
                            self.err(t, "min", f, f"min {lo!r} / max {hi!r} must be whole 周岁 with min ≤ max")
                        elif open_above is not None:
                            self.err(t, "min", f"{f}.min", f"tiers[{open_above}] has no max (it covers every age from its min up), "
                                     "so no tier can follow it: give it a max or make this the last tier")
                        elif last_max is not None and lo != last_max + 1:
                            self.err(t, "min", f"{f}.min", f"{lo} does not follow the tier above (max {last_max}): tiers must not overlap or leave gaps")
                        last_max = hi if isinstance(hi, int) and not isinstance(hi, bool) else None
                        if hi is None and open_above is None:
                            open_above = i
        if "by" in a:
            by = a["by"]
            if self.mapping(by, f"{field}.by", required=("field", "cases")):
                fname = by.get("field")
                if not isinstance(fname, str) or fname not in FIELDS or (FIELDS[fname][2] is None and FIELDS[fname][0] != "bool"):
                    self.err(by, "field", f"{field}.by.field", f"{fname!r} must be a profile field with a list of values, or a yes/no field")
                elif isinstance(by.get("cases"), dict):
                    values = FIELDS[fname][2] or {True: "是", False: "否"}
                    for key, case in by["cases"].items():
                        if key not in values:
                            self.err(by["cases"], key, f"{field}.by.cases.{key}", f"{key!r} is not a value of {fname}: {', '.join(map(str, values))}")
                        self.amount(case, f"{field}.by.cases.{key}", per=a.get("per") or per)
                else:
                    self.err(by, "cases", f"{field}.by.cases", "must map each value to an amount")


# ---------------------------------------------------------------- loading and compiling

def load_shared(raw: bytes | None = None):
    path = CATALOGUE_DIR / "shared.yaml"
    data = read_yaml(path, raw)
    problems = []
    for key in ("groups", "topics", "conditions", "glossary"):
        if not isinstance(data, dict) or not isinstance(data.get(key), dict):
            problems.append((_rel(path), getattr(data, "line", 0), key, "is required: a mapping (键: 值)"))
    for key in ("groups", "topics") if not problems else ():
        for name, entry in data[key].items():   # their names are nav entries and page titles
            checker = _Checker(path)
            checker.plain_name(entry, "name", f"{key}.{name}")
            problems.extend(checker.problems)
    if problems:
        raise CatalogueError(problems)
    GROUP_KEYS.clear(); GROUP_KEYS.update(data["groups"])
    TOPIC_KEYS.clear(); TOPIC_KEYS.update(data["topics"])
    SHARED_CONDITIONS.clear(); SHARED_CONDITIONS.update(data["conditions"])
    return data


def county_files(directory: Path = CATALOGUE_DIR):
    return sorted(p for p in directory.glob("*/*.yaml"))


def load_county(path: Path, raw: bytes | None = None):
    """Read (or take its bytes, `raw`) and validate one county file; raise CatalogueError with every problem found."""
    if not GROUP_KEYS:
        load_shared()
    data = read_yaml(path, raw)
    checker = _Checker(path)
    try:
        checker.county(data, path)
    except (TypeError, ValueError, AttributeError, KeyError, RecursionError) as err:
        # a shape the checks above did not foresee (e.g. a list where a name is looked up): still
        # a message with the file, the problems found so far, never a traceback
        checker.problems.append((checker.file, 0, "(file)", f"cannot be checked: {type(err).__name__}: {str(err)[:200]}"))
    if checker.problems:
        raise CatalogueError(checker.problems)
    return data


def _plain(obj, local=None):
    """Map/Seq → plain dict/list (drops line bookkeeping), resolving `ref` conditions (the county's
    own `conditions` first, then shared.yaml's). Yes/no keys (by-cases on a yes/no field) become
    "true"/"false", as JSON object keys are text."""
    if isinstance(obj, dict):
        if isinstance(obj.get("ref"), str):  # a named condition; label, reading, doubt … beside it win
            named = (local or {}).get(obj["ref"]) or SHARED_CONDITIONS[obj["ref"]]
            resolved = dict(_plain(named, local))
            law = resolved.pop("source", None)
            if law and obj["ref"] in SHARED_CONDITIONS and obj["ref"] not in (local or {}):
                resolved["law"] = law  # a shared definition from national law, not the county document's words
            resolved.update({k: _plain(v, local) for k, v in obj.items() if k != "ref"})
            return resolved
        out = {(("true" if k else "false") if isinstance(k, bool) else k): _plain(v, local) for k, v in obj.items()}
        if "field" in out and isinstance(out.get("cases"), dict):
            # an amount's `by`: catalogue.json sorts every mapping's keys, so the document's order of
            # its cases (重度, 中度, 轻度 …) is kept beside them, for the pages and the rules sheet
            out["order"] = list(out["cases"])
        return out
    if isinstance(obj, list):
        return [_plain(v, local) for v in obj]
    return obj


# ---------------------------------------------------------------- source documents (catalogue/sources)

# A document's status, in its own words (catalogue/sources/README.md) → how pages and answers say it.
DOCUMENT_STATUS = {"有效": "正式文件，标注有效", "征求意见稿": "征求意见稿", "已失效": "已失效", "未注明": "文件没写是否还有效"}
SOURCE_FIELDS = ("file", "sha256", "title", "issuer", "numbers", "date", "date_text", "status", "status_words",
                 "obtained", "compared")


def date_cn(iso) -> str:
    if not iso:
        return "文件未注明日期"
    d = dt.date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"


def sources_folder(directory: Path, province_slug: str, slug: str) -> Path:
    """catalogue/sources/<province>/<county>/ of a catalogue folder."""
    return (SEEDS_DIR if directory == CATALOGUE_DIR else directory / "sources") / province_slug / slug


def load_source(county: dict, raw_doc, directory: Path = CATALOGUE_DIR, files: dict | None = None) -> list:
    """The county's document in catalogue/sources/<province>/<county>/: the text `document.file` and
    its metadata (<name>.yaml beside it), checked; adds status, status_text, numbers, compared and
    path to county["document"]. Returns the problems found (file, line, field, message).
    `files`: the folder's files already read (name → bytes; the compile cache hashed them), else
    they are read here."""
    doc = county["document"]
    folder = sources_folder(directory, county["province_slug"], county["slug"])
    text_path = folder / doc["file"]
    meta_path = text_path.with_suffix(".yaml")
    line = raw_doc.lines.get("file", raw_doc.line) if isinstance(raw_doc, Map) else 0
    if not (text_path.is_file() if files is None else text_path.name in files):
        return [(county["file"], line, "county.document.file",
                 f"{doc['file']!r} is not in {_rel(folder)}/ — put the document's text there with its metadata "
                 f"{meta_path.name} beside it (catalogue/sources/README.md)")]
    if not (meta_path.is_file() if files is None else meta_path.name in files):
        return [(_rel(meta_path), 0, "(file)", f"is missing: every document needs its metadata beside it "
                 f"(title, issuer, numbers, date, status …; catalogue/sources/README.md)")]
    try:
        meta = read_yaml(meta_path, None if files is None else files[meta_path.name])
    except CatalogueError as err:
        return err.problems
    c = _Checker(meta_path)
    if not c.mapping(meta, "document", required=SOURCE_FIELDS):
        return c.problems
    for key in ("title", "date_text", "status_words", "obtained"):
        c.text(meta, key, "document")
    if meta["issuer"] is not None:
        c.text(meta, "issuer", "document")
    c.date(meta, "date", "document", required=True, nullable=True)
    c.date(meta, "compared", "document", required=True)
    c.choice(meta, "status", "document", list(DOCUMENT_STATUS))
    if meta["file"] != doc["file"]:
        c.err(meta, "file", "document.file", f"{meta['file']!r} must name the text beside it, {doc['file']!r}")
    numbers = meta["numbers"]
    if not isinstance(numbers, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                                for k, v in numbers.items()):
        c.err(meta, "numbers", "document.numbers", "must map each label the document prints (文号, 索引号 …) to the "
              "number as printed; {} where it prints none")
    digest = hashlib.sha256(text_path.read_bytes() if files is None else files[text_path.name]).hexdigest()
    if meta["sha256"] != digest:
        c.err(meta, "sha256", "document.sha256", f"does not match {text_path.name} (sha256 {digest}): the text must stay "
              "exactly as published — restore it; only for a new text write its sha256 here")
    if meta["date"] != doc.get("date"):
        c.err(meta, "date", "document.date", f"{meta['date']!r} differs from county.document.date {doc.get('date')!r} "
              f"in {county['file']}: give the same date in both")
    if c.problems:
        return c.problems
    doc.update(status=meta["status"], status_text=DOCUMENT_STATUS[meta["status"]], numbers=_plain(numbers),
               compared=meta["compared"], path=_rel(text_path))
    return []


def _yearly(amount) -> bool:
    if isinstance(amount, dict):
        return amount.get("revised") == "yearly" or any(_yearly(v) for v in amount.values())
    if isinstance(amount, list):
        return any(_yearly(v) for v in amount)
    return False


def revised_note(county: dict, amount) -> str | None:
    """For an amount marked `revised: yearly` (a standard revised every year): which year it is
    from, that it may be higher now, and whom to ask."""
    if not _yearly(amount):
        return None
    date = county["document"].get("date")
    when = f"{date[:4]}年的标准" if date else "文件发布时的标准（文件未注明日期）"
    return f"这是{when}，现在可能更高，请问{county.get('ask') or DEFAULT_ASK}"


def stale_documents(catalogue, today: dt.date | None = None) -> list:
    """A warning for each county last compared with its document more than a year ago."""
    today = today or dt.date.today()
    out = []
    for county in catalogue["counties"].values():
        doc = county["document"]
        compared = dt.date.fromisoformat(doc["compared"])
        try:
            due = compared.replace(year=compared.year + 1)
        except ValueError:  # 29 February
            due = dt.date(compared.year + 1, 3, 1)
        if today > due:
            out.append(f"注意 / warning: {county['file']}: last compared with {doc['path']} on {doc['compared']}, more "
                       f"than a year ago — compare them again and update `compared` in its .yaml（上次核对文件已超过一年）")
    return out


# ---------------------------------------------------------------- the compile cache
# What one county file compiles to (its county entry with the services, after _plain, load_source
# and the derived fields) is kept in the build cache (site_build/cache.py; build/cache/catalogue/,
# `MB_BUILD_CACHE` moves it, `off` turns it off), under a digest of exactly what it is made from:
# the file's bytes and path, every file of its sources folder (catalogue/sources/<province>/<county>/:
# the documents load_source reads), shared.yaml, the loader's code (this file, checker/engine.py and
# checker/profile.py, whose DEFAULT_ASK, FIELDS and county codes it uses), PyYAML's and Python's
# versions and COMPILE_FORMAT. A compile reads and hashes every file, and parses and checks only
# those whose digest it has not seen: at 2,850 counties a one-county edit parses one file.
# An entry is `<key>.county`, the county's JSON exactly as catalogue.json holds it (compile_catalogue
# joins them without parsing them), and `<key>.json`, its facts: code and the line of `code`, service
# ids and what they exclude (the checks across files: duplicate codes, unknown `excludes`), the
# number of services, the document's `compared` date (the warning of stale_documents), the sha256
# of `<key>.county` (a damaged entry is made again). A county is stored only when its JSON reads
# back to the same values (a number as a mapping key would not); a file with problems never: its
# messages are made again each time, exactly as without the cache.

COMPILE_FORMAT = "3"     # bump when what an entry holds changes (3: an amount's `by` has its `order`)
# the modules whose code decides what a county compiles to (beside this file)
_CODE_MODULES = ("checker.engine", "checker.profile")


def _dumps(obj) -> str:
    """The JSON of catalogue.json (and of each county in it)."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _loader_digest(shared_raw: bytes) -> str:
    from site_build.cache import digest
    files = [Path(__file__)] + [Path(sys.modules[m].__file__) for m in _CODE_MODULES]
    return digest(COMPILE_FORMAT, yaml.__version__, _Loader.__mro__[1].__name__, list(sys.version_info[:2]),
                  shared_raw, *(f.read_bytes() for f in files))


def _county_inputs(path: Path, directory: Path, base: str):
    """(the file's bytes, (its sources folder, its files), their digest); None where a file cannot be
    read (then the county is compiled as without the cache, with its usual message)."""
    from site_build.cache import digest
    folder = sources_folder(directory, path.parent.name, path.stem)
    try:
        raw = path.read_bytes()
        files = {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()} if folder.is_dir() else {}
    except OSError:
        return None
    parts = [base, _rel(path), raw, _rel(folder)]
    for name, data in files.items():
        parts += [name, data]
    return raw, (folder, files), digest(*parts)


class _County:
    """One county file compiled: its facts, and its entry as a dict or as its JSON (from the cache)."""
    __slots__ = ("facts", "county", "text")

    def __init__(self, facts: dict, county: dict | None = None, text: bytes | None = None):
        self.facts, self.county, self.text = facts, county, text

    def as_dict(self) -> dict:
        return self.county if self.county is not None else json.loads(self.text)

    def as_json(self) -> bytes:
        if self.text is None:
            self.text = _dumps(self.county).encode("utf-8")
        return self.text


def _compile_county(path: Path, directory: Path, raw: bytes | None = None, sources=None):
    """One county file → (_County or None, problems). None when the file itself is refused; else its
    facts hold code and code_line (for the duplicate check across files), and, when there are no
    problems, the rest (see above) and the county's entry."""
    try:
        data = load_county(path, raw)
    except CatalogueError as err:
        return None, err.problems
    local = data["county"].get("conditions") or {}
    try:
        county = _plain(data["county"], local)
        plain_services = [_plain(s, local) for s in data["services"]]
    except RecursionError:
        return None, [(_rel(path), 0, "county.conditions", "a named condition refers to itself (ref goes round in a circle)")]
    code = county["code"]
    facts = {"code": code, "code_line": data["county"].lines["code"], "file": _rel(path)}
    county["file"] = facts["file"]
    county["url"] = f"{county['province_slug']}/{county['slug']}/"
    files = None
    if sources is not None and sources[0] == sources_folder(directory, county["province_slug"], county["slug"]):
        files = sources[1]
    source_problems = load_source(county, data["county"].get("document"), directory, files)
    for raw_doc, extra in zip(data["county"].get("documents") or [], county.get("documents") or []):
        source_problems += load_source({**county, "document": extra}, raw_doc, directory, files)
    if source_problems:
        return _County(facts), source_problems
    docs = {d["file"]: d for d in [county["document"]] + (county.get("documents") or [])}
    services, ids = [], []
    for raw_service, s in zip(data["services"], plain_services):
        doc = docs[s["source"].get("document") or county["document"]["file"]]  # a service from an older document names it
        s["county"] = code
        s["url"] = f"{county['url']}{s['slug']}/"
        where = f"第{s['item']}项" if s.get("item") else s["source"].get("section", "")
        if s.get("item") and s["source"].get("section"):
            where += f"（{s['source']['section']}）"
        s["source_text"] = f"{doc['file']} {where}".strip()
        s["basis_doc"] = f"《{doc['title']}》（{doc['status_text']}），{date_cn(doc['date'])}"
        note = revised_note(county, s.get("amount"))
        if note:
            s["revised_note"] = note
            s["basis_doc"] += f"。{note}"
        services.append(s)
        ids.append([s["id"], [[ex["service"], ex.line] for ex in raw_service.get("excludes") or []]])
    county["services"] = services
    facts.update(ids=ids, services=len(services),
                 document={k: county["document"][k] for k in ("compared", "path")})
    return _County(facts, county), []


class _CompileCache:
    """The county entries, in site_build/cache.py's Cache (`<key>.county` with `<key>.json` beside it)."""

    def __init__(self, folder: Path, base: str):
        from site_build.cache import Cache
        self.store = Cache(folder, ".county")
        self.base = base
        self.parsed = 0    # county files parsed (not found in the cache)

    def county(self, path: Path, directory: Path):
        inputs = _county_inputs(path, directory, self.base)
        if inputs is None:
            self.parsed += 1
            return _compile_county(path, directory)
        raw, sources, key = inputs
        facts = self.store.get(key)
        if facts is not None:
            try:
                text = self.store._path(key, ".county").read_bytes()
                if hashlib.sha256(text).hexdigest() == facts.pop("sha256", None):
                    return _County(facts, text=text), []
            except OSError:
                pass   # gone meanwhile
            # damaged or gone: made again and stored again below
        self.parsed += 1
        entry, problems = _compile_county(path, directory, raw, sources)
        if entry is not None and not problems:
            self.put(key, entry)
        return entry, problems

    def put(self, key: str, entry: _County):
        text = entry.as_json()
        if json.loads(text) != entry.county or json.loads(_dumps(entry.facts)) != entry.facts:
            return   # not exactly what JSON gives back (a number as a key …): compiled again each time
        folder = self.store.folder
        tmp = folder / f".entry.{os.getpid()}"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(text)
            self.store.put(key, tmp, {**entry.facts, "sha256": hashlib.sha256(text).hexdigest()})
        except OSError:
            pass   # a cache that cannot be written only costs time
        finally:
            tmp.unlink(missing_ok=True)


last_compile: dict = {}   # the last compile's counts: files, parsed (for tests and benchmarks)


def _compile(directory: Path = CATALOGUE_DIR, cache="default"):
    """Every county file compiled (through the compile cache) and checked across files: (shared.yaml,
    {code: _County} in file order). Raises CatalogueError with every problem."""
    from site_build.cache import default_folder
    folder = default_folder("catalogue") if cache == "default" else cache
    try:
        shared_raw = (CATALOGUE_DIR / "shared.yaml").read_bytes()
    except OSError:
        shared_raw, folder = None, None   # load_shared says what is wrong
    shared = load_shared(shared_raw)
    store = _CompileCache(Path(folder), _loader_digest(shared_raw)) if folder is not None else None
    problems, counties, all_ids = [], {}, {}
    paths = county_files(directory)
    for path in paths:
        entry, found = store.county(path, directory) if store else _compile_county(path, directory)
        if entry is None:
            problems.extend(found)
            continue
        code = entry.facts["code"]
        if code in counties:
            problems.append((_rel(path), entry.facts["code_line"], "county.code", f"{code} is already used by {counties[code].facts['file']}"))
            continue
        if found:
            problems.extend(found)
            continue
        counties[code] = entry
        name = entry.facts["file"]
        for sid, excludes in entry.facts["ids"]:
            all_ids[sid] = (name, excludes)
    for sid, (name, excludes) in all_ids.items():
        for i, (service, line) in enumerate(excludes):
            if service not in all_ids:
                problems.append((name, line, f"{sid}.excludes[{i}].service", f"{service!r} is not a service id in the catalogue"))
    last_compile.clear()
    last_compile.update(files=len(paths), parsed=store.parsed if store else len(paths))
    if store:
        store.store.prune()   # entries no compile used for a day (another catalogue may share the folder)
    if problems:
        raise CatalogueError(problems)
    return shared, counties


def _head(shared) -> dict:
    """catalogue.json without its counties."""
    return {
        "schema": 1,
        "groups": _plain(shared["groups"]),
        "topics": _plain(shared["topics"]),
        "glossary": _plain(shared["glossary"]),
        "recognised": _plain(shared.get("recognised") or {}),
    }


def load_catalogue(directory: Path = CATALOGUE_DIR, cache="default"):
    """Read every county; return the compiled catalogue (plain data). Raises CatalogueError.
    `cache`: the compile cache's folder ("default": build/cache/catalogue, or as MB_BUILD_CACHE
    says; None: no cache, every file parsed)."""
    shared, counties = _compile(directory, cache)
    return {**_head(shared), "counties": {code: entry.as_dict() for code, entry in counties.items()}}


def _catalogue_json(shared, counties: dict) -> bytes:
    """catalogue.json's bytes, the counties' JSON joined as they are: what write_compiled writes for
    load_catalogue's dict, byte for byte, without parsing the cached counties or writing them again."""
    head = _head(shared)
    text = _dumps({**head, "counties": {}}).encode("utf-8")
    start = b'{"counties":{}'
    if not text.startswith(start) or not all(isinstance(code, str) for code in counties):
        return _dumps({**head, "counties": {c: e.as_dict() for c, e in counties.items()}}).encode("utf-8")
    parts = [b'{"counties":{']
    for i, code in enumerate(sorted(counties)):
        parts += [b"," if i else b"", _dumps(code).encode("utf-8"), b":", counties[code].as_json()]
    parts += [b"}", text[len(start):]]
    return b"".join(parts)


def _write_bytes(data: bytes, path: Path) -> Path:
    try:   # the size first: at national size the file is ~200 MB, read back only when it may be the same
        same = path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        same = False
    if not same:
        path.write_bytes(data)
    else:
        path.touch()  # up to date with a YAML edit that changes nothing compiled (a comment): not stale
    return path


def write_compiled(catalogue, path: Path = COMPILED):
    return _write_bytes(_dumps(catalogue).encode("utf-8"), path)


def check_words():
    """catalogue/words.yaml, the site search's word list, checked in the same pass (its shape, with
    file, line and field; whether each `means` word is in some page is checked when the index is built)."""
    from site_build import search
    search.load_words()


def _stale_warnings(counties: dict) -> list:
    return stale_documents({"counties": {code: {"file": e.facts["file"], "document": e.facts["document"]}
                                         for code, e in counties.items()}})


def compile_catalogue(path: Path = COMPILED, directory: Path = CATALOGUE_DIR, cache="default"):
    shared, counties = _compile(directory, cache)
    check_words()
    for warning in _stale_warnings(counties):
        print(warning, file=sys.stderr)
    return _write_bytes(_catalogue_json(shared, counties), path)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        shared, counties = _compile()
        check_words()
    except CatalogueError as err:
        print(f"目录有错误 / the catalogue has errors:\n{err}", file=sys.stderr)
        return 2
    n = sum(e.facts["services"] for e in counties.values())
    for warning in _stale_warnings(counties):
        print(warning, file=sys.stderr)
    if "--check" in argv:
        print(f"ok: {len(counties)} counties, {n} services")
        return 0
    out = _write_bytes(_catalogue_json(shared, counties), COMPILED)
    print(f"wrote {_rel(out)}: {len(counties)} counties, {n} services")
    return 0


if __name__ == "__main__":
    sys.exit(main())
