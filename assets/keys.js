/* Drilling down by keyboard, as by mouse. A chart that drills (a bar, a pie, a line) takes the
 * focus with Tab; the arrow keys pick a bar, a slice or a point (shown with Plotly's own hover
 * and read out by screen readers); Enter opens it, through the same callbacks a click goes to
 * (a bar its bucket, a slice its breakdown, a line point the span around it). Escape or
 * Backspace goes one level back up the breadcrumb. */
(function () {
  "use strict";
  if (window.location.pathname.indexOf("/login") === 0) { return; }

  var announcer = null;

  function say(text) {
    // a polite live region outside Dash's tree: screen readers read what is picked or opened
    if (!announcer) {
      announcer = document.createElement("div");
      announcer.id = "drill-announce";
      announcer.className = "sr-only";
      announcer.setAttribute("role", "status");
      announcer.setAttribute("aria-live", "polite");
      document.body.appendChild(announcer);
    }
    announcer.textContent = text;
  }

  function kindOf(gd) {
    var card = gd.closest(".widget");
    if (!card) { return null; }
    var t = gd.data && gd.data[0] && gd.data[0].type;
    if (t === "pie") { return "pie"; }
    if (t === "bar") { return "bar"; }
    if (t === "scatter" && gd.closest(".widget-graph")) { return "line"; }
    return null;
  }

  function graphId(gd) {
    var outer = gd.closest("[id]");
    while (outer && outer === gd) { outer = outer.parentElement.closest("[id]"); }
    return outer ? outer.id : null;
  }

  function prepare() {
    // every drillable chart can take the focus and says how to use it
    var plots = document.querySelectorAll("#widgets-grid .js-plotly-plot");
    Array.prototype.forEach.call(plots, function (gd) {
      if (gd.getAttribute("tabindex") === "0") { return; }
      var kind = kindOf(gd);
      if (!kind) { return; }
      var title = gd.closest(".widget").querySelector(".widget-title");
      gd.setAttribute("tabindex", "0");
      gd.setAttribute("role", "group");
      gd.setAttribute("aria-label", (title ? title.textContent + ": " : "") +
        "chart. Arrow keys pick a " + (kind === "pie" ? "slice" : kind === "bar" ? "bar" : "point") +
        ", Enter opens it, Escape goes back.");
    });
  }

  function label(gd, kind, i) {
    var t = gd.data[0];
    if (kind === "pie") {
      return t.labels[i] + ": " + Number(t.values[i]).toLocaleString() +
        " (" + (i + 1) + " of " + t.labels.length + ")";
    }
    var x = t.x[i];
    var when = new Date(typeof x === "number" ? x : String(x).replace(" ", "T") + "Z");
    return when.toISOString().replace("T", " ").slice(0, 16) + " UTC: " +
      Number(t.y[i]).toLocaleString() + " (" + (i + 1) + " of " + t.x.length + ")";
  }

  function count(gd, kind) {
    var t = gd.data[0];
    return kind === "pie" ? (t.labels || []).length : (t.x || []).length;
  }

  function pick(gd, kind, i) {
    gd.dashKeyIndex = i;
    try {
      window.Plotly.Fx.hover(gd, [{ curveNumber: 0, pointNumber: i }]);
    } catch (e) { /* a chart being redrawn: the announcement still says it */ }
    say(label(gd, kind, i));
  }

  function setSearch(search) {
    window.dash_clientside.set_props("page-url", { search: search });
  }

  function open(gd, kind, i) {
    var t = gd.data[0];
    var id = graphId(gd);
    if (kind === "line") {
      // the span around the point: a tenth of what the chart shows, as a zoom would
      var xs = t.x, x = xs[i];
      var at = typeof x === "number" ? x : new Date(String(x).replace(" ", "T") + "Z").getTime();
      var first = new Date(String(xs[0]).replace(" ", "T") + "Z").getTime();
      var last = new Date(String(xs[xs.length - 1]).replace(" ", "T") + "Z").getTime();
      if (typeof xs[0] === "number") { first = xs[0]; last = xs[xs.length - 1]; }
      var half = Math.max(30000, Math.round((last - first) / 20));
      var params = new URLSearchParams(window.location.search);
      var back = params.get("range") || params.get("back");
      ["range", "from", "to", "back"].forEach(function (k) { params.delete(k); });
      params.set("from", Math.round(at - half));
      params.set("to", Math.round(at + half));
      if (back) { params.set("back", back); }
      say("Opened the span around " + label(gd, kind, i));
      setSearch("?" + params.toString());
      return;
    }
    // a bar or a slice: what a click sends, to the same callback
    var point = { curveNumber: 0, pointNumber: i, customdata: t.customdata[i] };
    if (kind === "bar") { point.x = t.x[i]; point.y = t.y[i]; }
    else { point.label = t.labels[i]; }
    say("Opened " + label(gd, kind, i));
    window.dash_clientside.set_props(JSON.parse(id), { clickData: { points: [point] } });
  }

  function back() {
    // one level up the breadcrumb: its last link
    var links = document.querySelectorAll("#view-breadcrumb a");
    if (links.length < 1) { return false; }
    var link = links[links.length - 1];
    say("Back to " + link.textContent);
    link.click();
    return true;
  }

  function drillSearch(widget, label) {
    // as a pie slice's click (assets/range.js): a drill of a drilled widget goes a level further
    var params = new URLSearchParams(window.location.search);
    var current = params.get("drill") || "";
    var at = current.indexOf(":");
    var path = at > 0 && current.slice(0, at) === widget ? current.slice(at + 1) + "," : "";
    params.set("drill", widget + ":" + path + label);
    return "?" + params.toString();
  }

  function openPanel(widget) {
    var params = new URLSearchParams(window.location.search);
    params.delete("drill");
    params.set("panel", widget);
    say("Showing " + widget + " alone; Escape goes back to the dashboard");
    setSearch("?" + params.toString());
  }

  document.addEventListener("click", function (ev) {
    var link = ev.target && ev.target.closest && ev.target.closest("a.panel-link");
    if (!link) { return; }
    ev.preventDefault();
    openPanel(link.getAttribute("data-panel"));
  });

  // a table row's series name drills into that row (a link: Tab reaches it, Enter opens it)
  document.addEventListener("click", function (ev) {
    var link = ev.target && ev.target.closest && ev.target.closest("a.table-drill");
    if (!link) { return; }
    ev.preventDefault();
    var spec = link.getAttribute("data-drill") || "";
    var at = spec.indexOf(":");
    if (at < 1) { return; }
    say("Opened " + spec.slice(at + 1));
    setSearch(drillSearch(spec.slice(0, at), spec.slice(at + 1)));
  });

  // the dashboards' list (a <details>): Escape closes it, back on its toggle, even from its
  // search box; opening a dashboard from it closes it too
  document.addEventListener("keydown", function (ev) {
    var open = ev.key === "Escape" && document.querySelector("details.finder[open]");
    if (!open || document.querySelector(".modal.open")) { return; }
    open.removeAttribute("open");
    var toggle = open.querySelector("summary");
    if (toggle) { toggle.focus(); }
    ev.preventDefault();
    ev.stopImmediatePropagation();
  }, true);
  document.addEventListener("click", function (ev) {
    var link = ev.target && ev.target.closest && ev.target.closest("details.finder .finder-link");
    var open = link && link.closest("details.finder");
    if (open) { open.removeAttribute("open"); }
  });

  function typing(el) {
    var tag = el && el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (el && el.isContentEditable);
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.altKey || ev.ctrlKey || ev.metaKey || typing(ev.target)) { return; }
    var gd = ev.target && ev.target.classList && ev.target.classList.contains("js-plotly-plot")
      ? ev.target : null;
    if ((ev.key === "Escape" || ev.key === "Backspace") && !document.querySelector(".modal.open")) {
      var params = new URLSearchParams(window.location.search);
      if ((params.get("drill") || params.get("from") || params.get("panel")) && back()) {
        ev.preventDefault();
      }
      return;
    }
    if (ev.key === "v" && !ev.shiftKey) {  // the focused widget alone, at full size
      var card = document.activeElement && document.activeElement.closest &&
        document.activeElement.closest("#widgets-grid .widget");
      if (card && card.id.indexOf("widget-") === 0) {
        openPanel(card.id.slice("widget-".length));
        ev.preventDefault();
      }
      return;
    }
    if (!gd) { return; }
    var kind = kindOf(gd);
    var n = kind ? count(gd, kind) : 0;
    if (!n) { return; }
    var i = typeof gd.dashKeyIndex === "number" ? Math.min(gd.dashKeyIndex, n - 1) : -1;
    if (ev.key === "ArrowRight" || ev.key === "ArrowDown") {
      pick(gd, kind, Math.min(n - 1, i + 1));
    } else if (ev.key === "ArrowLeft" || ev.key === "ArrowUp") {
      pick(gd, kind, Math.max(0, i - 1));
    } else if (ev.key === "Home") {
      pick(gd, kind, 0);
    } else if (ev.key === "End") {
      pick(gd, kind, n - 1);
    } else if (ev.key === "Enter" && i >= 0) {
      open(gd, kind, i);
    } else {
      return;
    }
    ev.preventDefault();
  });

  // charts are drawn and redrawn by Dash: make the new ones focusable as they come (checked
  // at most twice a second, not on each of the live feed's redraws)
  var pending = null;
  new MutationObserver(function () {
    if (pending === null) {
      pending = window.setTimeout(function () { pending = null; prepare(); }, 500);
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
