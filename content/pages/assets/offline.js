// Registers the service worker (sw.js at the site root, written by site_build/offline.py) so the
// guide and the checker work offline after one visit. Added to every page by that build step.
//
// It waits until the page has finished loading — on a tool page until its Pyodide is ready —
// so the service worker's precache finds the big files already in the HTTP cache instead of
// downloading them a second time over a weak signal.
(function () {
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return;
  var script = document.currentScript;
  var swURL = new URL("../sw.js", script.src);
  var scope = new URL("../", script.src);

  // A page whose script tag has data-offline-group (set by the build: a tool page, or a county's page)
  // asks the service worker to keep that group too. <html data-offline-cached="checker county/…/">
  // lists the groups kept (tests wait for them).
  function cacheGroup(group) {
    navigator.serviceWorker.ready.then(function (reg) {
      var channel = new MessageChannel();
      channel.port1.onmessage = function (event) {
        if (!(event.data && event.data.ok)) return;
        var root = document.documentElement;
        var have = (root.dataset.offlineCached || "").split(" ").filter(Boolean);
        if (have.indexOf(event.data.group) < 0) have.push(event.data.group);
        root.dataset.offlineCached = have.join(" ");
      };
      reg.active.postMessage({ type: "cache-group", group: group }, [channel.port2]);
    });
  }

  // 删除离线数据 (below) unregisters the service worker and leaves this mark, so pages opened later do
  // not store anything again until the person taps 出门前下载 again.
  var REMOVED = "yl-offline-removed";
  function removedByPerson() {
    try { return localStorage.getItem(REMOVED) === "1"; } catch (err) { return false; }
  }

  function register() {
    if (removedByPerson()) return;
    navigator.serviceWorker.register(swURL.href, { scope: scope.href }).then(function () {
      var own = script.getAttribute("data-offline-group");
      if (own) cacheGroup(own);
    }).catch(function () {});
  }

  function whenLoaded(fn) {
    if (document.readyState === "complete") fn();
    else window.addEventListener("load", fn, { once: true });
  }

  // A handout PDF to download (<a download>) with no network: from this phone's cache if it was kept,
  // otherwise say so beside the link (the browser itself would only show a failed download).
  function saveBlob(blob, name) {
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name || "";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(a.href); }, 30000);
  }

  function sayNotSaved(link) {
    var box = link.parentNode;
    var note = box.querySelector(".mb-offline-note") || document.createElement("p");
    note.className = "mb-offline-note";
    note.setAttribute("role", "status");
    note.textContent = "这份PDF还没有存到这部手机（电脑）上，现在没有网络，下载不了。等有网络时再下载一次，以后没有网络也能用。";
    box.appendChild(note);
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[download][href$='.pdf']");
    if (!link || navigator.onLine !== false || !window.caches) return;
    event.preventDefault();
    caches.match(link.href).then(function (hit) {
      if (hit) return hit.blob().then(function (blob) { saveBlob(blob, link.getAttribute("download")); });
      sayNotSaved(link);
    }).catch(function () { sayNotSaved(link); });
  });

  // ---------------------------------------------------------------- 出门前下载 (issue 14)
  // <section data-prepare> on the home, checker and screening pages: one tap keeps the site's shell and
  // the checker's and screening page's files (sw.js's PREPARE) on this phone, with progress; a tap
  // after a failure resumes (what is stored stays). It says how much is stored here and removes it:
  // this site's caches and the checker's start-up snapshot, never the visit list (localStorage).
  var MARK = "__offline_group__/";
  var SNAPSHOTS = "checker-start-snapshot";   // boot.mjs
  var PREPARED = ["checker", "screen"];

  function ours(name) { return name.indexOf("yanglao-") === 0 || name === SNAPSHOTS; }

  function mb(bytes) {
    var n = bytes / 1e6;
    return n >= 10 ? String(Math.round(n)) : n >= 0.1 || n === 0 ? n.toFixed(1) : "0.1";
  }

  // {bytes, prepared}: what this site keeps on this phone, and whether both groups are kept
  function stored() {
    var bytes = 0, marks = {};
    return caches.keys().then(function (names) {
      return Promise.all(names.filter(ours).map(function (name) {
        return caches.open(name).then(function (cache) {
          return cache.keys().then(function (requests) {
            return Promise.all(requests.map(function (request) {
              var at = request.url.indexOf(MARK);
              if (at >= 0) marks[decodeURIComponent(request.url.slice(at + MARK.length))] = true;
              return cache.match(request).then(function (response) {
                return response ? response.blob() : null;
              }).then(function (blob) { if (blob) bytes += blob.size; });
            }));
          });
        });
      }));
    }).then(function () {
      return { bytes: bytes, prepared: PREPARED.every(function (g) { return marks[g]; }) };
    });
  }

  // the active service worker, registering it (and waiting for its install) if need be
  function activeWorker() {
    return navigator.serviceWorker.register(swURL.href, { scope: scope.href }).then(function (reg) {
      if (reg.active) return reg.active;
      var worker = reg.installing || reg.waiting;
      if (!worker) return navigator.serviceWorker.ready.then(function (r) { return r.active; });
      return new Promise(function (resolve, reject) {
        worker.addEventListener("statechange", function () {
          if (worker.state === "activated") resolve(worker);
          else if (worker.state === "redundant") reject(new Error("install failed"));
        });
      });
    });
  }

  // one "prepare" message; the worker answers progress…, then more | done | failed
  function ask(worker, onProgress) {
    return new Promise(function (resolve, reject) {
      var channel = new MessageChannel();
      var timer;
      function watch() {
        clearTimeout(timer);
        timer = setTimeout(function () { reject(new Error("no progress for 90 s")); }, 90000);
      }
      channel.port1.onmessage = function (event) {
        var data = event.data || {};
        watch();
        if (data.type === "progress") { onProgress(data); return; }
        clearTimeout(timer);
        resolve(data);
      };
      watch();
      worker.postMessage({ type: "prepare" }, [channel.port2]);
    });
  }

  function prepareAll(worker, onProgress) {
    return ask(worker, onProgress).then(function (data) {
      if (data.type !== "more") return data;
      onProgress(data);
      return prepareAll(worker, onProgress);
    });
  }

  function removeAll() {
    return navigator.serviceWorker.getRegistrations().then(function (regs) {
      return Promise.all(regs.filter(function (r) { return r.scope === scope.href; })
        .map(function (r) { return r.unregister(); }));
    }).then(function () {
      return caches.keys();
    }).then(function (names) {
      return Promise.all(names.filter(ours).map(function (name) { return caches.delete(name); }));
    }).then(function () {
      try { localStorage.setItem(REMOVED, "1"); } catch (err) { /* private mode: nothing to keep */ }
    });
  }

  function setUpPrepare(box) {
    var start = box.querySelector("[data-prepare-start]");
    var bar = box.querySelector("[data-prepare-progress]");
    var status = box.querySelector("[data-prepare-status]");
    var storedBox = box.querySelector("[data-prepare-stored]");
    var storedText = box.querySelector("[data-prepare-stored-text]");
    var remove = box.querySelector("[data-prepare-remove]");
    var busy = false;

    function say(text, state) {
      status.textContent = text;
      box.setAttribute("data-prepare-state", state);
    }

    function showStored(keepStatus) {
      return stored().then(function (info) {
        storedBox.hidden = info.bytes === 0;
        storedText.textContent = "这部手机上现在存了约 " + mb(info.bytes) + " MB 本网站的离线数据" +
          (info.prepared ? "（下载时是压缩过的，存下来比下载的多）。" : "。");
        box.setAttribute("data-prepare-bytes", String(info.bytes));
        start.hidden = info.prepared && !busy;
        if (!keepStatus && info.prepared) say("已下载，可以离线使用。", "done");
        return info;
      }).catch(function () { storedBox.hidden = true; });
    }

    function progress(data) {
      bar.hidden = false;
      bar.max = data.total || 1;
      bar.value = Math.min(data.bytes, data.total);
      say("正在下载：已下载 " + mb(data.bytes) + " MB，共 " + mb(data.total) + " MB（" + data.files + " 个文件里的 " +
          data.done + " 个）。请不要关掉这一页。", "busy");
    }

    start.addEventListener("click", function () {
      if (busy) return;
      busy = true;
      start.disabled = true;
      remove.disabled = true;
      try { localStorage.removeItem(REMOVED); } catch (err) { /* nothing kept */ }
      say("正在下载……请不要关掉这一页。", "busy");
      activeWorker().then(function (worker) {
        return prepareAll(worker, progress);
      }).then(function (data) {
        if (data.type !== "done") throw Object.assign(new Error(data.message || data.type), { data: data });
        bar.hidden = true;
        say("已下载，可以离线使用。没有网络时，用这部手机上的这个浏览器打开本网站，照样能用“查一查”和“批量排摸”。", "done");
      }).catch(function (err) {
        var data = err && err.data;
        var part = data && data.total ? "（已下载 " + mb(data.bytes) + " / " + mb(data.total) + " MB）" : "";
        say("下载没有完成" + part + "：可能是网络断了或者太慢。有网络的时候再点一次上面的按钮，会接着下载，不用从头开始。", "failed");
      }).then(function () {
        busy = false;
        start.disabled = false;
        remove.disabled = false;
        return showStored(true);
      });
    });

    remove.addEventListener("click", function () {
      if (busy) return;
      if (!window.confirm("删除以后，没有网络时就打不开“查一查”和“批量排摸”了。走访名单不会删除。确定删除吗？")) return;
      busy = true;
      remove.disabled = true;
      removeAll().then(function () {
        say("已删除这部手机上的离线数据。走访名单（今天走访的老人）还在，没有删除。", "removed");
      }, function () {
        say("没有删除成功，请再试一次。", "failed");
      }).then(function () {
        busy = false;
        remove.disabled = false;
        bar.hidden = true;
        return showStored(true);
      });
    });

    box.hidden = false;
    showStored(false);
  }

  var prepareBox = document.querySelector("[data-prepare]");
  if (prepareBox && window.caches) setUpPrepare(prepareBox);

  whenLoaded(function () {
    if (document.querySelector("[data-offline-wait]") && !document.documentElement.dataset.toolSettled) {
      // a tool page (checker, screening): after its Pyodide has started or failed (form.js, screen.js)
      document.addEventListener("yl-tool-settled", register, { once: true });
    } else {
      register();
    }
  });
})();
