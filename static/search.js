// The header search box: suggestions arrive through htmx; here only the keyboard.
// Down/Up move through the results (aria-activedescendant), Enter opens the chosen one (or,
// with none chosen, submits to the results page), Escape closes, "/" anywhere focuses the box.
(function () {
  var box = document.getElementById("site-search-q");
  var panel = document.getElementById("site-search-results");
  if (!box || !panel) return;
  var active = -1;
  function options() { return Array.prototype.slice.call(panel.querySelectorAll("[role=option]")); }
  function choose(index) {
    var opts = options();
    opts.forEach(function (opt, i) { opt.setAttribute("aria-selected", i === index ? "true" : "false"); });
    active = index;
    if (index >= 0 && opts[index]) {
      box.setAttribute("aria-activedescendant", opts[index].id);
      opts[index].scrollIntoView({ block: "nearest" });
    } else {
      box.removeAttribute("aria-activedescendant");
    }
  }
  function close() { panel.innerHTML = ""; box.setAttribute("aria-expanded", "false"); choose(-1); }
  box.addEventListener("keydown", function (event) {
    var opts = options();
    if (event.key === "ArrowDown" && opts.length) {
      event.preventDefault();
      choose((active + 1) % opts.length);
    } else if (event.key === "ArrowUp" && opts.length) {
      event.preventDefault();
      choose(active <= 0 ? opts.length - 1 : active - 1);
    } else if (event.key === "Enter" && active >= 0 && opts[active]) {
      event.preventDefault();
      window.location.assign(opts[active].href);
    } else if (event.key === "Escape") {
      close();
    }
  });
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.target !== panel) return;
    active = -1;
    box.removeAttribute("aria-activedescendant");
    box.setAttribute("aria-expanded", panel.querySelector("[role=listbox]") ? "true" : "false");
  });
  document.addEventListener("click", function (event) { if (!box.form.contains(event.target)) close(); });
  document.addEventListener("keydown", function (event) {
    var tag = (document.activeElement && document.activeElement.tagName) || "";
    if (event.key === "/" && !/INPUT|TEXTAREA|SELECT/.test(tag) && !document.activeElement.isContentEditable) {
      event.preventDefault();
      box.focus();
    }
  });
})();
