/* global console, process */
// npm run demo: CNN Lens on the bundled demo model and sample images, through the real command line.
// Writes PNGs into out/ and says what each one shows.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const cli = join(root, 'bin', 'cnn-lens.js');
const model = join(root, 'media', 'demo', 'model.json');
const samples = join(root, 'media', 'samples');
const out = join(root, 'out');

if (!existsSync(join(root, 'dist', 'cli.js'))) {
  console.error('cnn-lens is not built yet: run `npm install` (it builds), or `npm run build`.');
  process.exit(1);
}
for (const p of [model, samples]) {
  if (!existsSync(p)) {
    console.error(`demo: ${p} is missing (the demo model and samples ship in media/; \`npm run train-demo\` remakes them)`);
    process.exit(1);
  }
}
mkdirSync(out, { recursive: true });

/** Runs cnn-lens, shows the command, stops the demo on failure. Returns stdout. */
function lens(args, { json = false } = {}) {
  const shown = ['cnn-lens', ...args.map((a) => (a.startsWith(root) ? a.slice(root.length + 1) : a))].join(' ');
  console.log(`\n$ ${shown}`);
  const r = spawnSync(process.execPath, [cli, ...args, ...(json ? ['--json'] : [])], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) {
    console.error(`demo: that command failed (exit ${r.status})`);
    process.exit(1);
  }
  if (!json) process.stdout.write(r.stdout);
  return r.stdout;
}

const images = readdirSync(samples).filter((f) => /\.(png|jpe?g)$/i.test(f)).sort();
const pairs = images.filter((f) => /-and-/.test(f));
const singles = images.filter((f) => !/-and-/.test(f));
const labels = JSON.parse(readFileSync(join(root, 'media', 'demo', 'metadata.json'), 'utf8')).labels;
const shown = [];
const note = (file, what) => shown.push([file, what]);

console.log(`CNN Lens demo: a small CNN trained on drawn scenes of ${labels.length} shapes (${labels.join(', ')}).`);

lens(['info', model]);
lens(['predict', model, ...images.slice(0, 6).map((f) => join(samples, f)), '--top', '3']);

// Per-class Grad-CAM on a scene with two different objects: each class's map lights up its own object.
const scene = pairs[0] ?? images[0];
const r = JSON.parse(lens(['explain', model, join(samples, scene), '--method', 'gradcam', '--top-k', '2', '--out', join(out, 'gradcam.png')], { json: true }));
for (const e of r.explanations ?? [r]) {
  console.log(`  Grad-CAM for '${e.class.label}' (${(100 * e.class.probability).toFixed(1)}%) → ${e.outputs.png}`);
  note(e.outputs.png, `Grad-CAM for '${e.class.label}' on ${scene}: bright where the ${e.class.label} is`);
}

// Guided Grad-CAM: the fine, pixel-level edges of the top class's object.
const single = singles[0] ?? scene;
lens(['explain', model, join(samples, single), '--method', 'guided-gradcam', '--out', join(out, 'guided-gradcam.png')]);
note(join(out, 'guided-gradcam.png'), `guided Grad-CAM on ${single}: the edges of the object that decided the class`);

// Filter visualization: what each of the first filters of the last conv layer responds to.
const info = JSON.parse(lens(['info', model], { json: true }));
const layer = info.defaultLayer;
lens(['maximize', model, '--layer', layer, '--channels', '0-7', '--steps', '64', '--seed', '1', '--out', join(out, 'filters.png')]);
note(join(out, 'filters.png'), `activation maximization of filters 0–7 of ${layer}: the pattern each filter responds to`);

// A short DeepDream on a sample.
lens(['dream', model, join(samples, single), '--octaves', '2', '--steps', '10', '--seed', '1', '--out', join(out, 'dream.png')]);
note(join(out, 'dream.png'), `DeepDream on ${single}: the shapes the network knows, painted into the picture`);

console.log('\nWrote:');
for (const [file, what] of shown) console.log(`  ${file.startsWith(root) ? file.slice(root.length + 1) : file}  —  ${what}`);
