/* Names for the focusable parts Dash's components leave unnamed (axe-core's serious findings):
 * a dropdown's focus trampoline (an input that hands focus to the dropdown's button, marked
 * aria-hidden yet in the tab order) gets the button's name instead of aria-hidden, and an
 * upload's file input gets the upload's own text. Applied again whenever Dash draws. */
(function () {
  "use strict";

  function labelFor(id) {
    if (!id) { return ""; }
    var label = document.querySelector('label[for="' + CSS.escape(id) + '"]');
    return label ? label.textContent.trim() : "";
  }

  function dropdownName(button) {
    var group = button.closest("[aria-label]");
    var name = labelFor(button.id) || (group && group !== button ? group.getAttribute("aria-label") : "");
    var value = button.querySelector(".dash-dropdown-value");
    var shown = value ? value.textContent.trim() : "";
    return [name || "Choose", shown].filter(Boolean).join(": ");
  }

  function fix(root) {
    root.querySelectorAll(".dash-dropdown-focus-target[aria-hidden]").forEach(function (input) {
      var button = input.nextElementSibling;
      input.removeAttribute("aria-hidden");
      input.setAttribute("aria-label", button ? dropdownName(button) : "Choose");
    });
    root.querySelectorAll('input[type="file"]:not([aria-label])').forEach(function (input) {
      var box = input.parentElement;
      var text = box ? box.textContent.trim() : "";
      input.setAttribute("aria-label", text || "Choose a file");
    });
  }

  function start() {
    fix(document);
    new MutationObserver(function () { fix(document); })
      .observe(document.body, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
