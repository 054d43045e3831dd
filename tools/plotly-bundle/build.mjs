// Bundles src/index.js into ../../assets/vendor/plotly-dashboard.min.js (run by build.sh).
// PLOTLY_METAFILE=/tmp/meta.json node build.mjs also writes esbuild's metafile, to see what
// each package costs (esbuild --analyze style).
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const version = require('plotly.js/package.json').version;
const copyright = readFileSync(require.resolve('plotly.js/LICENSE'), 'utf8').match(/Copyright .*/)[0];
const outfile = join(here, '..', '..', 'assets', 'vendor', 'plotly-dashboard.min.js');

// The header plotly puts on its dist bundles (tasks/util/constants.js), naming this bundle.
const banner = `/**
* plotly.js (dashboard partial bundle - minified) v${version}
* ${copyright}
* Licensed under the MIT license: see plotly-dashboard.LICENSE
* Built by tools/plotly-bundle: scatter, bar, pie; shapes, legend, fx, modebar.
*/`;

// registry.js requires maplibre-gl's CSS behind `if (map subplot)`; no map trace is
// registered here, so the import is dead and must not pull 81 kB of CSS into the build.
const noCss = {
    name: 'no-css',
    setup(build) {
        build.onResolve({ filter: /\.css$/ }, (args) => ({ path: args.path, namespace: 'no-css' }));
        build.onLoad({ filter: /.*/, namespace: 'no-css' }, () => ({ contents: '', loader: 'js' }));
    }
};

// Bare imports that plotly.js's sources make, redirected to a smaller module in src/ that gives
// them what they use (each file says why). Only the bare name is redirected, so the shims' own
// imports (`culori/css`, `gl-mat4/invert`, ...) resolve as usual.
const shims = {
    // the Color module's five culori functions, over the CSS colour spaces
    culori: 'culori.mjs',
    // two 4x4 matrix functions
    'gl-mat4': 'gl-mat4.js',
    // select/lasso polygon merging, which the dashboard never reaches
    polybooljs: 'polybool.js'
};
const shimImports = {
    name: 'shim-imports',
    setup(build) {
        const filter = new RegExp('^(' + Object.keys(shims).join('|') + ')$');
        build.onResolve({ filter }, (args) => ({ path: join(here, 'src', shims[args.path]) }));
    }
};

// plotly's dist bundles drop the attribute docs (the plot schema's `description` texts and a
// few other meta keys) at build time: the same regexes as plotly.js's tasks/compress_attributes.js,
// applied, as there, to plotly.js's own sources.
const metaKeys = (() => {
    const around = (body) => new RegExp('\\s*' + body + ',?', 'g');
    return [
        around("description: '.*'"),
        around('description: \\[[\\s\\S]*?\\]\\.join\\([\\s\\S]*?\\)'),
        around('requiredOpts: \\[[\\s\\S]*?\\]'),
        around('otherOpts: \\[[\\s\\S]*?\\]'),
        around("role: '.*'"),
        around("hrName: '.*'")
    ];
})();
const stripMeta = {
    name: 'strip-meta-attributes',
    setup(build) {
        build.onLoad({ filter: /[\\/]node_modules[\\/]plotly\.js[\\/]src[\\/].*\.js$/ }, async (args) => {
            let contents = await readFile(args.path, 'utf8');
            for (const re of metaKeys) contents = contents.replace(re, '');
            return { contents, loader: 'js' };
        });
    }
};

await esbuild.build({
    entryPoints: [join(here, 'src', 'index.js')],
    outfile,
    // plotly's own esbuild settings (esbuild-config.js), minified as its dist bundles are
    bundle: true,
    format: 'iife',
    globalName: 'Plotly',
    minify: true,
    target: 'es2016',
    define: { global: 'window', 'define.amd': 'false' },
    plugins: [noCss, shimImports, stripMeta],
    banner: { js: banner },
    // the iife's `var Plotly` is a global only at a script's top level; say it outright, as
    // plotly's dist bundles do, since dcc.Graph looks for window.Plotly
    footer: { js: 'window.Plotly=Plotly;' },
    legalComments: 'eof',
    metafile: process.env.PLOTLY_METAFILE ? true : false,
    logLevel: 'info'
}).then((result) => {
    if (result.metafile) {
        writeFileSync(process.env.PLOTLY_METAFILE, JSON.stringify(result.metafile));
    }
});
