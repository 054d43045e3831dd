'use strict';

// plotly.js's lib/dom.js and lib/matrix.js take gl-mat4's index (every 4x4 matrix function) for
// two of them; give them just those two.
module.exports = {
    invert: require('gl-mat4/invert'),
    multiply: require('gl-mat4/multiply')
};
