/* 养老服务明白卡: search, loaded only by the /search/ page. Nothing is fetched until the reader
   searches; then only meta.json, the few word shards the query's substrings hash to, and the
   document shards of the results shown (files written by site_build/search.py). The query is split
   by longest match against the index's own (jieba) words. Nothing leaves the phone. */
(function () {
  "use strict";
  var form = document.querySelector(".mb-search");
  var input = document.getElementById("mb-q");
  var out = document.getElementById("mb-results");
  if (!form || !input || !out) return;
  var base = form.getAttribute("action") || "./";
  var metaPromise = null, files = {};

  function getJSON(name) {
    if (!files[name]) {
      files[name] = fetch(base + name).then(function (r) {
        if (!r.ok) throw new Error(name + " " + r.status);
        return r.json();
      });
    }
    return files[name];
  }
  function meta() { return metaPromise || (metaPromise = getJSON("meta.json")); }

  // The same hash as term_hash() in site_build/search.py: 31-multiplier over UTF-16 units, mod 2^32.
  function termHash(word) {
    var h = 0;
    for (var i = 0; i < word.length; i++) h = (Math.imul(h, 31) + word.charCodeAt(i)) >>> 0;
    return h;
  }

  // Phase 1: every substring of two or more characters; phase 2: only the single characters no
  // longer word covers (a single character's list can be huge). Mirrors query() in search.py.
  function lookup(m, query) {
    var q = query.toLowerCase().slice(0, 40), maxLen = Math.min(m.max_len, 12), found = {};
    function subs(lo) {
      var out = {};
      for (var i = 0; i < q.length; i++) {
        for (var n = lo; n <= maxLen && i + n <= q.length; n++) {
          var w = q.substr(i, n);
          if (/\s/.test(w)) break;
          out[w] = true;
        }
      }
      return Object.keys(out);
    }
    function look(words) {
      var shards = {};
      words.forEach(function (w) { shards[termHash(w) % m.term_shards] = true; });
      return Promise.all(Object.keys(shards).map(function (s) { return getJSON("t" + s + ".json"); }))
        .then(function () {
          return Promise.all(words.map(function (w) {
            return getJSON("t" + (termHash(w) % m.term_shards) + ".json").then(function (shard) {
              if (Object.prototype.hasOwnProperty.call(shard, w)) found[w] = shard[w];
            });
          }));
        });
    }
    return look(subs(2)).then(function () {
      var covered = {}, singles = {};
      split(q, found, maxLen).forEach(function (w) {
        for (var s = q.indexOf(w); s >= 0; s = q.indexOf(w, s + 1)) {
          for (var k = s; k < s + w.length; k++) covered[k] = true;
        }
      });
      for (var i = 0; i < q.length; i++) if (!covered[i] && !/\s/.test(q[i])) singles[q[i]] = true;
      return look(Object.keys(singles));
    }).then(function () { return { q: q, found: found, maxLen: maxLen }; });
  }

  function split(q, found, maxLen) {
    var words = [], i = 0;
    while (i < q.length) {
      var hit = null;
      for (var n = Math.min(maxLen, q.length - i); n >= 1; n--) {
        var w = q.substr(i, n);
        if (Object.prototype.hasOwnProperty.call(found, w)) { hit = w; break; }
      }
      if (hit) { if (words.indexOf(hit) < 0) words.push(hit); i += hit.length; } else { i += 1; }
    }
    return words;
  }

  function rank(found, words) {
    var scores = {}, hits = {};
    words.forEach(function (w) {
      found[w].forEach(function (p) {
        var doc = p >> 1;
        scores[doc] = (scores[doc] || 0) + (p & 1 ? 5 : 1);
        hits[doc] = (hits[doc] || 0) + 1;
      });
    });
    var all = Object.keys(scores).map(Number);
    var full = all.filter(function (d) { return hits[d] === words.length; });
    var docs = full.length ? full : all;
    docs.sort(function (a, b) { return scores[b] - scores[a] || a - b; });
    return { partial: !full.length && all.length > 0, docs: docs };
  }

  function docsFor(m, ids) {
    var shards = {};
    ids.forEach(function (d) { shards[Math.floor(d / m.docs_per_shard)] = true; });
    return Promise.all(Object.keys(shards).map(function (k) { return getJSON("d" + k + ".json"); }))
      .then(function () {
        return Promise.all(ids.map(function (d) {
          return getJSON("d" + Math.floor(d / m.docs_per_shard) + ".json").then(function (s) { return s[d % m.docs_per_shard]; });
        }));
      });
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function show(m, result, query) {
    var shown = 0, busy = false;
    out.textContent = "";
    var head = el("p", "mb-lead");
    if (!result.docs.length) {
      head.textContent = "没有找到“" + query + "”。换个说法试试，例如：高龄津贴、低保、体检、助餐。";
      out.appendChild(head);
      out.dataset.state = "done";
      return Promise.resolve();
    }
    head.textContent = (result.partial ? "没有完全符合的，下面是部分符合的" : "找到") + " " + result.docs.length + " 项：";
    out.appendChild(head);
    var list = el("ol");
    out.appendChild(list);
    function more() {
      if (busy) return Promise.resolve();
      busy = true;
      out.dataset.state = "busy";
      var ids = result.docs.slice(shown, shown + 40);
      return docsFor(m, ids).then(function (docs) {
        busy = false;
        docs.forEach(function (doc) {
          var li = el("li"), a = el("a", "mb-card");
          a.href = base + "../" + doc[0];
          a.appendChild(el("span", "mb-card__name", doc[1]));
          a.appendChild(el("span", "mb-results__where", doc[2]));
          a.appendChild(el("span", "mb-results__summary", doc[3]));
          li.appendChild(a);
          list.appendChild(li);
        });
        shown += ids.length;
        var old = out.querySelector(".mb-more");
        if (old) old.remove();
        if (shown < result.docs.length) {
          var b = el("button", "mb-button mb-more", "再显示 " + Math.min(40, result.docs.length - shown) + " 项");
          b.type = "button";
          b.addEventListener("click", more);
          out.appendChild(b);
        }
        out.dataset.state = "done";
      });
    }
    return more();
  }

  function run(query) {
    query = (query || "").trim();
    if (!query) return;
    out.dataset.state = "busy";
    out.textContent = "正在查找……";
    meta().then(function (m) {
      return lookup(m, query).then(function (l) {
        return show(m, rank(l.found, split(l.q, l.found, l.maxLen)), query);
      });
    }).catch(function () {
      out.textContent = "搜索索引没有加载成功，请检查网络后再试。";
      out.dataset.state = "error";
    });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = input.value;
    try { history.replaceState(null, "", "?q=" + encodeURIComponent(q.trim())); } catch (e) { /* file:// */ }
    run(q);
  });
  var q = new URLSearchParams(location.search).get("q");
  if (q) { input.value = q; run(q); }
})();
