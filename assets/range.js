/* Time range and dashboard controls: each turns into the page URL's query, which the server
 * renders from (so a link shares the view). The chosen dashboard is kept across range changes. */
(function () {
  "use strict";

  function query(changes) {
    var params = new URLSearchParams(window.location.search);
    // a fixed span remembers the preset it came from, for the breadcrumb's way back
    var back = params.get("range") || params.get("back");
    ["range", "from", "to", "back"].forEach(function (k) { params.delete(k); });
    Object.keys(changes).forEach(function (k) { params.set(k, changes[k]); });
    if (params.has("from") && back) { params.set("back", back); }
    return "?" + params.toString();
  }

  function triggeredWidget(trig) {
    // the pattern id of the graph clicked: {"type": ..., "widget": ...}.clickData
    try {
      return JSON.parse(trig.prop_id.slice(0, trig.prop_id.lastIndexOf("."))).widget;
    } catch (e) {
      return null;
    }
  }

  function pieDrill(widget, slice) {
    // a pie slice opens that slice; a slice of an opened slice goes one level further
    var params = new URLSearchParams(window.location.search);
    var current = params.get("drill") || "";
    var at = current.indexOf(":");
    var path = at > 0 && current.slice(0, at) === widget ? current.slice(at + 1) + "," : "";
    params.set("drill", widget + ":" + path + slice);
    return "?" + params.toString();
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    range: {
      preset: function (value) {
        // the server sets the box to the URL's preset: that is no new choice
        var current = new URLSearchParams(window.location.search).get("range");
        if (!value || value === current) { return window.dash_clientside.no_update; }
        return query({ range: value });
      },
      custom: function (clicks, from, to) {
        var start = from ? new Date(from).getTime() : NaN;
        var end = to ? new Date(to).getTime() : NaN;
        if (!clicks || isNaN(start) || isNaN(end) || start >= end) {
          return window.dash_clientside.no_update;
        }
        return query({ from: start, to: end });
      },
      live: function (clicks) {
        return clicks ? query({ range: "24h" }) : window.dash_clientside.no_update;
      },
      drill: function () {
        // a click on a bar opens its bucket (at the finer resolution the server picks for it)
        var trig = window.dash_clientside.callback_context.triggered;
        var data = trig && trig.length ? trig[0].value : null;
        var point = data && data.points && data.points[0];
        if (!point || point.customdata === undefined) { return window.dash_clientside.no_update; }
        if (typeof point.customdata === "string") {  // a pie slice: its label=value
          var widget = triggeredWidget(trig[0]);
          if (!widget || point.customdata.indexOf("=") < 1) { return window.dash_clientside.no_update; }
          return pieDrill(widget, point.customdata);
        }
        var x = point.x;
        var start = typeof x === "number" ? x : new Date(String(x).replace(" ", "T") + "Z").getTime();
        if (isNaN(start)) { return window.dash_clientside.no_update; }
        return query({ from: start, to: start + Number(point.customdata) - 1 });
      },
      filter: function (clicks, submits, text) {
        var params = new URLSearchParams(window.location.search);
        var wanted = (text || "").trim();
        if ((params.get("filter") || "") === wanted) { return window.dash_clientside.no_update; }
        if (wanted) { params.set("filter", wanted); } else { params.delete("filter"); }
        return "?" + params.toString();
      },
      dashboard: function (value) {
        if (!value) { return window.dash_clientside.no_update; }
        var params = new URLSearchParams(window.location.search);
        if (params.get("dashboard") === value || (!params.get("dashboard") && value === "default")) {
          return window.dash_clientside.no_update;
        }
        params.delete("drill");  // a drill names a widget of the dashboard left
        // and the variables (var-NAME) are those of the dashboard left
        Array.from(params.keys()).filter(function (k) { return k.indexOf("var-") === 0; })
          .forEach(function (k) { params.delete(k); });
        params.set("dashboard", value);
        return "?" + params.toString();
      },
      copyLink: function (clicks, values, controls, current) {
        // the page's URL with its dashboard, range and every variable's value (those still at
        // their defaults are not in the URL yet), put on the clipboard
        if (!clicks) { return window.dash_clientside.no_update; }
        var params = new URLSearchParams(window.location.search);
        if (!params.has("dashboard") && current) { params.set("dashboard", current); }
        (controls || []).forEach(function (control, i) {
          var key = "var-" + control.name;
          var value = values[i];
          if (params.has(key) || value === null || value === undefined) { return; }
          (Array.isArray(value) ? value : [value]).forEach(function (v) { params.append(key, v); });
        });
        var link = window.location.origin + window.location.pathname + "?" + params.toString();
        copyText(link);
        return ["Link copied", link];
      },
    },
  });

  function copyText(text) {
    // the Clipboard API where the page may use it, else a selected text area and "copy"
    function fallback() {
      var area = document.createElement("textarea");
      area.value = text;
      area.setAttribute("readonly", "");
      area.style.position = "fixed";
      area.style.opacity = "0";
      document.body.appendChild(area);
      area.select();
      try { document.execCommand("copy"); } catch (e) { /* the link is still in the title */ }
      document.body.removeChild(area);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).catch(fallback);
    } else {
      fallback();
    }
  }
})();
