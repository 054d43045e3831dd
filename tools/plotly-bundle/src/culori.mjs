// plotly.js's Color module does `require('culori')`, which takes culori's whole CommonJS bundle
// (every colour space, interpolation, blending, ...). It uses five functions; this gives it
// those five, with the colour spaces CSS defines registered, so every CSS colour parses as before.
import 'culori/css';

export { converter, formatHex, formatRgb, wcagContrast, wcagLuminance } from 'culori/fn';
