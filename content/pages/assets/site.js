/* 养老服务明白卡: the header's switches. 大字: the choice is kept in localStorage ("mb-dazi") and
   applied before the page paints by a one-line script in the page head (content/overrides/main.html).
   朗读: reads the page's own text (its article, without the breadcrumbs) aloud with the browser's speech
   synthesis in zh-CN; a second press stops. Only a voice on this device is used (a voice the browser
   marks as not local would send the text to a server), so it works offline where the phone has a
   Chinese voice; nothing is stored or sent. 目录: the drawer's label becomes a keyboard button. */
(function () {
  var root = document.documentElement;
  var button = document.querySelector(".mb-dazi-button");
  if (!button) return;
  function show() { button.setAttribute("aria-pressed", root.classList.contains("mb-dazi") ? "true" : "false"); }
  button.hidden = false;
  show();
  button.addEventListener("click", function () {
    var on = root.classList.toggle("mb-dazi");
    try { localStorage.setItem("mb-dazi", on ? "1" : "0"); } catch (e) { /* private mode: this page only */ }
    show();
  });
})();

(function () {
  var button = document.querySelector(".mb-read-button");
  var synth = window.speechSynthesis;
  if (!button || !synth || typeof window.SpeechSynthesisUtterance !== "function") return;   // stays hidden
  var SKIP = ".mb-crumbs, .mb-print-foot, script, style, noscript, [hidden], [aria-hidden='true']";
  var reading = false;

  function chineseVoice() {
    // undefined: the browser lists no voices (some phones don't, and speak with the system's own);
    // null: it lists voices but none is a Chinese voice on this device.
    var voices = synth.getVoices ? synth.getVoices() : [];
    if (!voices.length) return undefined;
    var local = voices.filter(function (v) { return v.localService !== false && /^zh/i.test(v.lang); });
    return local.filter(function (v) { return /CN|Hans/i.test(v.lang); })[0] || local[0] || null;
  }
  function available() {
    var none = chineseVoice() === null;
    button.disabled = none;
    button.title = none ? "这部手机（浏览器）没有中文朗读语音" : "读出这一页的正文，再按一次停止";
  }
  function show(on) {
    reading = on;
    button.setAttribute("aria-pressed", on ? "true" : "false");
  }
  function lines() {
    // the text a reader sees, block by block: innerText leaves out what is not shown
    var main = document.querySelector("#mb-main article") || document.querySelector("main") || document.body;
    var out = [];
    Array.prototype.forEach.call(main.children, function (el) {
      if (el.matches(SKIP) || !el.getClientRects().length) return;
      el.innerText.split(/\n+/).forEach(function (line) {
        line = line.replace(/\s+/g, " ").trim();
        if (line) out.push(line);
      });
    });
    return out;
  }
  function stop() {
    synth.cancel();
    show(false);
  }
  function read() {
    var voice = chineseVoice();
    if (voice === null) { available(); return; }
    synth.cancel();
    var all = lines();
    show(true);
    // one utterance a line: a pause between blocks, and no single long utterance (Chrome cuts those off)
    all.forEach(function (text, i) {
      var u = new SpeechSynthesisUtterance(text);
      u.lang = "zh-CN";
      if (voice) u.voice = voice;
      u.rate = 0.9;
      if (i === all.length - 1) u.onend = function () { show(false); };
      u.onerror = function () { if (reading) show(false); };
      synth.speak(u);
    });
    if (!all.length) show(false);
  }

  button.hidden = false;
  show(false);
  available();
  if (synth.addEventListener) synth.addEventListener("voiceschanged", available);
  button.addEventListener("click", function () { if (reading) stop(); else read(); });
  window.addEventListener("pagehide", function () { if (reading) stop(); });
})();

(function () {
  // 目录 opens the drawer through a CSS checkbox (#__drawer), which a keyboard cannot reach: the
  // label's text becomes a button that toggles it; Escape closes the drawer and returns here.
  var drawer = document.getElementById("__drawer");
  var menu = document.querySelector(".mb-menu-button");
  if (!drawer || !menu) return;
  menu.setAttribute("role", "button");
  menu.tabIndex = 0;
  function sync() { menu.setAttribute("aria-expanded", drawer.checked ? "true" : "false"); }
  function set(open) {
    drawer.checked = open;
    sync();
    if (open) {
      var first = document.querySelector(".md-sidebar--primary .md-nav__list a[href]");
      if (first) first.focus();
    } else menu.focus();
  }
  sync();
  drawer.addEventListener("change", sync);
  // Material names each nested level after its › label, which has no text: name it after its link
  Array.prototype.forEach.call(document.querySelectorAll(".md-nav--primary nav[aria-labelledby]"), function (nav) {
    var label = document.getElementById(nav.getAttribute("aria-labelledby"));
    var link = label && !label.textContent.trim() && label.parentElement.querySelector("a");
    if (link) { nav.removeAttribute("aria-labelledby"); nav.setAttribute("aria-label", link.textContent.trim()); }
  });
  menu.addEventListener("keydown", function (e) {
    if (e.key === "Enter" || e.key === " ") { e.preventDefault(); set(!drawer.checked); }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && drawer.checked) set(false);
  });
})();
