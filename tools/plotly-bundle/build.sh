#!/bin/sh
# Builds assets/vendor/plotly-dashboard.min.js, the dashboard's plotly.js partial bundle
# (plotly.js and esbuild at the exact versions package-lock.json pins).
# The plotly.js version must stay the one the installed Python plotly ships (plotly.js 4.1.1 for
# plotly 7.1.0): dcc.Graph draws plotly-built figures with whatever window.Plotly is.
set -eu
cd "$(dirname "$0")"
npm ci --ignore-scripts --no-audit --no-fund
node build.mjs
