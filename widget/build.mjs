// Build the widget: widget/src -> assets/widget.js (the launcher) + assets/widget-panel.js (the
// chat panel, loaded on first open). Prints raw and gzipped sizes and fails over budget.
// Usage: node widget/build.mjs
import { build, transform } from 'esbuild';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'widget', 'src');
const out = join(root, 'assets');
const BUDGET = { launcher: 8 * 1024, total: 25 * 1024 }; // gzipped bytes (issue 5)
const common = {
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2020', 'chrome90', 'firefox90', 'safari15'],
  legalComments: 'none',
  charset: 'utf8',
  logLevel: 'warning',
  plugins: [
    {
      // *.css -> a minified string (adopted by the shadow root)
      name: 'css-text',
      setup(b) {
        b.onLoad({ filter: /\.css$/ }, async (args) => {
          const css = await transform(readFileSync(args.path, 'utf8'), { loader: 'css', minify: true });
          return { contents: css.code.trim(), loader: 'text' };
        });
      },
    },
  ],
};

await build({ ...common, entryPoints: [join(src, 'panel.js')], outfile: join(out, 'widget-panel.js') });
const panel = readFileSync(join(out, 'widget-panel.js'));
const version = createHash('sha256').update(panel).digest('hex').slice(0, 10);
await build({
  ...common,
  entryPoints: [join(src, 'widget.js')],
  outfile: join(out, 'widget.js'),
  define: { __PANEL_FILE__: JSON.stringify('widget-panel.js?v=' + version) },
});
const launcher = readFileSync(join(out, 'widget.js'));

const gz = (buf) => gzipSync(buf, { level: 9 }).length;
const kb = (n) => (n / 1024).toFixed(1) + ' KB';
const sizes = { launcher: gz(launcher), panel: gz(panel) };
sizes.total = sizes.launcher + sizes.panel;
console.log(`widget.js        ${kb(launcher.length)}, ${kb(sizes.launcher)} gzipped (budget ${kb(BUDGET.launcher)})`);
console.log(`widget-panel.js  ${kb(panel.length)}, ${kb(sizes.panel)} gzipped`);
console.log(`total            ${kb(sizes.total)} gzipped (budget ${kb(BUDGET.total)})`);
if (sizes.launcher > BUDGET.launcher || sizes.total > BUDGET.total) {
  console.error('the widget is over its size budget');
  process.exit(1);
}
