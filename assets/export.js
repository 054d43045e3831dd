/* The header's export buttons export what the page shows (its dashboard, range and filter:
   the page's own URL query, read by the server as the page reads it); the PDF report shows its
   progress and explains a failure. */
(function () {
  "use strict";
  if (window.location.pathname.indexOf("/login") === 0) { return; }

  function say(text, busy) {
    var dc = window.dash_clientside;
    if (dc && dc.set_props) {
      dc.set_props("export-pdf", { children: text, disabled: !!busy });
    }
  }

  function pdf() {
    var started = Date.now();
    say("Preparing PDF…", true);
    var tick = window.setInterval(function () {
      say("Preparing PDF… " + Math.round((Date.now() - started) / 1000) + " s", true);
    }, 1000);
    var query = viewQuery();
    fetch("/api/v1/export.pdf?" + query, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) {
        return r.json().then(function (body) {
          throw new Error((body && (body.detail || body.error)) || ("HTTP " + r.status));
        }, function () { throw new Error("HTTP " + r.status); });
      }
      return r.blob();
    }).then(function (blob) {
      var url = URL.createObjectURL(blob);
      var a = document.createElement("a");
      a.href = url;
      a.download = "dashboard-report.pdf";
      document.body.appendChild(a);
      a.click();
      a.remove();
      window.setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
      say("PDF report", false);
    }).catch(function (err) {
      say("PDF failed: " + err.message, false);
      window.setTimeout(function () { say("PDF report", false); }, 15000);
    }).finally(function () { window.clearInterval(tick); });
  }

  function viewQuery() {
    return "view=" + encodeURIComponent(window.location.search || "?");
  }

  document.addEventListener("click", function (ev) {
    if (ev.target && ev.target.id === "export-pdf") { pdf(); }
    if (ev.target && ev.target.id === "export-csv") {
      ev.target.href = "/api/v1/export.csv?" + viewQuery(); // before the browser follows it
    }
  });
})();
