// Registers the service worker (sw.js at the site root, written by site_build/offline.py) so the
// guide and the checker work offline after one visit. Added to every page by that build step.
//
// It waits until the page has finished loading — on the checker page until the checker is ready —
// so the service worker's precache finds the big files already in the HTTP cache instead of
// downloading them a second time over a weak signal.
(function () {
  if (!("serviceWorker" in navigator) || !window.isSecureContext) return;
  var script = document.currentScript;
  var swURL = new URL("../sw.js", script.src);
  var scope = new URL("../", script.src);

  function register() {
    navigator.serviceWorker.register(swURL.href, { scope: scope.href }).catch(function () {});
  }

  function whenLoaded(fn) {
    if (document.readyState === "complete") fn();
    else window.addEventListener("load", fn, { once: true });
  }

  whenLoaded(function () {
    if (document.getElementById("yl-checker")) {
      // the checker page: after Pyodide has started (or failed), see form.js
      if (document.documentElement.dataset.checkerSettled) register();
      else document.addEventListener("yl-checker-settled", register, { once: true });
    } else {
      register();
    }
  });
})();
