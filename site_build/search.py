"""The site's own Chinese search index, segmented with jieba at build time, split into small files.

Written to site/search/ and fetched only by the /search/ page when the reader searches
(assets/search.js), never by other pages. A search downloads only the shards its words hash to,
so its cost stays the same as the catalogue grows to every county. Files (version 2):

    meta.json   {"v": 2, "term_shards": N, "docs_per_shard": D, "docs": total, "max_len": longest word}
    t<i>.json   {"高龄津贴": [posting, ...], ...}  — the words whose term_hash(word) % N == i
    d<k>.json   [[url, title, where, summary], ...] — documents k*D … k*D+D-1

A posting is `doc_number * 2 + 1` when the word is in the page's title, `doc_number * 2` when it is
only in the text. The browser takes every substring of the query (up to max_len), fetches the
shards they hash to, and splits the query by longest match against the words found.
"""
from __future__ import annotations

import json
import logging
import math
import re
from pathlib import Path

import jieba

jieba.setLogLevel(logging.WARNING)

STOP = set("的 了 和 与 及 或 在 是 为 等 由 对 按 向 从 把 被 并 其 可 以 之 也 都 有 无 不".split())
WORD = re.compile(r"[\w\u4e00-\u9fff]")
DOCS_PER_SHARD = 200
TERM_SHARD_BYTES = 8_000    # a word shard's target size before compression
MAX_LEN = 12                # longest query substring looked up (search.js: the same)
_ready = False


def term_hash(word: str) -> int:
    """31-multiplier hash over UTF-16 code units, mod 2^32: the same as termHash() in search.js."""
    h = 0
    units = word.encode("utf-16-le")
    for i in range(0, len(units), 2):
        h = (h * 31 + (units[i] | units[i + 1] << 8)) & 0xFFFFFFFF
    return h


def _prepare(site):
    """Teach jieba the catalogue's own words (glossary, topic and service names) once."""
    global _ready
    words = set(site.glossary) | {t["name"] for t in site.topics.values()}
    words |= {s["name"] for s in site.services.values() if len(s["name"]) <= 8}
    words |= {"一键报警", "低保", "低边", "特困", "高龄津贴", "人户分离"}
    for w in words:
        jieba.add_word(w, freq=20000)
    _ready = True


def tokens(text: str) -> set:
    out = set()
    for tok in jieba.cut_for_search(text or ""):
        tok = tok.strip().lower()
        if tok and tok not in STOP and WORD.search(tok):
            out.add(tok)
    return out


def documents(site):
    """(url, title, where, summary, title text, body text) for every page worth finding.

    Order matters for the document shards: comparisons, glossary and county pages first, then the
    services grouped by topic (then by name), so that one kind of service in every county — what
    most searches ask for — sits in neighbouring documents and a few shards."""
    for t in site.topic_order:
        name = site.topics[t]["name"]
        yield (f"compare/{t}/", f"{name}：各县对比", "各县对比", "各县的规定放在一张表里比较",
               name, " ".join(s["name"] for _, s in site.by_topic[t]))
    for word, entry in site.glossary.items():
        yield (f"glossary/#{word}", word, "名词解释", entry["text"], f"{word} {entry.get('full', '')}", entry["text"])
    for c in site.counties:
        yield (c["url"], f"{c['name']}的养老服务", f"{c['province']}{c['prefecture']}",
               f"共{len(c['services'])}项服务", f"{c['name']} {c['prefecture']}",
               " ".join(s["name"] for s in c["services"]))
    topic_rank = {t: i for i, t in enumerate(site.topics)}
    services = sorted(((c, s) for c in site.counties for s in c["services"]),
                      key=lambda cs: (topic_rank.get(cs[1].get("topic"), len(topic_rank)), cs[1]["name"], cs[0]["code"]))
    for c, s in services:
        topic = site.topics[s["topic"]]["name"] if s.get("topic") else ""
        amount = s.get("amount") or {}
        body = [s["summary"], s["target"], s.get("what", ""), amount.get("text", ""), s["where"],
                s.get("away", ""), s["wording"], " ".join(s.get("also") or []),
                " ".join(site.groups[g]["name"] for g in s["groups"]),
                " ".join(s.get("departments") or []),
                " ".join(r[1] for r in site.amount_rows(amount)),
                " ".join(x["text"] for x in site.conditions(s))]
        where = f"{c['name']} · {c['province']}{c['prefecture']}"
        yield (s["url"], s["name"], where, s["summary"], f"{s['name']} {topic} {c['name']}", " ".join(body))


def build_index(site) -> dict:
    """{file name: JSON-able content} for site/search/."""
    if not _ready:
        _prepare(site)
    docs, terms = [], {}
    for n, (url, title, where, summary, title_text, body_text) in enumerate(documents(site)):
        docs.append([url, title, where, summary])
        in_title = tokens(title_text)
        for tok in in_title | tokens(body_text):
            terms.setdefault(tok, []).append(n * 2 + (1 if tok in in_title else 0))
    size = len(json.dumps(terms, ensure_ascii=False, separators=(",", ":")).encode())
    n_shards = max(1, math.ceil(size / TERM_SHARD_BYTES))
    shards = [{} for _ in range(n_shards)]
    for word, postings in terms.items():
        shards[term_hash(word) % n_shards][word] = postings
    files = {"meta.json": {"v": 2, "term_shards": n_shards, "docs_per_shard": DOCS_PER_SHARD, "docs": len(docs),
                           "max_len": max((len(w) for w in terms), default=1)}}
    files.update((f"t{i}.json", shard) for i, shard in enumerate(shards))
    files.update((f"d{k // DOCS_PER_SHARD}.json", docs[k:k + DOCS_PER_SHARD]) for k in range(0, len(docs), DOCS_PER_SHARD))
    return files


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


def query(directory, text: str, shown: int = 40):
    """What search.js does for `text`, in Python (tests, benchmark): returns (result urls in order,
    names of the files fetched). Phase 1 looks up every substring of two or more characters; phase 2
    only the single characters that no longer word covers, so a huge single-character posting list
    is fetched only when the query needs it."""
    directory = Path(directory)
    fetched = ["meta.json"]
    meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    q, n, max_len = text.strip().lower()[:40], meta["term_shards"], min(meta["max_len"], MAX_LEN)
    shards: dict = {}

    def look(words):
        for i in sorted({term_hash(w) % n for w in words}):
            if i not in shards:
                shards[i] = json.loads((directory / f"t{i}.json").read_text(encoding="utf-8"))
                fetched.append(f"t{i}.json")
        return {w: shards[term_hash(w) % n][w] for w in words if w in shards[term_hash(w) % n]}

    def subs(lo, hi):
        return {q[i:i + k] for i in range(len(q)) for k in range(lo, hi + 1)
                if i + k <= len(q) and not any(ch.isspace() for ch in q[i:i + k])}

    found = look(subs(2, max_len))
    covered = set()
    for w in split(q, found, max_len):
        start = q.find(w)
        while start >= 0:
            covered.update(range(start, start + len(w)))
            start = q.find(w, start + 1)
    found.update(look({q[i] for i in range(len(q)) if i not in covered and not q[i].isspace()}))
    docs, _ = rank(found, split(q, found, max_len))
    per = meta["docs_per_shard"]
    table = {}
    for k in sorted({d // per for d in docs[:shown]}):
        table[k] = json.loads((directory / f"d{k}.json").read_text(encoding="utf-8"))
        fetched.append(f"d{k}.json")
    return [table[d // per][d % per][0] for d in docs[:shown]], fetched


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


def rank(found: dict, words: list):
    """Documents holding every word (title hits count 5, text hits 1); if none, those holding any."""
    scores, hits = {}, {}
    for w in words:
        for p in found[w]:
            d = p >> 1
            scores[d] = scores.get(d, 0) + (5 if p & 1 else 1)
            hits[d] = hits.get(d, 0) + 1
    full = [d for d in scores if hits[d] == len(words)]
    docs = full or list(scores)
    docs.sort(key=lambda d: (-scores[d], d))
    return docs, not full and bool(scores)
