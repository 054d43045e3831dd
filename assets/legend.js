/* Table legends (layouts/widgets/line.py, legend mode "table"): a header's button sorts the rows
 * by its column (a number column largest first, again smallest first; the name A to Z), a row's
 * click shows its series alone as a legend entry's click does (assets/charts.js; shift-click
 * shows or hides it). After each draw of the chart the rows follow its traces: a row for a series
 * the live feed added, names and shown/hidden states as drawn, and the Last column (with Min and
 * Max where a new point passes them) moved by the points the live feed drew.
 * The sorting rule is dashboard/boards/legend.py's (next_sort, sort_rows). */
(function () {
  "use strict";
  if (window.location.pathname.indexOf("/login") === 0) { return; }

  var COLS = ["last", "min", "max", "mean"];
  var sorts = {};  // a table's sort, by its card: a card drawn again keeps it

  function hostOf(el) { return el && el.closest ? el.closest(".legend-host") : null; }
  function tableOf(host) { return host ? host.querySelector("table.legend-table") : null; }
  function chartOf(host) {
    var gd = host ? host.querySelector(".js-plotly-plot") : null;
    return gd && gd.data ? gd : null;
  }
  function cardId(host) {  // the dashboard's and the card's: another board's card is another
    var card = host.closest(".widget");
    var board = new URLSearchParams(window.location.search).get("dashboard") || "";
    return board + "/" + (card ? card.id : "");
  }

  /* ---- numbers, as dashboard/boards/units.py format_number writes them: by the live feed's
   * formatter (assets/live.js), from the format the server resolved for the table ---- */

  function formatNumber(v, fmt) {
    if (v === null || v === undefined || !isFinite(v)) { return "\u2013"; }
    if (window.dashLive && window.dashLive.format) { return window.dashLive.format(v, fmt); }
    return (fmt.prefix || "") + v.toLocaleString("en-US") + (fmt.suffix || "");
  }

  function formatOf(table) {
    try { return JSON.parse(table.getAttribute("data-format") || "{}") || {}; } catch (e) { return {}; }
  }

  function cell(row, col) { return row.querySelector('td[data-col="' + col + '"]'); }

  function valueOf(row, col) {
    var text = cell(row, col).getAttribute("data-value");
    return text === "" || text === null ? null : parseFloat(text);
  }

  function setValue(row, col, v, fmt) {
    var td = cell(row, col);
    td.setAttribute("data-value", v === null ? "" : String(v));
    td.textContent = formatNumber(v, fmt);
  }

  function toMs(x) {
    if (typeof x === "number") { return x; }
    return new Date(String(x).replace(" ", "T") + (/[zZ+]/.test(String(x)) ? "" : "Z")).getTime();
  }

  /* a Plotly name as text (the chart's names are escaped for Plotly's markup) */
  function plainName(name) {
    return String(name || "").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  /* ---- sorting ---- */

  function rowsOf(table) { return Array.prototype.slice.call(table.tBodies[0].rows); }
  function nameOf(row) { return row.querySelector(".legend-series").textContent.toLowerCase(); }
  function traceOf(row) { return parseInt(row.getAttribute("data-trace"), 10); }

  function sortRows(table, col, desc) {
    var rows = rowsOf(table);
    rows.sort(function (a, b) {
      if (col === "name") {
        var na = nameOf(a), nb = nameOf(b);
        if (na !== nb) { return (na < nb ? -1 : 1) * (desc ? -1 : 1); }
        return traceOf(a) - traceOf(b);
      }
      var va = valueOf(a, col), vb = valueOf(b, col);
      if (va === null || vb === null) {  // no value: last either way
        if (va !== vb) { return va === null ? 1 : -1; }
      } else if (va !== vb) {
        return (va - vb) * (desc ? -1 : 1);
      }
      return traceOf(a) - traceOf(b);
    });
    var body = table.tBodies[0];
    rows.forEach(function (r) { body.appendChild(r); });
    table.querySelectorAll("thead th").forEach(function (th) {
      var button = th.querySelector(".legend-sort");
      var mine = button && button.getAttribute("data-sort") === col;
      th.setAttribute("aria-sort", mine ? (desc ? "descending" : "ascending") : "none");
    });
    table.setAttribute("data-sort", col);
    table.setAttribute("data-desc", desc ? "1" : "0");
  }

  function currentSort(table) {
    var col = table.getAttribute("data-sort");
    return col ? [col, table.getAttribute("data-desc") === "1"] : null;
  }

  function onSortClick(button) {
    var host = hostOf(button);
    var table = tableOf(host);
    if (!table) { return; }
    var col = button.getAttribute("data-sort");
    var now = currentSort(table);
    var desc = now && now[0] === col ? !now[1] : col !== "name";  // legend.py next_sort
    sortRows(table, col, desc);
    sorts[cardId(host)] = [col, desc];
  }

  /* ---- rows in step with the chart's traces ---- */

  function traceColor(gd, i) {
    var full = gd._fullData && gd._fullData[i];
    if (!full) { return ""; }
    return (full.line && full.line.color) || (full.marker && full.marker.color) || "";
  }

  function statsOf(ys) {
    var last = null, min = null, max = null, sum = 0, n = 0;
    for (var i = 0; i < ys.length; i++) {
      var v = ys[i];
      if (typeof v !== "number" || !isFinite(v)) { continue; }
      last = v;
      min = min === null || v < min ? v : min;
      max = max === null || v > max ? v : max;
      sum += v;
      n += 1;
    }
    return { last: last, min: min, max: max, mean: n ? sum / n : null };
  }

  function newRow(table, gd, i, fmt) {
    var tr = document.createElement("tr");
    tr.className = "legend-row";
    tr.setAttribute("data-trace", String(i));
    tr.setAttribute("data-client", "1");  // its numbers are what the chart draws
    var th = document.createElement("th");
    th.setAttribute("scope", "row");
    th.className = "legend-name";
    var swatch = document.createElement("span");
    swatch.className = "legend-swatch";
    swatch.setAttribute("aria-hidden", "true");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "legend-series";
    button.title = "Show this series alone (again: all; shift-click: show or hide it)";
    th.appendChild(swatch);
    th.appendChild(button);
    tr.appendChild(th);
    COLS.forEach(function (col) {
      var td = document.createElement("td");
      td.setAttribute("data-col", col);
      tr.appendChild(td);
    });
    tr.setAttribute("data-last-x", "");
    drawnStats(tr, gd.data[i], fmt);
    table.tBodies[0].appendChild(tr);
    return tr;
  }

  /* a row the page added: its numbers from the points the chart draws, when they changed */
  function drawnStats(row, trace, fmt) {
    var xs = trace.x || [];
    var key = xs.length + ":" + (xs.length ? toMs(xs[xs.length - 1]) : "");
    if (row.getAttribute("data-last-x") === key) { return false; }
    row.setAttribute("data-last-x", key);
    var stats = statsOf(trace.y || []);
    COLS.forEach(function (col) { setValue(row, col, stats[col], fmt); });
    return true;
  }

  /* the points drawn after the row's last one: Last follows them, Min and Max widen to them */
  function followLive(row, trace, fmt) {
    var xs = trace.x || [], ys = trace.y || [];
    var seen = row.getAttribute("data-last-x");
    var since = seen === "" || seen === null ? -Infinity : parseFloat(seen);
    var i = xs.length - 1;
    if (i < 0 || !(toMs(xs[i]) > since)) { return false; }
    var last = null, min = valueOf(row, "min"), max = valueOf(row, "max");
    for (; i >= 0 && toMs(xs[i]) > since; i--) {
      var v = ys[i];
      if (typeof v !== "number" || !isFinite(v)) { continue; }
      if (last === null) { last = v; }
      min = min === null || v < min ? v : min;
      max = max === null || v > max ? v : max;
    }
    row.setAttribute("data-last-x", String(toMs(xs[xs.length - 1])));
    if (last === null) { return false; }
    setValue(row, "last", last, fmt);
    setValue(row, "min", min, fmt);
    setValue(row, "max", max, fmt);
    return true;
  }

  function sync(gd) {
    var host = hostOf(gd);
    var table = tableOf(host);
    if (!table || !gd.data) { return; }
    var fmt = formatOf(table);
    var live = table.getAttribute("data-live") === "1";
    var byTrace = {};
    var changed = false;
    rowsOf(table).forEach(function (row) {
      var i = traceOf(row);
      if (i >= gd.data.length || byTrace[i]) { row.parentNode.removeChild(row); changed = true; return; }
      byTrace[i] = row;
    });
    for (var i = 0; i < gd.data.length; i++) {
      var trace = gd.data[i];
      var row = byTrace[i];
      if (!row) {
        row = newRow(table, gd, i, fmt);
        changed = true;
      } else if (row.getAttribute("data-client") === "1") {
        changed = drawnStats(row, trace, fmt) || changed;
      } else if (live && followLive(row, trace, fmt)) {
        changed = true;
      }
      var button = row.querySelector(".legend-series");
      var name = plainName(trace.name);
      if (button.textContent !== name) { button.textContent = name; }
      var swatch = row.querySelector(".legend-swatch");
      var color = traceColor(gd, i);
      if (color && swatch.style.backgroundColor === "") { swatch.style.backgroundColor = color; }
      var hidden = trace.visible === "legendonly" || trace.visible === false;
      row.classList.toggle("legend-off", hidden);
      button.setAttribute("aria-label", name + (hidden ? " (hidden)" : ""));
    }
    var wanted = sorts[cardId(host)] || currentSort(table);
    var sorted = currentSort(table);
    if (wanted && (changed || !sorted || sorted[0] !== wanted[0] || sorted[1] !== wanted[1])) {
      sortRows(table, wanted[0], wanted[1]);
    }
  }

  function wire() {
    document.querySelectorAll(".legend-host").forEach(function (host) {
      var gd = chartOf(host);
      if (!gd || typeof gd.on !== "function") { return; }
      if (!gd.dashLegendWired) {
        gd.dashLegendWired = true;
        gd.on("plotly_afterplot", function () { sync(gd); });
        gd.on("plotly_restyle", function () { sync(gd); });
      }
      sync(gd);  // also a table drawn again under the same chart
    });
  }

  /* ---- clicks: on a header's button, on a row (its name's button for a keyboard) ---- */

  document.addEventListener("click", function (ev) {
    var target = ev.target;
    if (!target || !target.closest) { return; }
    var sortButton = target.closest(".legend-table .legend-sort");
    if (sortButton) { onSortClick(sortButton); return; }
    var row = target.closest(".legend-table tr.legend-row");
    if (!row) { return; }
    var gd = chartOf(hostOf(row));
    if (!gd || !window.dashCharts) { return; }
    window.dashCharts.isolate(gd, traceOf(row), ev.shiftKey || ev.metaKey || ev.ctrlKey);
  });

  var pending = null;
  new MutationObserver(function () {
    if (pending === null) {
      pending = window.setTimeout(function () { pending = null; wire(); }, 300);
    }
  }).observe(document.documentElement, { childList: true, subtree: true });

  window.dashLegend = { sync: sync };
})();
