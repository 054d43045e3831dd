/* Light and dark themes: the system's choice by default, the header's button to switch, kept
 * in this browser. Charts follow through CSS (see style.css). */
(function () {
  "use strict";
  var KEY = "dashTheme";
  function apply(theme) {
    document.documentElement.setAttribute("data-theme", theme);
    var button = document.getElementById("theme-toggle");
    if (button) {
      button.textContent = theme === "dark" ? "Light theme" : "Dark theme";
      button.setAttribute("aria-pressed", theme === "dark" ? "true" : "false");
    }
  }
  function current() {
    var saved = window.localStorage.getItem(KEY);
    if (saved) { return saved; }
    return window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  }
  apply(current());
  document.addEventListener("click", function (ev) {
    if (ev.target && ev.target.id === "theme-toggle") {
      var next = current() === "dark" ? "light" : "dark";
      window.localStorage.setItem(KEY, next);
      apply(next);
    }
  });
  // the button is drawn by Dash after this script runs: label it once it exists
  var tries = 0;
  var label = window.setInterval(function () {
    if (document.getElementById("theme-toggle") || ++tries > 100) {
      window.clearInterval(label);
      apply(current());
    }
  }, 100);
})();
