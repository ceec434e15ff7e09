/* 养老服务明白卡: search, loaded only by the /search/ page. Nothing is fetched until the reader
   searches; then only meta.json, the few word shards the query's substrings hash to, and the
   document shards of the results shown (files written by site_build/search.py). The query is first
   normalized (ages such as 85岁 / 八十五周岁 / 九十多岁 become the services' age thresholds, the
   fillers of a spoken question go: normalize() in search.py does the same), then split by longest
   match against the index's own words. Nothing leaves the phone. */
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
  // A word's shard is chosen by its first two characters (shard_of() in search.py).
  function shardOf(word, n) { return termHash(word.slice(0, 2)) % n; }

  var QCHAR = /[0-9a-z\u4e00-\u9fff]/;
  var AGE = /([0-9]{1,3}|[零〇一二两三四五六七八九十百]{1,5})(多)?(周岁|岁)/g;
  var CN = { "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9 };
  function cnNumber(t) {
    if (/^[0-9]+$/.test(t)) return parseInt(t, 10);
    var total = 0, cur = 0;
    for (var i = 0; i < t.length; i++) {
      var ch = t[i];
      if (ch === "十") { total += (cur || 1) * 10; cur = 0; }
      else if (ch === "百") { total += (cur || 1) * 100; cur = 0; }
      else cur = CN[ch];
    }
    return total + cur;
  }
  function startsAt(q, i, list) {
    for (var k = 0; k < list.length; k++) if (q.substr(i, list[k].length) === list[k]) return list[k];
    return null;
  }
  // The same as normalize() in search.py: {parts, ages, spoken}.
  function normalize(text, m) {
    var q = text.trim().toLowerCase().slice(0, 40).replace(/[０-９]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) - 0xFEE0);
    });
    var ages = [], spoken = false, thresholds = m.ages || [], said = [];
    q = q.replace(AGE, function (all, num) {
      spoken = true;
      var a = cnNumber(num), best = null;
      said.push(a);
      thresholds.forEach(function (t) { if (t <= a) best = t; });
      if (best !== null && ages.indexOf("#" + best) < 0) ages.push("#" + best);
      return " ";
    });
    var keep = m.keep || [], fillers = m.fillers || [], start = m.start || "", end = m.end || "";
    var parts = [], buf = "", i = 0;
    function flush() {
      var b = buf;
      while (b && start.indexOf(b[0]) >= 0) { b = b.slice(1); spoken = true; }
      while (b && end.indexOf(b[b.length - 1]) >= 0) { b = b.slice(0, -1); spoken = true; }
      if (b) parts.push(b);
      buf = "";
    }
    while (i < q.length) {
      var k = startsAt(q, i, keep);
      if (k) { flush(); parts.push(k); i += k.length; continue; }
      var f = startsAt(q, i, fillers);
      if (f) { flush(); spoken = true; i += f.length; }
      else if (QCHAR.test(q[i])) { buf += q[i]; i += 1; }
      else { flush(); i += 1; }
    }
    flush();
    var age = said.length === 1 && said[0] > 0 && said[0] <= 130 ? said[0] : null;
    return { parts: parts, ages: ages, spoken: spoken, age: age };
  }

  // Phase 1: every substring of two or more characters of each part, and the age words; phase 2:
  // only the single characters no longer word covers (a single character's list can be huge).
  // Mirrors query() in search.py.
  function lookup(m, query) {
    var norm = normalize(query, m), maxLen = Math.min(m.max_len, 12), found = {};
    var subs = {};
    norm.parts.forEach(function (p) {
      for (var i = 0; i < p.length; i++) {
        for (var n = 2; n <= maxLen && i + n <= p.length; n++) subs[p.substr(i, n)] = true;
      }
    });
    norm.ages.forEach(function (a) { subs[a] = true; });
    function look(words) {
      var shards = {};
      words.forEach(function (w) { shards[shardOf(w, m.term_shards)] = true; });
      return Promise.all(Object.keys(shards).map(function (s) { return getJSON("t" + s + ".json"); }))
        .then(function () {
          return Promise.all(words.map(function (w) {
            return getJSON("t" + shardOf(w, m.term_shards) + ".json").then(function (shard) {
              if (Object.prototype.hasOwnProperty.call(shard, w)) found[w] = shard[w];
            });
          }));
        });
    }
    return look(Object.keys(subs)).then(function () {
      var singles = {};
      norm.parts.forEach(function (p) {
        var covered = {};
        split(p, found, maxLen).forEach(function (w) {
          for (var s = p.indexOf(w); s >= 0; s = p.indexOf(w, s + 1)) {
            for (var k = s; k < s + w.length; k++) covered[k] = true;
          }
        });
        for (var i = 0; i < p.length; i++) if (!covered[i]) singles[p[i]] = true;
      });
      var list = Object.keys(singles);
      // alone, single characters find nothing (choose() in search.py): fetch only the list's own (钱, 瘫)
      if (!Object.keys(found).length) list = list.filter(function (c) { return (m.chars || []).indexOf(c) >= 0; });
      return look(list);
    }).then(function () {
      var words = [];
      norm.parts.forEach(function (p) {
        split(p, found, maxLen).forEach(function (w) { if (words.indexOf(w) < 0) words.push(w); });
      });
      var ages = norm.ages.filter(function (a) { return Object.prototype.hasOwnProperty.call(found, a); });
      // choose() in search.py: a single character only adds to the score unless it is a word of the
      // list (钱, 瘫), and alone finds nothing; an age beside other words only adds to the score.
      var chars = m.chars || [];
      var required = words.filter(function (w) { return w.length > 1 || chars.indexOf(w) >= 0; });
      var loose = words.filter(function (w) { return required.indexOf(w) < 0; });
      var r = required.length ? [required, loose.concat(ages)] : ages.length ? [ages, loose] : [[], []];
      return { norm: norm, found: found, words: r[0], extra: r[1] };
    });
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

  // Pages holding every word, else those holding any; more of the words first, then the score (a
  // word in the title or topic counts 5, in the text 1), then index order (comparison pages first).
  // `extra` words (an age beside other words) only add to the score of the pages found.
  function rank(found, words, extra) {
    var scores = {}, hits = {};
    words.forEach(function (w) {
      found[w].forEach(function (p) {
        var doc = p >> 1;
        scores[doc] = (scores[doc] || 0) + (p & 1 ? 5 : 1);
        hits[doc] = (hits[doc] || 0) + 1;
      });
    });
    extra.forEach(function (w) {
      found[w].forEach(function (p) {
        var doc = p >> 1;
        if (scores[doc] !== undefined) scores[doc] += (p & 1 ? 5 : 1);
      });
    });
    var all = Object.keys(scores).map(Number);
    var full = all.filter(function (d) { return hits[d] === words.length; });
    var docs = full.length ? full : all;
    docs.sort(function (a, b) { return hits[b] - hits[a] || scores[b] - scores[a] || a - b; });
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

  // Hint words sharing the most characters with the query (closest_words() in search.py).
  function closestWords(query, words, limit) {
    var q = {};
    query.toLowerCase().split("").forEach(function (c) { q[c] = true; });
    var scored = [];
    words.forEach(function (w, i) {
      var seen = {}, n = 0;
      w.split("").forEach(function (c) { if (q[c] && !seen[c]) { seen[c] = true; n++; } });
      if (n) scored.push([n, i, w]);
    });
    scored.sort(function (a, b) { return b[0] - a[0] || a[1] - b[1]; });
    return scored.slice(0, limit).map(function (x) { return x[2]; });
  }

  // The one age said goes to the checker's form (its share-link fragment: #age=85).
  function checkerOffer(text, age) {
    var box = el("p", "mb-search__checker");
    box.appendChild(document.createTextNode(text + " "));
    var a = el("a", "mb-button", age ? "资格自测：" + age + "岁，再填户籍等，看能享受什么" : "资格自测：填年龄、户籍，看能享受什么");
    a.href = base + "../checker/" + (age ? "#age=" + age : "");
    box.appendChild(a);
    return box;
  }

  // Nothing found: never a bare "没有结果" — the closest words, the counties, the checker.
  function showEmpty(query) {
    var head = el("p", "mb-lead", "没有找到“" + query + "”。");
    out.appendChild(head);
    return getJSON("hints.json").then(function (h) {
      var words = closestWords(query, h.words, 6);
      if (words.length < 6) {
        h.words.forEach(function (w) { if (words.length < 6 && words.indexOf(w) < 0) words.push(w); });
      }
      var p = el("p", "mb-search__hints", "换个说法试试：");
      words.forEach(function (w, i) {
        var a = el("a", null, w);
        a.href = "?q=" + encodeURIComponent(w);
        if (i) p.appendChild(document.createTextNode("、"));
        p.appendChild(a);
      });
      out.appendChild(p);
      out.appendChild(el("p", null, "或者按县一项一项看："));
      var list = el("ul", "mb-search__counties");
      h.counties.forEach(function (c) {
        var li = el("li"), a = el("a", null, c[0]);
        a.href = base + "../" + c[1];
        li.appendChild(a);
        li.appendChild(document.createTextNode(" " + c[2]));
        list.appendChild(li);
      });
      out.appendChild(list);
      out.appendChild(checkerOffer("想知道自己能享受哪些服务？"));
    }).catch(function () {
      out.appendChild(checkerOffer("换个说法再试试，或者用"));
    }).then(function () { out.dataset.state = "done"; });
  }

  function show(m, result, query, norm) {
    var shown = 0, busy = false;
    out.textContent = "";
    if (!result.docs.length) return showEmpty(query);
    var head = el("p", "mb-lead");
    head.textContent = (result.partial ? "没有完全符合的，下面是部分符合的" : "找到") + " " + result.docs.length + " 项：";
    out.appendChild(head);
    if (norm.spoken || norm.ages.length) {
      out.appendChild(checkerOffer("每项服务还有户籍、家庭经济等条件。", norm.age));
    }
    var list = el("ol", "mb-results__list");
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
        return show(m, rank(l.found, l.words, l.extra), query, l.norm);
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
