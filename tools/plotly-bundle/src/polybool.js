'use strict';

// polybooljs merges several select/lasso polygons (plotly's selections/select.js, only with two
// or more layout.selections or a shift-drag in select/lasso mode). The dashboard never selects:
// its modebar drops select2d and lasso2d and no figure sets dragmode or selections. Fail loudly
// if that changes, rather than carry 14 kB that is never run.
function missing() {
    throw new Error('plotly-dashboard bundle: polygon selection merging is not included');
}

module.exports = { union: missing, difference: missing };
