"""The site's own Chinese search index, segmented with jieba at build time.

Written to site/search/index.json and fetched only by the /search/ page when the reader searches
(assets/search.js), never by other pages. Format (version 1):

    {"v": 1,
     "docs":  [[url, title, where, summary], ...],
     "terms": {"高龄津贴": [posting, ...], ...}}

A posting is `doc_number * 2 + 1` when the word is in the page's title, `doc_number * 2` when it is
only in the text. The browser splits a query by longest match against the words in `terms`.
"""
from __future__ import annotations

import logging
import re

import jieba

jieba.setLogLevel(logging.WARNING)

STOP = set("的 了 和 与 及 或 在 是 为 等 由 对 按 向 从 把 被 并 其 可 以 之 也 都 有 无 不".split())
WORD = re.compile(r"[\w\u4e00-\u9fff]")
_ready = False


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
    """(url, title, where, summary, title text, body text) for every page worth finding."""
    for c in site.counties:
        where = f"{c['name']} · {c['province']}{c['prefecture']}"
        yield (c["url"], f"{c['name']}的养老服务", f"{c['province']}{c['prefecture']}",
               f"共{len(c['services'])}项服务", f"{c['name']} {c['prefecture']}",
               " ".join(s["name"] for s in c["services"]))
        for s in c["services"]:
            topic = site.topics[s["topic"]]["name"] if s.get("topic") else ""
            amount = s.get("amount") or {}
            body = [s["summary"], s["target"], s.get("what", ""), amount.get("text", ""), s["where"],
                    s.get("away", ""), s["wording"], " ".join(s.get("also") or []),
                    " ".join(site.groups[g]["name"] for g in s["groups"]),
                    " ".join(s.get("departments") or []),
                    " ".join(r[1] for r in site.amount_rows(amount)),
                    " ".join(x["text"] for x in site.conditions(s))]
            yield (s["url"], s["name"], where, s["summary"], f"{s['name']} {topic} {c['name']}", " ".join(body))
    for t in site.topic_order:
        name = site.topics[t]["name"]
        yield (f"compare/{t}/", f"{name}：各县对比", "各县对比", "各县的规定放在一张表里比较",
               name, " ".join(s["name"] for _, s in site.by_topic[t]))
    for word, entry in site.glossary.items():
        yield (f"glossary/#{word}", word, "名词解释", entry["text"], f"{word} {entry.get('full', '')}", entry["text"])


def build_index(site) -> dict:
    if not _ready:
        _prepare(site)
    docs, terms = [], {}
    for n, (url, title, where, summary, title_text, body_text) in enumerate(documents(site)):
        docs.append([url, title, where, summary])
        in_title = tokens(title_text)
        for tok in in_title | tokens(body_text):
            terms.setdefault(tok, []).append(n * 2 + (1 if tok in in_title else 0))
    return {"v": 1, "docs": docs, "terms": terms}
