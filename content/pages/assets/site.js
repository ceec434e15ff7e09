/* 养老服务明白卡: the 大字 switch. The choice is kept in localStorage ("mb-dazi") and applied
   before the page paints by a one-line script in the page head (content/overrides/main.html). */
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
