/* The charts behave as a Grafana user expects: a legend entry's click shows that series alone
 * (click it again: all of them), shift-click toggles one; hovering a time chart shows the same
 * moment on every other time chart in view (one crosshair and tooltip for the board). */
(function () {
  "use strict";
  if (window.location.pathname.indexOf("/login") === 0) { return; }

  function isTimeChart(gd) {
    var layout = gd._fullLayout;
    return !!(layout && layout.xaxis && layout.xaxis.type === "date" && gd.data && gd.data.length &&
      gd.data[0].type === "scatter" && gd.closest(".widget-graph"));
  }

  function onLegendClick(ev) {
    var gd = ev.node && ev.node.closest ? ev.node.closest(".js-plotly-plot") : null;
    gd = gd || (this && this.data ? this : null);
    if (!gd || !window.Plotly) { return true; }
    isolate(gd, ev.curveNumber, ev.event && (ev.event.shiftKey || ev.event.metaKey || ev.event.ctrlKey));
    return false;  // not Plotly's own toggle
  }

  /* Series `picked` of chart `gd` alone (when it already is: all of them), or with `shift` that
   * one shown or hidden; also what a table legend's row does (assets/legend.js). */
  function isolate(gd, picked, shift) {
    var n = gd.data.length;
    var visible = gd.data.map(function (t) { return t.visible !== "legendonly" && t.visible !== false; });
    var next;
    if (shift) {  // toggle the one series
      next = visible.slice();
      next[picked] = !next[picked];
    } else {
      var alone = visible[picked] && visible.filter(Boolean).length === 1;
      next = [];
      for (var i = 0; i < n; i++) { next.push(alone ? true : i === picked); }  // again: all
    }
    window.Plotly.restyle(gd, { visible: next.map(function (v) { return v ? true : "legendonly"; }) });
  }
  window.dashCharts = { isolate: isolate };

  var syncing = false;

  function inView(el) {
    var r = el.getBoundingClientRect();
    return r.bottom > 0 && r.top < (window.innerHeight || 0);
  }

  function onHover(source, ev) {
    if (syncing || !ev || !ev.points || !ev.points.length) { return; }
    var x = ev.points[0].x;
    syncing = true;
    try {
      var plots = document.querySelectorAll("#widgets-grid .widget-graph .js-plotly-plot");
      Array.prototype.forEach.call(plots, function (gd) {
        if (gd === source || !isTimeChart(gd) || !inView(gd)) { return; }
        try {  // the hovered time in the other chart's own terms (ms on a date axis)
          window.Plotly.Fx.hover(gd, { xval: gd._fullLayout.xaxis.d2c(x) }, "xy");
        } catch (e) { /* being redrawn */ }
      });
    } finally {
      syncing = false;
    }
  }

  function onUnhover(source) {
    if (syncing) { return; }
    var plots = document.querySelectorAll("#widgets-grid .widget-graph .js-plotly-plot");
    Array.prototype.forEach.call(plots, function (gd) {
      if (gd !== source && gd._fullLayout) {
        try { window.Plotly.Fx.unhover(gd); } catch (e) { /* being redrawn */ }
      }
    });
  }

  function wire() {
    var plots = document.querySelectorAll("#widgets-grid .js-plotly-plot");
    Array.prototype.forEach.call(plots, function (gd) {
      if (gd.dashChartsWired || typeof gd.on !== "function" || !gd._fullLayout) { return; }
      gd.dashChartsWired = true;
      gd.on("plotly_legendclick", onLegendClick);
      gd.on("plotly_legenddoubleclick", function () { return false; });
      if (isTimeChart(gd)) {
        gd.on("plotly_hover", function (ev) { onHover(gd, ev); });
        gd.on("plotly_unhover", function () { onUnhover(gd); });
      }
    });
  }

  var pending = null;
  new MutationObserver(function () {
    if (pending === null) {
      pending = window.setTimeout(function () { pending = null; wire(); }, 300);
    }
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
