/* 养老服务明白卡: search, loaded only by the /search/ page. The index (search/index.json, built with
   jieba by site_build/search.py) is fetched once, when the reader starts a search; the query is
   split by longest match against the index's own words. Nothing leaves the phone. */
(function () {
  "use strict";
  var form = document.querySelector(".mb-search");
  var input = document.getElementById("mb-q");
  var out = document.getElementById("mb-results");
  if (!form || !input || !out) return;
  var base = form.getAttribute("action") || "./";
  var indexPromise = null, maxLen = 1;

  function load() {
    if (!indexPromise) {
      indexPromise = fetch(base + "index.json").then(function (r) {
        if (!r.ok) throw new Error(r.status);
        return r.json();
      }).then(function (index) {
        for (var w in index.terms) if (w.length > maxLen) maxLen = w.length;
        return index;
      });
    }
    return indexPromise;
  }

  function split(query, terms) {
    var words = [], i = 0, q = query.toLowerCase();
    while (i < q.length) {
      var found = null;
      for (var n = Math.min(maxLen, q.length - i); n >= 1; n--) {
        var w = q.substr(i, n);
        if (Object.prototype.hasOwnProperty.call(terms, w)) { found = w; break; }
      }
      if (found) { if (words.indexOf(found) < 0) words.push(found); i += found.length; } else { i += 1; }
    }
    return words;
  }

  function search(index, query) {
    var words = split(query, index.terms), scores = {}, hits = {};
    words.forEach(function (w) {
      index.terms[w].forEach(function (p) {
        var doc = p >> 1;
        scores[doc] = (scores[doc] || 0) + (p & 1 ? 5 : 1);
        hits[doc] = (hits[doc] || 0) + 1;
      });
    });
    var all = Object.keys(scores).map(Number);
    var full = all.filter(function (d) { return hits[d] === words.length; });
    var docs = full.length ? full : all;
    docs.sort(function (a, b) { return scores[b] - scores[a] || a - b; });
    return { words: words, partial: !full.length && all.length > 0, docs: docs };
  }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function show(index, query) {
    var result = search(index, query), shown = 0;
    out.textContent = "";
    var head = el("p", "mb-lead");
    if (!result.docs.length) {
      head.textContent = "没有找到“" + query + "”。换个说法试试，例如：高龄津贴、低保、体检、助餐。";
      out.appendChild(head);
      return;
    }
    head.textContent = (result.partial ? "没有完全符合的，下面是部分符合的" : "找到") + " " + result.docs.length + " 项：";
    out.appendChild(head);
    var list = el("ol");
    out.appendChild(list);
    function more() {
      result.docs.slice(shown, shown + 40).forEach(function (d) {
        var doc = index.docs[d], li = el("li"), a = el("a", "mb-card");
        a.href = base + "../" + doc[0];
        var headLine = el("span", "mb-card__name", doc[1]);
        a.appendChild(headLine);
        a.appendChild(el("span", "mb-results__where", doc[2]));
        a.appendChild(el("span", "mb-results__summary", doc[3]));
        li.appendChild(a);
        list.appendChild(li);
      });
      shown = Math.min(shown + 40, result.docs.length);
      var old = out.querySelector(".mb-more");
      if (old) old.remove();
      if (shown < result.docs.length) {
        var b = el("button", "mb-button mb-more", "再显示 " + Math.min(40, result.docs.length - shown) + " 项");
        b.type = "button";
        b.addEventListener("click", more);
        out.appendChild(b);
      }
    }
    more();
  }

  function run(query) {
    query = (query || "").trim();
    if (!query) return;
    out.textContent = "正在查找……";
    load().then(function (index) { show(index, query); }, function () {
      out.textContent = "搜索索引没有加载成功，请检查网络后再试。";
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
