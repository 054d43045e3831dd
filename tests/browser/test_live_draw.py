"""The live draw path (``Plotly.extendTracesLive`` in the dashboard's plotly bundle) against
``Plotly.extendTraces``: the same points give the same data, ranges, line, ticks and shapes.

Two copies of a real chart of the page are drawn side by side with the page's own plotly.js;
one takes every update through ``extendTraces`` (a full redraw), the other through the live
path, and after each update what a user sees of both is compared.
"""

from __future__ import annotations

import pytest

from tests.browser.test_live_page import open_dashboard

pytestmark = pytest.mark.browser

# arguments: the source chart's id, then a list of steps; each step is
#   {"points": [[x, y], ...], "max": n} (extend trace 0 of both copies), or
#   {"relayout": {...}} (the same relayout on both, e.g. a zoom), or
#   {"bar": true} (start both copies over as a bar chart: the live path must fall back).
# Returns, per step, what differs between the two copies (an empty list when nothing does).
COMPARE = """
var done = arguments[arguments.length - 1];
var source = document.getElementById(arguments[0]).querySelector('.js-plotly-plot');
var steps = arguments[1];
var P = window.Plotly;
function copy(o) { return JSON.parse(JSON.stringify(o)); }
function box(id) {
  var d = document.createElement('div');
  d.id = id;
  d.style.cssText = 'position:fixed;left:0;top:0;width:640px;height:320px;background:#fff';
  document.body.appendChild(d);
  return d;
}
var a = box('compare-full'), b = box('compare-live');
var layout = copy(source.layout);
layout.shapes = [{type: 'line', xref: 'paper', x0: 0, x1: 1, y0: 150, y1: 150,
                  line: {color: 'red', width: 1, dash: 'dash'}}];
var data = [{type: 'scatter', mode: 'lines', x: source.data[0].x.slice(),
             y: source.data[0].y.slice(), line: {width: 1.5}}];
function seen(gd) {
  // sorted: an axis redrawn in place may keep its ticks' elements in another order
  function texts(sel) {
    return Array.prototype.map.call(gd.querySelectorAll(sel), function (e) {
      return e.textContent + '@' + e.getAttribute('transform');
    }).sort();
  }
  function attrs(sel, name) {
    return Array.prototype.map.call(gd.querySelectorAll(sel), function (e) {
      return e.getAttribute(name);
    }).sort();
  }
  var fl = gd._fullLayout;
  return {
    x: JSON.stringify(gd.data.map(function (t) { return t.x; })),
    y: JSON.stringify(gd.data.map(function (t) { return t.y; })),
    xrange: JSON.stringify(fl.xaxis.range), yrange: JSON.stringify(fl.yaxis.range),
    line: JSON.stringify(attrs('.scatterlayer path.js-line', 'd')),
    bars: JSON.stringify(attrs('.barlayer path', 'd')),
    xticks: JSON.stringify(texts('.xtick text')), yticks: JSON.stringify(texts('.ytick text')),
    grid: JSON.stringify(attrs('.ygrid', 'transform')),
    shapes: JSON.stringify(attrs('.shapelayer path', 'd')),
    layoutRange: JSON.stringify([gd.layout.xaxis.range, gd.layout.yaxis.range])
  };
}
function diff() {
  var sa = seen(a), sb = seen(b), out = [];
  Object.keys(sa).forEach(function (k) {
    if (sa[k] !== sb[k]) { out.push(k + ': ' + sa[k] + ' | ' + sb[k]); }
  });
  return out;
}
var results = [];
var chain = Promise.all([P.newPlot(a, copy(data), copy(layout)),
                         P.newPlot(b, copy(data), copy(layout))]);
steps.forEach(function (s) {
  chain = chain.then(function () {
    if (s.bar) {
      var bar = [{type: 'bar', x: data[0].x.slice(-20), y: data[0].y.slice(-20)}];
      return Promise.all([P.newPlot(a, copy(bar), copy(layout)),
                          P.newPlot(b, copy(bar), copy(layout))]);
    }
    if (s.relayout) { return Promise.all([P.relayout(a, s.relayout), P.relayout(b, s.relayout)]); }
    var xs = s.points.map(function (p) { return p[0]; });
    var ys = s.points.map(function (p) { return p[1]; });
    return Promise.all([P.extendTraces(a, {x: [xs.slice()], y: [ys.slice()]}, [0], s.max),
                        P.extendTracesLive(b, {x: [xs.slice()], y: [ys.slice()]}, [0], s.max)]);
  }).then(function () { results.push(diff()); });
});
chain.then(function () {
  var n = b.data[0].x.length;
  a.remove(); b.remove();
  done({results: results, points: n});
}, function (e) { done({error: String(e)}); });
"""


def test_the_live_draw_path_shows_what_a_full_redraw_shows(dash_br, live_server):
    """New points, a spike that widens the y axis, a threshold line, points cut off the start,
    a zoomed-in chart and a bar chart: after each, the copy drawn by the live path shows exactly
    what the copy redrawn by ``extendTraces`` shows (data, ranges, line, ticks, grid, shapes)."""
    open_dashboard(dash_br, live_server)
    last = dash_br.driver.execute_script(
        "var gd = document.querySelector('#widget-line-users-graph .js-plotly-plot');"
        "var x = gd.data[0].x; return [x[x.length - 1], x.length];"
    )
    t, n = int(last[0]), int(last[1])
    steps = [
        {"points": [[t + 1000, 120.0]], "max": n + 1},
        {"points": [[t + 2000, 121.0], [t + 3000, 119.5]], "max": n + 3},
        {"points": [[t + 4000, 1e6]], "max": n + 4},  # a spike: the y axis widens
        {"points": [[t + 5000, 118.0]], "max": 50},  # the oldest points cut off: x narrows
        {"relayout": {"xaxis.range": [t - 30_000, t + 10_000]}},  # zoomed in: x stays put
        {"points": [[t + 6000, 117.0]], "max": 50},
        {"relayout": {"xaxis.autorange": True}},
        {"points": [[t + 7000, -5.0]], "max": 50},  # below the threshold line: y widens down
        {"bar": True},
        {"points": [[t + 8000, 3.0]], "max": 25},  # a bar trace takes extendTraces' own path
    ]
    answer = dash_br.driver.execute_async_script(COMPARE, "widget-line-users-graph", steps)
    assert "error" not in answer, answer
    assert answer["results"] == [[] for _ in steps]
    assert answer["points"] == 21  # the bar copy: its 20 bars and the new one
    assert dash_br.get_logs() == []
