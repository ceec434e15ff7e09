"""The site's own Chinese search index, segmented with jieba at build time, split into small files.

Written to site/search/ and fetched only by the /search/ page when the reader searches
(assets/search.js), never by other pages. A search downloads only the shards its words hash to,
so its cost stays the same as the catalogue grows to every county. Files (version 3):

    meta.json   {"v": 3, "term_shards": N, "docs_per_shard": D, "docs": total, "max_len": longest word,
                 "ages": [age thresholds], "fillers": [...], "start": "…", "end": "…", "keep": [...]}
    t<i>.json   {"高龄津贴": [posting, ...], ...}  — the words whose shard_of(word) == i
    d<k>.json   [[url, title, where, summary], ...] — documents k*D … k*D+D-1
    hints.json  {"words": [...], "counties": [[name, url, where], ...]} — only when nothing is found

A posting is `doc_number * 2 + 1` when the word is in the page's title or topic, `doc_number * 2`
when it is only in the text. A word's shard is chosen by its first two characters, so the words a
query's substrings starting at one place can be all sit in one shard.

The word list catalogue/words.yaml (everyday and old words → the documents' words) is applied here,
at build time: a `say` word's list holds the pages of its `means` words, so the browser fetches one
list for it as for any word. Ages: a service whose age condition is above 60 is listed under "#<t>"
for every threshold t at or above its own (t from meta "ages"); the browser turns 85岁, 八十五周岁,
九十多岁 into "#<largest threshold ≤ age>". Fillers of spoken questions (我, 今年, 能领, 什么 …) are
taken out before any lookup (normalize(), the same in search.js).

Building it (write_index, called by site_build/hooks.py): each county's documents, their words and
the `means` words they hold are a part cached by the county's hash (_Parts, build/cache/search/);
a build that finds the documents in the same order as the last one (a state kept per output
folder) redoes only the counties that changed and rewrites only the word and document shards
their postings and rows are in; otherwise the index is assembled whole from the parts. Either
way a file is written only when its bytes change, and the bytes are those of a build from nothing
(tests/test_search_incremental.py).
"""
from __future__ import annotations

import bisect
import hashlib
import json
import logging
import math
import os
import pickle
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

import jieba

from site_build import catalogue as loader

jieba.setLogLevel(logging.WARNING)

STOP = set("的 了 和 与 及 或 在 是 为 等 由 对 按 向 从 把 被 并 其 可 以 之 也 都 有 无 不".split())
WORD = re.compile(r"[\w\u4e00-\u9fff]")
QCHAR = re.compile(r"[0-9a-z\u4e00-\u9fff]")       # what a query keeps (search.js: the same)
AGE = re.compile(r"([0-9]{1,3}|[零〇一二两三四五六七八九十百]{1,5})(多)?(周岁|岁)")
CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
DOCS_PER_SHARD = 200
TERM_SHARD_BYTES = 8_000    # a word shard's target size before compression
MAX_LEN = 12                # longest query substring looked up (search.js: the same)
WORDS_FILE = loader.CATALOGUE_DIR / "words.yaml"


def term_hash(word: str) -> int:
    """31-multiplier hash over UTF-16 code units, mod 2^32: the same as termHash() in search.js."""
    h = 0
    units = word.encode("utf-16-le")
    for i in range(0, len(units), 2):
        h = (h * 31 + (units[i] | units[i + 1] << 8)) & 0xFFFFFFFF
    return h


def shard_of(word: str, n: int) -> int:
    """The word shard of `word`: by its first two characters (search.js: shardOf)."""
    return term_hash(word[:2]) % n


# ---------------------------------------------------------------- the word list (catalogue/words.yaml)

def _problem(path, node, key, field, msg):
    line = (node.lines.get(key) if isinstance(key, str) else node.lines[key]) if hasattr(node, "lines") else 0
    return (loader._rel(path), line or getattr(node, "line", 0), field, msg)


def _word_list(path, node, key, field, problems, single=False):
    value = node.get(key) if isinstance(node, dict) else None
    if single:
        ok = isinstance(value, str) and value.strip()
    else:
        ok = isinstance(value, list) and value and all(
            isinstance(w, str) and 1 <= len(w) <= MAX_LEN and all(QCHAR.match(ch) for ch in w.lower()) for w in value)
    if not ok:
        what = "a non-empty text" if single else f"a list of words ([词, 词]) of 1–{MAX_LEN} Chinese characters, digits or letters, no spaces"
        problems.append(_problem(path, node, key, field, f"must be {what} (应为{'一段说明' if single else '词的列表'})"))
        return [] if not single else ""
    return value


def load_words(path: Path = WORDS_FILE) -> dict:
    """Read and check catalogue/words.yaml: {"words": [{"say", "means", "why", "line"}], "fillers": [...],
    "start": str, "end": str}. Problems raise loader.CatalogueError naming file, line and field."""
    data = loader.read_yaml(path)
    problems = []
    if not isinstance(data, dict) or not isinstance(data.get("words"), list):
        raise loader.CatalogueError([(loader._rel(path), getattr(data, "line", 0), "words",
                                      "is required: a list of {say, means, why} (词表)")])
    for key in data:
        if key not in ("words", "fillers"):
            problems.append(_problem(path, data, key, key, "unknown key; allowed: words, fillers (未知的字段)"))
    entries, said = [], {}
    for i, entry in enumerate(data["words"]):
        field = f"words[{i}]"
        if not isinstance(entry, dict):
            problems.append((loader._rel(path), data["words"].lines[i], field, "must be a mapping with say, means, why"))
            continue
        for key in entry:
            if key not in ("say", "means", "why"):
                problems.append(_problem(path, entry, key, f"{field}.{key}", "unknown key; allowed: say, means, why (未知的字段)"))
        say = _word_list(path, entry, "say", f"{field}.say", problems)
        means = _word_list(path, entry, "means", f"{field}.means", problems)
        why = _word_list(path, entry, "why", f"{field}.why", problems, single=True)
        for w in say:
            if w.lower() in said:
                problems.append(_problem(path, entry, "say", f"{field}.say",
                                         f"{w!r} is already in the list on line {said[w.lower()]} (重复的词)"))
            said[w.lower()] = entry.lines.get("say", entry.line)
        entries.append({"say": [w.lower() for w in say], "means": [w.lower() for w in means], "why": why,
                        "line": entry.lines.get("means", entry.line)})
    fillers = data.get("fillers") or {}
    out = {"words": entries, "fillers": [], "start": "", "end": ""}
    if not isinstance(fillers, dict):
        problems.append(_problem(path, data, "fillers", "fillers", "must be a mapping: words, start, end"))
    else:
        for key in fillers:
            if key not in ("words", "start", "end"):
                problems.append(_problem(path, fillers, key, f"fillers.{key}", "unknown key; allowed: words, start, end"))
        if "words" in fillers:
            out["fillers"] = [w.lower() for w in _word_list(path, fillers, "words", "fillers.words", problems)]
        for key in ("start", "end"):
            if key in fillers:
                chars = fillers[key]
                if not isinstance(chars, str) or not all("\u4e00" <= ch <= "\u9fff" for ch in chars):
                    problems.append(_problem(path, fillers, key, f"fillers.{key}", "must be Chinese characters in one line (一串汉字)"))
                else:
                    out[key] = chars
        clash = [w for w in out["fillers"] if w in said]
        if clash:
            problems.append(_problem(path, fillers, "words", "fillers.words",
                                     f"{', '.join(clash)}: also a `say` word; a word cannot be both (既是虚词又是用词)"))
    if problems:
        raise loader.CatalogueError(problems)
    return out


# ---------------------------------------------------------------- building the index

_ADDED: set = set()    # every word given to jieba in this process (they decide how texts are cut)
_PENDING: set = set()  # words of _ADDED jieba has not been given yet (_teach: loading its dictionary takes ~1 s)
# This file's own source: a change to it may change any part of the index (_Parts keys).
VERSION = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:16]
# The index's files in site/search/ (offline.py: SEARCH_INDEX); other files there (the search
# page's index.html) are not the index's. Stale ones, with their precompressed copies, are removed.
INDEX_FILE = re.compile(r"(?:meta|hints|[td][0-9]+)\.json")


def _prepare(site):
    """Teach jieba the catalogue's own words (glossary, topic and service names), once per process,
    when jieba first cuts a text (_teach)."""
    words = set(site.glossary) | {t["name"] for t in site.topics.values()}
    words |= {s["name"] for s in site.services.values() if len(s["name"]) <= 8}
    words |= {"一键报警", "低保", "低边", "特困", "高龄津贴", "人户分离"}
    _PENDING.update(words - _ADDED)
    _ADDED.update(words)


def _teach():
    """Give jieba the words of _PENDING, leaving its total frequency as its own dictionary has it:
    so the cut of a text depends on the words added only through those the text holds (an added
    word w changes jieba's dictionary at w, and adds w's prefixes with no frequency, which make no
    word of their own), and a text cut before a word was added or taken away that does not hold
    it is cut the same (_Names.delta). Counting them in the total would make every cut depend on
    the whole catalogue's names (at 2,850 counties they would be most of jieba's total)."""
    for w in sorted(_PENDING):
        jieba.add_word(w, freq=20000)
        jieba.dt.total -= 20000
    _PENDING.clear()


class _Names:
    """The words given to jieba (_ADDED) under their hash `key`, kept in build/cache/search/names/ so a
    later build can tell what it gives jieba that a cut made then did not have (or the other way):
    delta(key) (None: not known)."""

    def __init__(self, folder: Path | None):
        from site_build import cache as artefacts
        self.words = frozenset(_ADDED)
        self.key = artefacts.digest("names-1", sorted(self.words))
        self.folder = folder / "names" if folder is not None else None
        self._deltas: dict = {}
        if self.folder is not None:
            path = self.folder / f"{self.key}.json"
            try:
                os.utime(path)
            except OSError:
                self.folder.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f".{path.name}.{os.getpid()}")
                tmp.write_text(json.dumps(sorted(self.words), ensure_ascii=False), encoding="utf-8")
                os.replace(tmp, path)
            for other in self.folder.glob("*.json"):
                try:
                    if other != path and time.time() - other.stat().st_mtime > 24 * 3600:
                        other.unlink()
                except OSError:
                    pass

    def delta(self, key: str) -> frozenset | None:
        """The words given to jieba now or under `key`, not both."""
        if key == self.key:
            return frozenset()
        if key not in self._deltas:
            try:
                words = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
                self._deltas[key] = self.words ^ frozenset(words)
            except (OSError, ValueError, TypeError):
                self._deltas[key] = None
        return self._deltas[key]


def _holds(text: str, words) -> bool:
    return any(w in text for w in words)


class TokenCache:
    """tokens() of every text an earlier build cut, kept in build/cache/search/ (site_build/cache.py;
    `MB_BUILD_CACHE=off`: none): cutting with jieba is most of the index's time. The file is keyed
    by what decides the cut besides the words given to jieba (`key`: jieba's version, STOP and WORD,
    this file's format) and holds {"names": [_Names keys], "texts": {sha256 of text: [which of those
    names the text was cut with, tokens]}}; a text holding a word given to jieba then or now, not
    both, is cut again (_teach). It is read only when a text is not in a cached part of the index
    (_Parts), i.e. on a first build or for the texts of an edited county; save(prune=True) keeps
    only the texts this build used (a build that cut every text), else it adds the new texts to
    the old ones."""

    def __init__(self, names: _Names | None = None):
        from site_build import cache as artefacts
        self.folder = artefacts.default_folder("search")
        self.names = names or _Names(None)
        self.key = artefacts.digest("tokens-3", getattr(jieba, "__version__", ""), sorted(STOP), WORD.pattern)
        self.path = self.folder / f"tokens-{self.key[:24]}.json" if self.folder else None
        self.old, self.new, self.hits, self.misses = None, {}, 0, 0

    def _load(self):
        self.old = {}
        if self.path is not None:
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                keys = data["names"]
                self.old = {h: (keys[i], found) for h, (i, found) in data["texts"].items()}
            except (OSError, ValueError, KeyError, TypeError, IndexError):
                self.old = {}

    def __call__(self, text: str) -> set:
        h = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
        found = self.new.get(h)
        if found is None:
            if self.old is None:
                self._load()
            names, found = self.old.get(h, (None, None))
            delta = self.names.delta(names) if found is not None else None
            if delta is None or (delta and _holds(text, delta)):
                self.misses += 1
                found = sorted(tokens(text))
            else:
                self.hits += 1
            self.new[h] = found
        return set(found)

    def save(self, prune: bool = True):
        if self.path is None or self.old is None or (not self.misses and not prune):
            return
        keep = {h: (self.names.key, found) for h, found in self.new.items()}
        if not prune:   # the others as they were cut (while the words they were cut with are known)
            keep = {**{h: e for h, e in self.old.items() if self.names.delta(e[0]) is not None}, **keep}
        keys = sorted({k for k, _ in keep.values()})
        index = {k: i for i, k in enumerate(keys)}
        data = {"names": keys, "texts": {h: [index[k], found] for h, (k, found) in keep.items()}}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, self.path)


def tokens(text: str) -> set:
    if _PENDING:
        _teach()
    out = set()
    for tok in jieba.cut_for_search(text or ""):
        tok = tok.strip().lower()
        if tok and tok not in STOP and WORD.search(tok):
            out.add(tok)
    return out


def age_threshold(service) -> int | None:
    """The lowest age the service's own conditions require, when it is above 60: the largest
    `age.min` among its top-level conditions, or, for a top-level `any` whose every branch requires
    an age, the smallest of those. None when the service is for everyone of 60 and over."""
    def least(cond):
        if not isinstance(cond, dict):
            return None
        age = cond.get("age")
        if isinstance(age, dict) and isinstance(age.get("min"), int):
            return age["min"]
        for key in ("all",):
            if isinstance(cond.get(key), list):
                found = [least(c) for c in cond[key]]
                found = [a for a in found if a is not None]
                return max(found) if found else None
        if isinstance(cond.get("any"), list) and cond["any"]:
            found = [least(c) for c in cond["any"]]
            return None if None in found else min(found)
        return None
    found = [a for a in (least(c) for c in service.get("conditions") or []) if a is not None]
    best = max(found, default=None)
    return best if best is not None and best > 60 else None


def _shared_documents(site):
    """The documents of no county: the comparisons, then the glossary."""
    for t in site.topic_order:
        name = site.topics[t]["name"]
        yield (f"compare/{t}/", f"{name}：各县对比", "各县对比", "各县的规定放在一张表里比较",
               name, " ".join(s["name"] for _, s in site.by_topic[t]), None)
    for word, entry in site.glossary.items():
        yield (f"glossary/#{word}", word, "名词解释", entry["text"], f"{word} {entry.get('full', '')}", entry["text"], None)


def _county_document(site, c):
    return (c["url"], f"{c['name']}的养老服务", f"{c['province']}{c['prefecture']}",
            f"共{len(c['services'])}项服务", f"{c['name']} {c['prefecture']}",
            " ".join(s["name"] for s in c["services"]), None)


def _service_document(site, c, s):
    topic = site.topics[s["topic"]]["name"] if s.get("topic") else ""
    amount = s.get("amount") or {}
    body = [s["summary"], s["target"], s.get("what", ""), amount.get("text", ""), s["where"],
            s.get("away", ""), s["wording"], " ".join(s.get("also") or []),
            " ".join(site.groups[g]["name"] for g in s["groups"]),
            " ".join(s.get("departments") or []),
            " ".join(r[1] for r in site.amount_rows(amount)),
            " ".join(x["text"] for x in site.conditions(s))]
    where = f"{c['name']} · {c['province']}{c['prefecture']}"
    groups = " ".join(site.groups[g]["name"] for g in s["groups"])   # whom it is for: part of its topic
    return (s["url"], s["name"], where, s["summary"], f"{s['name']} {topic} {groups} {c['name']}", " ".join(body),
            age_threshold(s))


def _service_order(site) -> list:
    """(county, service) in the index's order: by topic (shared.yaml's order), name, county code."""
    topic_rank = {t: i for i, t in enumerate(site.topics)}
    return sorted(((c, s) for c in site.counties for s in c["services"]),
                  key=lambda cs: (topic_rank.get(cs[1].get("topic"), len(topic_rank)), cs[1]["name"], cs[0]["code"]))


def documents(site):
    """(url, title, where, summary, title text, body text, age threshold) for every page worth finding.

    Order matters for the document shards: comparisons, glossary and county pages first, then the
    services grouped by topic (then by name), so that one kind of service in every county — what
    most searches ask for — sits in neighbouring documents and a few shards. Order is also the
    tie-break of the ranking: a comparison page comes before the county pages it compares."""
    yield from _shared_documents(site)
    for c in site.counties:
        yield _county_document(site, c)
    for c, s in _service_order(site):
        yield _service_document(site, c, s)


def _entry(doc, cut, means: list) -> tuple:
    """A document as the index needs it: (url, its row in d<k>.json, sorted words of its title and
    topic, sorted words only in its text, age threshold, [[means word, 1 if in the title else 0]
    for the word list's `means` words found in it as text])."""
    url, title, where, summary, title_text, body_text, age = doc
    in_title = cut(title_text)
    in_body = cut(body_text) - in_title
    t, b = title_text.lower(), body_text.lower()
    found = [[m, 1 if m in t else 0] for m in means if m in t or m in b]
    return (url, [url, title, where, summary], sorted(in_title), sorted(in_body), age, found)


class _Cut:
    """tokens() of a text: from `known` ({sha256 of text[:32]: tokens}, the cuts kept in a county's
    earlier part, made with the words given to jieba then: `delta` the words given now or then, not
    both), else the TokenCache (or jieba). `cuts` and `texts` gather what it gave, for the part it
    makes."""

    def __init__(self, cache: TokenCache | None, known: dict | None = None, delta=frozenset()):
        self.cache, self.known, self.delta, self.cuts, self.texts, self.reused = cache, known or {}, delta, {}, [], 0

    def __call__(self, text: str) -> set:
        h = hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
        found = self.cuts.get(h)
        if found is None:
            found = self.known.get(h)
            if found is None or (self.delta and _holds(text, self.delta)):
                found = sorted(self.cache(text) if self.cache is not None else tokens(text))
            else:
                self.reused += 1
            self.cuts[h] = found
            self.texts.append(text)
        return set(found)


class _Parts:
    """The entries (_entry) of each county's documents (its page and its services'), and those of the
    shared documents, cached across builds in build/cache/search/parts/ (pickle files; MB_BUILD_CACHE
    moves it, `off`: none). A county's part is keyed by everything its entries are made from: its
    data as the pages show it (Site.county_digest), what every page shares (Site.shared_digest), the
    word list's `means` words, how texts are cut (TokenCache.key) and this file (VERSION); the
    shared part by its documents themselves. `<key>.pickle` holds (_Names key, entries), and
    `<key>.cuts.pickle` (_Names key, the cuts of its texts, its texts): a part made with other
    words given to jieba holds if none of its texts holds a word given then or now, not both; the
    part made after an edit of the county cuts only its new texts. An entry no build used for a
    day is removed."""

    def __init__(self, folder: Path | None):
        self.folder = folder / "parts" if folder is not None else None
        self.used: set = set()
        self.hits = self.misses = 0

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.pickle"

    def get(self, key: str):
        """(_Names key, entries) or None."""
        if self.folder is None:
            self.misses += 1
            return None
        path = self._path(key)
        try:
            with open(path, "rb") as f:
                found = pickle.load(f)
            os.utime(path)
        except Exception:      # noqa: BLE001 — missing, or damaged: made again
            self.misses += 1
            return None
        self.used.add(key)
        self.hits += 1
        return found

    def side(self, key: str):
        """(_Names key, {sha256 of text[:32]: tokens}, texts joined) of the part `key`, or None."""
        if self.folder is None:
            return None
        try:
            with open(self._path(key).with_suffix(".cuts.pickle"), "rb") as f:
                return pickle.load(f)
        except Exception:      # noqa: BLE001
            return None

    def put(self, key: str, part, side):
        if self.folder is None:
            return
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        for target, data in ((path.with_suffix(".cuts.pickle"), side), (path, part)):   # the part last: complete
            tmp = target.with_name(f".{target.name}.{os.getpid()}")
            tmp.write_bytes(pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(tmp, target)
        self.used.add(key)

    def prune(self, older_than: float = 24 * 3600) -> int:
        if self.folder is None or not self.folder.is_dir():
            return 0
        now, n = time.time(), 0
        for path in self.folder.glob("*/*.pickle"):
            try:
                if path.name.split(".")[0] not in self.used and now - path.stat().st_mtime > older_than:
                    path.unlink()
                    n += 1
            except OSError:
                pass
        return n


class _Build:
    """What one build of the index starts from: the site, the word list, the key of each part
    ("" = the shared documents, else a county code) and the documents' order (urls)."""

    def __init__(self, site, words_file: Path, require_words: bool):
        from site_build import cache as artefacts
        _prepare(site)
        self.site, self.words_file, self.require_words = site, words_file, require_words
        self.wordlist = load_words(words_file)
        self.means = list(dict.fromkeys(m for e in self.wordlist["words"] for m in e["means"]))
        self.fillers = set(self.wordlist["fillers"])
        self.names = _Names(artefacts.default_folder("search"))
        self.cache = TokenCache(self.names)
        self.parts = _Parts(self.cache.folder)
        base = artefacts.digest("search-part-3", VERSION, self.cache.key, sorted(set(self.means)), site.shared_digest())
        self.shared_docs = list(_shared_documents(site))
        self.keys = {"": artefacts.digest(base, "shared", self.shared_docs)}
        self.keys.update((c["code"], artefacts.digest(base, c["code"], site.county_digest(c["code"]))) for c in site.counties)
        self.services = _service_order(site)
        self.order = [d[0] for d in self.shared_docs] + [c["url"] for c in site.counties] + [s["url"] for _, s in self.services]
        # what the assembled index is made from besides the parts (a change: assembled whole)
        words = [{k: e[k] for k in ("say", "means")} for e in self.wordlist["words"]]
        self.assembly = artefacts.digest("search-index-2", VERSION, self.cache.key, self.names.key, words,
                                         self.wordlist["fillers"], require_words)
        self.made = self.reused = 0

    def part(self, code: str, old_key: str | None = None, cache: bool = True) -> tuple:
        """The part (_Names key, entries) of county `code` ("": the shared documents): cached (made
        with other words given to jieba, if none of its texts holds one of those given then or now,
        not both), else made with the cuts of the part found or of an earlier part of the same
        county (stored under `old_key`) for the texts that are the same, and the TokenCache
        (`cache`; else jieba) for the others."""
        key = self.keys[code]
        found, side = self.parts.get(key), None
        if found is not None:
            if found[0] == self.names.key:
                return found
            side = self.parts.side(key)
            delta = self.names.delta(found[0])
            if side is not None and delta is not None and not _holds(side[2], delta):
                found = (self.names.key, found[1])
                self.parts.put(key, found, (self.names.key, side[1], side[2]))
                return found
        elif old_key and old_key != key:
            side = self.parts.side(old_key)
        known, delta = None, frozenset()
        if side is not None and self.names.delta(side[0]) is not None:
            known, delta = side[1], self.names.delta(side[0])
        cut = _Cut(self.cache if cache else None, known, delta)
        if code:
            c = self.site.catalogue["counties"][code]
            docs = [_county_document(self.site, c)] + [_service_document(self.site, c, s) for s in c["services"]]
        else:
            docs = self.shared_docs
        part = (self.names.key, [_entry(doc, cut, self.means) for doc in docs])
        self.parts.put(key, part, (self.names.key, cut.cuts, "\n".join(cut.texts)))
        self.made += 1
        self.reused += cut.reused
        return part

    def entries(self, old_keys: dict | None = None) -> list:
        """Every document's entry, in the index's order."""
        by_url = {}
        for code in self.keys:
            by_url.update((e[0], e) for e in self.part(code, old_key=(old_keys or {}).get(code))[1])
        self.cache.save(prune=not self.parts.hits and not self.reused)   # prune: it gave every text
        self.parts.prune()
        return [by_url[url] for url in self.order]

    def contribution(self, n: int, entry: tuple, thresholds) -> dict:
        """{word: posting} of document n in the index's word lists (as assemble() makes them)."""
        _, _, in_title, in_body, age, hits = entry
        raw = dict.fromkeys(in_body, n * 2)
        raw.update(dict.fromkeys(in_title, n * 2 + 1))
        out = {w: p for w, p in raw.items() if w not in self.fillers}
        for t in thresholds:
            out.pop(f"#{t}", None)
        bits = dict(hits)
        for e in self.wordlist["words"]:
            bit = None
            for m in e["means"]:
                if m in bits:
                    bit = (bit or 0) | bits[m]
            for say in e["say"]:
                b = bit
                if say in raw:
                    b = (b or 0) | (raw[say] & 1)
                if b is None:
                    out.pop(say, None)
                else:
                    out[say] = n * 2 + b
        if age is not None:
            out.update((f"#{t}", n * 2 + 1) for t in thresholds if age <= t)
        return out

    def assemble(self, entries: list):
        """(docs, {word: postings}, {doc: age}, {means word: pages}) of the whole index."""
        wordlist, docs, lists, ages, found = self.wordlist, [], defaultdict(list), {}, {}
        for n, (url, row, in_title, in_body, age, hits) in enumerate(entries):
            docs.append(row)
            p = n * 2 + 1
            for tok in in_title:
                lists[tok].append(p)
            p -= 1
            for tok in in_body:
                lists[tok].append(p)
            for m, bit in hits:
                found.setdefault(m, {})[n] = bit
            if age is not None:
                ages[n] = age
        terms = dict(lists)
        # the word list: a `say` word lists the pages of its `means` words (found as text, not only as
        # jieba's words) and its own
        problems, own = [], {say: list(terms.get(say, ())) for e in wordlist["words"] for say in e["say"]}
        for entry in wordlist["words"]:
            pages = {}
            for m in entry["means"]:
                hits = found.get(m, {})
                if not hits and self.require_words:
                    problems.append((loader._rel(self.words_file), entry["line"], "means",
                                     f"{m!r} is in no page of the site: write a word the documents use (文件里没有这个词)"))
                for n, bit in hits.items():
                    pages[n] = pages.get(n, 0) | bit
            for say in entry["say"]:
                merged = dict(pages)
                for p in own.get(say, []):
                    merged[p >> 1] = merged.get(p >> 1, 0) | (p & 1)
                terms[say] = [n * 2 + bit for n, bit in sorted(merged.items())]
        if problems:
            raise loader.CatalogueError(problems)
        # a filler is taken out of every query before lookup: its (long) list would never be read
        for f in wordlist["fillers"]:
            terms.pop(f, None)
        for t in sorted(set(ages.values())):
            terms[f"#{t}"] = [n * 2 + 1 for n, a in sorted(ages.items()) if a <= t]
        return docs, terms, ages, found

    def meta(self, n_shards: int, docs: int, max_len: int, thresholds: list) -> dict:
        wordlist = self.wordlist
        fillers = sorted(wordlist["fillers"], key=lambda w: (-len(w), w))
        return {"v": 3, "term_shards": n_shards, "docs_per_shard": DOCS_PER_SHARD, "docs": docs,
                "max_len": max_len, "ages": thresholds, "fillers": fillers, "start": wordlist["start"], "end": wordlist["end"],
                "chars": sorted({w for e in wordlist["words"] for w in e["say"] if len(w) == 1}),
                "keep": _keep_words(self.site, wordlist["words"], set(fillers), wordlist["start"], wordlist["end"])}

    def hints(self) -> dict:
        site = self.site
        hint_words = [site.topics[t]["name"] for t in site.topic_order] + list(site.glossary)
        hint_words += [e["say"][0] for e in self.wordlist["words"]]
        return {"words": list(dict.fromkeys(hint_words)),
                "counties": [[c["name"], c["url"], c["province"]] for c in site.counties]}


def _keep_words(site, words, fillers, start, end) -> list:
    """Words the filler step must leave whole (老人证, 能力综合评估, 养老服务补贴): the list's own
    words and the catalogue's names that hold a filler or begin or end with a filler character."""
    names = set(site.glossary) | {t["name"] for t in site.topics.values()}
    names |= {s["name"] for s in site.services.values()} | {g["name"] for g in site.groups.values()}
    names |= {c["name"] for c in site.counties} | {c["name"][:-1] for c in site.counties if len(c["name"]) > 2}
    names |= {w for e in words for w in e["say"] + e["means"]}
    names = {n.lower() for n in names if 2 <= len(n) <= MAX_LEN and all(QCHAR.match(ch) for ch in n.lower())}
    keep = {n for n in names if n not in fillers and (any(f in n for f in fillers) or n[0] in start or n[-1] in end)}
    # and those that hold a keep word (不要钱 holds 要钱): the scan must meet the longer one first
    keep |= {n for n in names if n not in fillers and any(k in n and k != n for k in keep)}
    return sorted(keep, key=lambda n: (-len(n), n))


def _word_json(word: str, postings: list) -> bytes:
    """`"word":[postings]` as encode() writes it inside a word shard."""
    return (json.dumps(word, ensure_ascii=False) + ":[" + ",".join(map(str, postings)) + "]").encode("utf-8")


def _shard_bytes(items: list) -> bytes:
    """A word shard from [(word, _word_json)] sorted by word: the bytes encode() gives."""
    return b"{" + b",".join(j for _, j in items) + b"}"


def _whole(build: _Build, old_keys: dict | None = None):
    """({file name: content}, {word shard name: bytes}, state) of the whole index."""
    docs, terms, ages, found = build.assemble(build.entries(old_keys))
    thresholds = sorted(set(ages.values()))
    encoded = {w: _word_json(w, p) for w, p in terms.items()}
    # the size of the word lists as one JSON object decides the number of shards
    size = 2 + sum(len(j) for j in encoded.values()) + max(len(encoded) - 1, 0)
    n_shards = max(1, math.ceil(size / TERM_SHARD_BYTES))
    lengths: dict = {}
    for w in terms:
        if not w.startswith("#"):
            lengths[len(w)] = lengths.get(len(w), 0) + 1
    files = {"meta.json": build.meta(n_shards, len(docs), max(lengths, default=1), thresholds)}
    shards = [{} for _ in range(n_shards)]
    for word, postings in terms.items():
        shards[shard_of(word, n_shards)][word] = postings
    files.update((f"t{i}.json", shard) for i, shard in enumerate(shards))
    files.update((f"d{k // DOCS_PER_SHARD}.json", docs[k:k + DOCS_PER_SHARD]) for k in range(0, len(docs), DOCS_PER_SHARD))
    files["hints.json"] = build.hints()
    blobs = {f"t{i}.json": _shard_bytes(sorted((w, encoded[w]) for w in shard)) for i, shard in enumerate(shards)}
    state = {"format": STATE_FORMAT, "assembly": build.assembly, "order": build.order, "parts": build.keys,
             "ages": ages, "means": {m: len(p) for m, p in found.items()}, "size": size, "words": len(terms), "lengths": lengths,
             "n_shards": n_shards, "thresholds": thresholds, "docs": len(docs)}
    return files, blobs, state


def build_index(site, words_file: Path = WORDS_FILE, require_words: bool = True) -> dict:
    """{file name: JSON-able content} for site/search/. `require_words`: a document word of the word
    list that no page uses is an error (a typo); off for a catalogue other than the project's own
    (a test's or a benchmark's subset of counties need not use every word)."""
    return _whole(_Build(site, words_file, require_words))[0]


def encode(content) -> bytes:
    """A file of the index as written: compact JSON, keys sorted (the same bytes whatever order a
    dict was filled in, e.g. from a set: Python's hash seed), UTF-8."""
    return json.dumps(content, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode("utf-8")


# ---------------------------------------------------------------- writing it, after an edit only what changed

STATE_FORMAT = 1
MOST_CHANGED = 0.05     # above this share of counties changed, the index is assembled whole


def _state_path(build: _Build, out: Path) -> Path | None:
    from site_build import cache as artefacts
    if build.cache.folder is None:
        return None
    return build.cache.folder / f"index-{artefacts.digest(str(out.resolve()))[:16]}.pickle"


def _update(build: _Build, state: dict, out: Path, stats: dict):
    """{file name: bytes} of the index files an edit changed, and the new state; None when the
    index must be assembled whole: the documents are not the same pages in the same order (a
    service added, removed or renamed …), too many counties changed, an earlier part is gone, the
    files in `out` are not those the state records, or the edit changes the number of word shards
    or the age thresholds. Each document's words are then those of the last build but for the
    documents of the counties that changed (their old and new parts), whose postings are put right
    in the word shards they are in (read back from `out`)."""
    if state.get("format") != STATE_FORMAT or state["assembly"] != build.assembly or state["order"] != build.order:
        return None
    changed = [code for code, key in build.keys.items() if state["parts"].get(code) != key]
    if len(changed) > max(3, MOST_CHANGED * len(build.keys)):
        return None
    for name, (size, mtime) in state["files"].items():
        try:
            st = (out / name).stat()
        except OSError:
            return None
        if (st.st_size, st.st_mtime_ns) != (size, mtime):
            return None
    number = {url: n for n, url in enumerate(build.order)}
    ages, means = dict(state["ages"]), dict(state["means"])
    thresholds = state["thresholds"]
    rows, words = {}, {}         # doc number: new row; word: {doc number: (old posting, new posting)}
    for code in changed:
        old = build.parts.get(state["parts"][code])
        if old is None:
            return None
        new = build.part(code, old_key=state["parts"][code], cache=False)
        olds = {e[0]: e for e in old[1]}
        for after in new[1]:
            before = olds.get(after[0])
            if before is None:
                return None
            if before == after:
                continue
            n = number[after[0]]
            if before[1] != after[1]:
                rows[n] = after[1]
            if after[4] is None:
                ages.pop(n, None)
            else:
                ages[n] = after[4]
            for m, _ in before[5]:
                means[m] -= 1
            for m, _ in after[5]:
                means[m] = means.get(m, 0) + 1
            c0, c1 = build.contribution(n, before, thresholds), build.contribution(n, after, thresholds)
            for w in c0.keys() | c1.keys():
                if c0.get(w) != c1.get(w):
                    words.setdefault(w, {})[n] = (c0.get(w), c1.get(w))
    if sorted(set(ages.values())) != thresholds:
        return None
    if build.require_words and any(not means.get(m) for m in build.means):
        return None                 # a means word in no page: assembled whole, which says where
    n_shards, lengths = state["n_shards"], dict(state["lengths"])
    size, count = state["size"] - 2 - max(state["words"] - 1, 0), state["words"]   # size: of the entries alone
    says = {w for e in build.wordlist["words"] for w in e["say"]}
    by_shard: dict = {}
    for w in words:
        by_shard.setdefault(shard_of(w, n_shards), []).append(w)
    blobs = {}
    for i, ws in sorted(by_shard.items()):
        name = f"t{i}.json"
        shard = json.loads((out / name).read_bytes())
        for w in ws:
            postings = shard.get(w)
            if postings is None:
                postings = []
                count += 1
                if not w.startswith("#"):
                    lengths[len(w)] = lengths.get(len(w), 0) + 1
            else:
                size -= len(_word_json(w, postings))
            for n, (p0, p1) in words[w].items():
                if p0 is not None:
                    k = bisect.bisect_left(postings, p0)
                    if k == len(postings) or postings[k] != p0:
                        return None
                    del postings[k]
                if p1 is not None:
                    bisect.insort(postings, p1)
            if postings or w in says:
                shard[w] = postings
                size += len(_word_json(w, postings))
            else:
                shard.pop(w, None)
                count -= 1
                if not w.startswith("#"):
                    lengths[len(w)] -= 1
                    if not lengths[len(w)]:
                        del lengths[len(w)]
        blobs[name] = _shard_bytes(sorted((w, _word_json(w, p)) for w, p in shard.items()))
    size += 2 + max(count - 1, 0)
    if max(1, math.ceil(size / TERM_SHARD_BYTES)) != n_shards:
        return None
    for k in sorted({n // DOCS_PER_SHARD for n in rows}):
        name = f"d{k}.json"
        docs = json.loads((out / name).read_bytes())
        for n in rows:
            if n // DOCS_PER_SHARD == k:
                docs[n % DOCS_PER_SHARD] = rows[n]
        blobs[name] = encode(docs)
    blobs["meta.json"] = encode(build.meta(n_shards, state["docs"], max(lengths, default=1), thresholds))
    blobs["hints.json"] = encode(build.hints())
    new_state = dict(state, parts=build.keys, ages=ages, means=means, size=size, words=count, lengths=lengths)
    stats.update(changed=len(changed), words=len(words))
    return blobs, new_state


def write_index(site, out: Path, words_file: Path = WORDS_FILE, require_words: bool = True) -> dict:
    """Build the index and write it to `out` (site/search/): a file only when its bytes differ from
    the one there (a file left as it was keeps its modification time: later steps see what changed
    by size and time, site_build/state.py); the index files (INDEX_FILE) this build does not write
    are removed, with their precompressed copies (.br, .gz). The state it leaves (in the search
    cache, for this `out`) lets the next build redo only the counties that changed (_update), to
    the same bytes. Returns counts: files written, kept, removed; parts made; whether it was
    assembled whole."""
    build = _Build(site, words_file, require_words)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path, state, stats = _state_path(build, out), None, {}
    if path is not None:
        try:
            with open(path, "rb") as f:
                state = pickle.load(f)
            path.unlink()             # the files change now: the state holds again only once written
        except Exception:             # noqa: BLE001 — none, or damaged: assembled whole
            state = None
    found = _update(build, state, out, stats) if state else None
    if found is None:
        files, blobs, new_state = _whole(build, state.get("parts") if state else None)
        blobs.update((name, encode(content)) for name, content in files.items() if name not in blobs)
        names, whole = set(blobs), True
    else:
        blobs, new_state = found
        names, whole = set(state["files"]), False
    written = kept = removed = 0
    for name, data in blobs.items():
        target = out / name
        try:
            same = target.stat().st_size == len(data) and target.read_bytes() == data
        except OSError:
            same = False
        if same:
            kept += 1
            continue
        tmp = target.with_name(f".{name}.{os.getpid()}")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        written += 1
    for target in out.iterdir():
        name = target.name
        for suffix in (".br", ".gz"):
            name = name[:-len(suffix)] if name.endswith(suffix) else name
        if INDEX_FILE.fullmatch(name) and name not in names:
            target.unlink()
            removed += 1
    if path is not None:
        files_stat = {}
        for name in names:
            st = (out / name).stat()
            files_stat[name] = (st.st_size, st.st_mtime_ns)
        new_state["files"] = files_stat
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_bytes(pickle.dumps(new_state, protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(tmp, path)
        for other in path.parent.glob("index-*.pickle"):   # of folders no build wrote for a day (tests' …)
            try:
                if other != path and time.time() - other.stat().st_mtime > 24 * 3600:
                    other.unlink()
            except OSError:
                pass
    stats.update(written=written, kept=kept, removed=removed, made=build.made, whole=whole)
    return stats


def load_index(directory) -> dict:
    """Read site/search/ back into {"docs": [...], "terms": {...}} (tests, tools)."""
    directory = Path(directory)
    meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    terms, docs = {}, []
    for i in range(meta["term_shards"]):
        terms.update(json.loads((directory / f"t{i}.json").read_text(encoding="utf-8")))
    for k in range(math.ceil(meta["docs"] / meta["docs_per_shard"])):
        docs += json.loads((directory / f"d{k}.json").read_text(encoding="utf-8"))
    return {"meta": meta, "docs": docs, "terms": terms}


# ---------------------------------------------------------------- the query (search.js does the same)

def cn_number(text: str) -> int:
    """八十五 → 85, 九十 → 90, 一百零二 → 102, 百 → 100, 85 → 85."""
    if text.isdigit():
        return int(text)
    total = cur = 0
    for ch in text:
        if ch == "十":
            total, cur = total + (cur or 1) * 10, 0
        elif ch == "百":
            total, cur = total + (cur or 1) * 100, 0
        else:
            cur = CN_DIGITS[ch]
    return total + cur


def normalize(text: str, meta: dict) -> dict:
    """The query as search.js reads it: {"parts": [text parts to look up], "ages": ["#80"],
    "spoken": whether fillers or an age were taken out, "age": the one age said, for the checker link}. Ages (85岁, 八十五周岁, 九十多岁) become the
    largest threshold at or below them; fillers go, except inside a `keep` word."""
    q = text.strip().lower()[:40]
    q = "".join(chr(ord(ch) - 0xFEE0) if "０" <= ch <= "９" else ch for ch in q)
    ages, spoken, said = [], False, []

    def age(m):
        nonlocal spoken
        spoken = True
        a = cn_number(m.group(1))
        said.append(a)
        below = [t for t in meta.get("ages", []) if t <= a]
        if below and f"#{below[-1]}" not in ages:
            ages.append(f"#{below[-1]}")
        return " "
    q = AGE.sub(age, q)
    keep, fillers = meta.get("keep", []), meta.get("fillers", [])
    start, end = meta.get("start", ""), meta.get("end", "")
    parts, buf, i = [], "", 0

    def flush():
        nonlocal buf, spoken
        b = buf
        while b and b[0] in start:
            b, spoken = b[1:], True
        while b and b[-1] in end:
            b, spoken = b[:-1], True
        if b:
            parts.append(b)
        buf = ""
    while i < len(q):
        k = next((w for w in keep if q.startswith(w, i)), None)
        if k:
            flush()
            parts.append(k)
            i += len(k)
            continue
        f = next((w for w in fillers if q.startswith(w, i)), None)
        if f:
            flush()
            spoken = True
            i += len(f)
        elif QCHAR.match(q[i]):
            buf += q[i]
            i += 1
        else:
            flush()
            i += 1
    flush()
    return {"parts": parts, "ages": ages, "spoken": spoken, "age": said[0] if len(said) == 1 and 0 < said[0] <= 130 else None}


def query(directory, text: str, shown: int = 40, details: bool = False):
    """What search.js does for `text`, in Python (tests, benchmark): returns (result urls in order,
    names of the files fetched), or with details=True a dict that also holds the words, whether the
    results are partial and whether the page offers the checker. Phase 1 looks up every substring of
    two or more characters of each part and the age words; phase 2 only the single characters that
    no longer word covers, so a huge single-character list is fetched only when the query needs it."""
    directory = Path(directory)
    fetched = ["meta.json"]
    meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    n, max_len = meta["term_shards"], min(meta["max_len"], MAX_LEN)
    norm = normalize(text, meta)
    parts = norm["parts"]
    shards: dict = {}

    def look(words):
        for i in sorted({shard_of(w, n) for w in words}):
            if i not in shards:
                shards[i] = json.loads((directory / f"t{i}.json").read_text(encoding="utf-8"))
                fetched.append(f"t{i}.json")
        return {w: shards[shard_of(w, n)][w] for w in words if w in shards[shard_of(w, n)]}

    subs = {p[i:i + k] for p in parts for i in range(len(p)) for k in range(2, max_len + 1) if i + k <= len(p)}
    found = look(subs | set(norm["ages"])) if parts or norm["ages"] else {}
    singles = set()
    for p in parts:
        covered = set()
        for w in split(p, found, max_len):
            start = p.find(w)
            while start >= 0:
                covered.update(range(start, start + len(w)))
                start = p.find(w, start + 1)
        singles |= {p[i] for i in range(len(p)) if i not in covered}
    if not found:   # alone, single characters find nothing (choose()): fetch only the list's own (钱, 瘫)
        singles &= set(meta.get("chars", []))
    if singles:
        found.update(look(singles))
    words, extra = choose(words_of(parts, found, max_len), [a for a in norm["ages"] if a in found], meta.get("chars", []))
    docs, partial = rank(found, words, extra)
    per = meta["docs_per_shard"]
    table = {}
    for k in sorted({d // per for d in docs[:shown]}):
        table[k] = json.loads((directory / f"d{k}.json").read_text(encoding="utf-8"))
        fetched.append(f"d{k}.json")
    urls = [table[d // per][d % per][0] for d in docs[:shown]]
    if not docs:
        fetched.append("hints.json")
    if details:
        return {"urls": urls, "fetched": fetched, "words": words + extra, "partial": partial,
                "checker": bool(docs) and (norm["spoken"] or bool(norm["ages"])), "parts": parts,
                "checker_url": "checker/" + (f"#age={norm['age']}" if norm["age"] else "")}
    return urls, fetched


def words_of(parts, found, max_len) -> list:
    """The query's words: each part split by longest match."""
    words = []
    for p in parts:
        for w in split(p, found, max_len):
            if w not in words:
                words.append(w)
    return words


def choose(words: list, ages: list, chars: list):
    """(words every page must hold, words that only add to the score). A single character is noise
    (留 of 留守 in 老人走失 …) unless it is a word of the list (钱, 瘫): it only adds to the score, and
    alone it finds nothing. An age beside other words only adds to the score too: a service for
    everyone of 60 and over is in no age's list, yet a 70-year-old can have it."""
    required = [w for w in words if len(w) > 1 or w in chars]
    loose = [w for w in words if w not in required]
    if required:
        return required, loose + ages
    return (ages, loose) if ages else ([], [])


def split(q: str, found: dict, max_len: int) -> list:
    """Longest match, left to right, against the words found; unknown characters are skipped."""
    words, i = [], 0
    while i < len(q):
        hit = next((q[i:i + k] for k in range(min(max_len, len(q) - i), 0, -1) if q[i:i + k] in found), None)
        if hit:
            if hit not in words:
                words.append(hit)
            i += len(hit)
        else:
            i += 1
    return words


def rank(found: dict, words: list, extra: list = ()):
    """Pages holding every word, else those holding any; first those holding more of the words, then
    by score (a word in the title or topic counts 5, in the text 1), then in index order (comparison
    pages first). `extra` words (choose()) only add to the score of the pages found.
    Returns (documents, partial)."""
    scores, hits = {}, {}
    for w in words:
        for p in found[w]:
            d = p >> 1
            scores[d] = scores.get(d, 0) + (5 if p & 1 else 1)
            hits[d] = hits.get(d, 0) + 1
    for w in extra:
        for p in found[w]:
            if p >> 1 in scores:
                scores[p >> 1] += 5 if p & 1 else 1
    full = [d for d in scores if hits[d] == len(words)]
    docs = full or list(scores)
    docs.sort(key=lambda d: (-hits[d], -scores[d], d))
    return docs, not full and bool(scores)


def closest_words(text: str, hint_words: list, limit: int = 6) -> list:
    """Hint words sharing the most characters with the query (search.js: closestWords)."""
    q = set(text.lower())
    scored = [(-len(q & set(w)), i, w) for i, w in enumerate(hint_words) if q & set(w)]
    return [w for _, _, w in sorted(scored)[:limit]]


def main(argv=None) -> int:
    """`python -m site_build.search --check`: check catalogue/words.yaml against the catalogue's pages."""
    from site_build import pages
    try:
        files = build_index(pages.Site(loader.load_catalogue()))
    except loader.CatalogueError as err:
        print(f"词表有错误 / the word list has errors:\n{err}", file=sys.stderr)
        return 2
    meta = files["meta.json"]
    print(f"words.yaml: OK; {meta['docs']} pages, {meta['term_shards']} word shards, age thresholds {meta['ages']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
