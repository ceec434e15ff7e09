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

  whenLoaded(function () {
    if (document.querySelector("[data-offline-wait]") && !document.documentElement.dataset.toolSettled) {
      // a tool page (checker, screening): after its Pyodide has started or failed (form.js, screen.js)
      document.addEventListener("yl-tool-settled", register, { once: true });
    } else {
      register();
    }
  });
})();
