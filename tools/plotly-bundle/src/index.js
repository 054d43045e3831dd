'use strict';

/*
 * The dashboard's plotly.js: plotly.js/src/core.js with only what the app draws.
 *
 * Traces: scatter (lines, sparklines), bar, pie. Components: shapes (threshold lines), legend,
 * fx (hover, unified hover, clicks), modebar (shown on hover; zoom, pan, reset, PNG download),
 * selections and colorscale (their code is pulled in by the cartesian drag and scatter code anyway,
 * so registering them costs nothing and keeps those code paths as plotly expects).
 * Dropped, unused by the app: annotations, annotations3d, images, updatemenus, sliders,
 * rangeslider, rangeselector, grid, errorbars, colorbar, calendars (world-calendars), and every
 * gl / geo / map / polar / ternary trace.
 *
 * Keep the shape of this file close to plotly.js/src/core.js so a plotly.js upgrade is a diff.
 */

exports.version = require('plotly.js/src/version').version;

// inject promise polyfill
require('native-promise-only');

// inject plot css (plotly ships it prebuilt as a module that adds the rules at load)
require('plotly.js/build/plotcss');

var Registry = require('plotly.js/src/registry');
var register = (exports.register = Registry.register);

// expose plot api methods, and register them all (Registry.call uses the private ones too)
var plotApi = require('plotly.js/src/plot_api');
var methodNames = Object.keys(plotApi);
for (var i = 0; i < methodNames.length; i++) {
    var name = methodNames[i];
    if (name.charAt(0) !== '_') exports[name] = plotApi[name];
    register({ moduleType: 'apiMethod', name: name, fn: plotApi[name] });
}

register([
    require('plotly.js/src/traces/scatter'),
    require('plotly.js/src/traces/bar'),
    require('plotly.js/src/traces/pie')
]);

// same order as core.js: legend after shapes (its defaults read shapes), fx after legend
// (unified hover defaults read the legend)
register([
    require('plotly.js/src/components/selections'),
    require('plotly.js/src/components/shapes'),
    require('plotly.js/src/components/colorscale'),
    require('plotly.js/src/components/legend'),
    require('plotly.js/src/components/fx'),
    require('plotly.js/src/components/modebar')
]);

// locales en and en-US are required for default behavior
register([require('plotly.js/src/locale-en'), require('plotly.js/src/locale-en-us')]);

if (window.PlotlyLocales && Array.isArray(window.PlotlyLocales)) {
    register(window.PlotlyLocales);
    delete window.PlotlyLocales;
}

exports.Icons = require('plotly.js/src/fonts/ploticon');

var Fx = require('plotly.js/src/components/fx');
var Plots = require('plotly.js/src/plots/plots');

exports.Plots = {
    resize: Plots.resize,
    graphJson: Plots.graphJson,
    sendDataToCloud: Plots.sendDataToCloud
};
exports.Fx = {
    hover: Fx.hover,
    unhover: Fx.unhover,
    loneHover: Fx.loneHover,
    loneUnhover: Fx.loneUnhover
};
exports.Snapshot = require('plotly.js/src/snapshot');

// not plotly's: extendTraces for live charts without the full redraw (see the file)
exports.extendTracesLive = require('./live-extend');
exports.PlotSchema = require('plotly.js/src/plot_api/plot_schema');
