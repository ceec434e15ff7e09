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

  function register() {
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

  whenLoaded(function () {
    if (document.querySelector("[data-offline-wait]") && !document.documentElement.dataset.toolSettled) {
      // a tool page (checker, screening): after its Pyodide has started or failed (form.js, screen.js)
      document.addEventListener("yl-tool-settled", register, { once: true });
    } else {
      register();
    }
  });
})();
