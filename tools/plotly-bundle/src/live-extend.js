'use strict';

/*
 * Plotly.extendTracesLive(gd, update, indices, maxPoints): Plotly.extendTraces for a live chart,
 * without its full redraw.
 *
 * extendTraces redraws the whole plot (supplyDefaults, margins, layout styles, axes, data, drag
 * boxes): about 10 ms for a 1,000-point line chart, half of it spent on what new points never
 * change. A chart that already shows scatter traces only needs what relayout does for a new axis
 * range (plot_api.js addAxRangeSequence) after the traces' calcdata is made again: calc, autorange,
 * axes, data. Anything else (other trace types, a chart not drawn yet, a transition) takes
 * extendTraces' own path, so the result is the same either way.
 */

var Lib = require('plotly.js/src/lib');
var Registry = require('plotly.js/src/registry');
var Plots = require('plotly.js/src/plots/plots');
var Axes = require('plotly.js/src/plots/cartesian/axes');
var subroutines = require('plotly.js/src/plot_api/subroutines');
var plotApi = require('plotly.js/src/plot_api/plot_api');

// Whether this chart's traces at `indices` can take the short path.
function fastOk(gd, update, indices) {
    var fullLayout = gd._fullLayout;
    var fullData = gd._fullData;
    if (!fullLayout || !fullData || !gd.calcdata || gd._transitioning || gd._transitioningWithDuration) {
        return false;
    }
    if (fullData.length !== gd.data.length || gd.calcdata.length !== fullData.length) return false;
    if (!fullLayout._has('cartesian') || fullLayout._has('gl')) return false;
    if (!Array.isArray(update.x) || !Array.isArray(update.y)) return false;
    for (var j = 0; j < indices.length; j++) {
        var i = indices[j];
        var trace = gd.data[i];
        var full = fullData[i];
        if (!trace || !full || full.index !== i || full._input !== trace || full.type !== 'scatter') return false;
        if (full.x !== trace.x || full.y !== trace.y) return false; // not as supplyDefaults left it
        if (!Array.isArray(trace.x) || !Array.isArray(trace.y) || trace.x.length !== trace.y.length) return false;
        if (full._length !== trace.x.length) return false;
        if (!Array.isArray(update.x[j]) || !Array.isArray(update.y[j])) return false;
        if (update.x[j].length !== update.y[j].length) return false;
    }
    return true;
}

module.exports = function extendTracesLive(gd, update, indices, maxPoints) {
    gd = Lib.getGraphDiv(gd);
    if (!fastOk(gd, update, indices)) return plotApi.extendTraces(gd, update, indices, maxPoints);

    var fullData = gd._fullData;
    for (var j = 0; j < indices.length; j++) {
        var i = indices[j];
        var trace = gd.data[i];
        var max = Array.isArray(maxPoints) ? maxPoints[j] : maxPoints;
        // as extendTraces: new arrays, the oldest points cut to keep `max`
        var x = trace.x.concat(update.x[j]);
        var y = trace.y.concat(update.y[j]);
        if (max >= 0 && max < x.length) {
            x.splice(0, x.length - max);
            y.splice(0, y.length - max);
        }
        trace.x = fullData[i].x = x;
        trace.y = fullData[i].y = y;
        fullData[i]._length = x.length;
    }

    Plots.doCalcdata(gd);
    var before = {};
    var seq = [
        Registry.getComponentMethod('shapes', 'calcAutorange'),
        function (gd) {
            Axes.list(gd, '', true).forEach(function (ax) {
                before[ax._id] = ax.range.slice();
            });
        },
        subroutines.doAutoRangeAndConstraints,
        function (gd) {
            // only the axes whose range moved (relayout's rule): a still axis keeps its ticks
            var moved = Axes.list(gd, '', true)
                .filter(function (ax) {
                    var was = before[ax._id];
                    return !was || was[0] !== ax.range[0] || was[1] !== ax.range[1];
                })
                .map(function (ax) {
                    return ax._id;
                });
            return moved.length ? Axes.draw(gd, moved, { skipTitle: true }) : undefined;
        },
        subroutines.drawData,
        subroutines.finalDraw,
        Plots.rehover,
        Plots.redrag,
        Plots.reselect,
        Plots.previousPromises
    ];
    var done = Lib.syncOrAsync(seq, gd);
    if (!done || !done.then) done = Promise.resolve();
    return done.then(function () {
        gd.emit('plotly_afterplot');
        return gd;
    });
};
