/* Time range and dashboard controls: each turns into the page URL's query, which the server
 * renders from (so a link shares the view). The chosen dashboard is kept across range changes. */
(function () {
  "use strict";

  function query(changes) {
    var params = new URLSearchParams(window.location.search);
    ["range", "from", "to"].forEach(function (k) { params.delete(k); });
    Object.keys(changes).forEach(function (k) { params.set(k, changes[k]); });
    return "?" + params.toString();
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    range: {
      preset: function (value) {
        return value ? query({ range: value }) : window.dash_clientside.no_update;
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
        var x = point.x;
        var start = typeof x === "number" ? x : new Date(String(x).replace(" ", "T") + "Z").getTime();
        if (isNaN(start)) { return window.dash_clientside.no_update; }
        return query({ from: start, to: start + Number(point.customdata) - 1 });
      },
      dashboard: function (value) {
        if (!value) { return window.dash_clientside.no_update; }
        var params = new URLSearchParams(window.location.search);
        if (params.get("dashboard") === value || (!params.get("dashboard") && value === "default")) {
          return window.dash_clientside.no_update;
        }
        params.set("dashboard", value);
        return "?" + params.toString();
      },
    },
  });
})();
