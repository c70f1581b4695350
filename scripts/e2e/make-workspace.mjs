// Makes a fresh workspace for the end-to-end suite:  node scripts/e2e/make-workspace.mjs <dir>
//   - sample images (with samples.json) and demo models from media/ (copies: the tests write to the workspace);
//   - a generated image, so there is always one, and a text file (for "no CNN Lens entries here");
//   - models/tm-waste-12: a link to the shared fixture when present (never copied into the repo);
//   - .vscode/settings.json pointing cnnLens.model at the tm-waste-12 fixture, else the demo model.
// Prints a JSON line describing what it made.
/* global process, console */
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ws = resolve(process.argv[2] ?? join(repo, '.e2e', 'ws'));
const require = createRequire(join(repo, 'package.json'));
const { PNG } = require('pngjs');

rmSync(ws, { recursive: true, force: true });
mkdirSync(join(ws, '.vscode'), { recursive: true });
const made = { workspace: ws, images: [], demoModels: [], fixtures: [], model: null };

// Media: images anywhere under media/ (not the icons), and folders holding a model.json.
const media = join(repo, 'media');
const walk = (dir) => (existsSync(dir) ? readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? walk(join(dir, n)) : [join(dir, n)])) : []);
for (const f of walk(media)) {
  const rel = relative(media, f);
  // Sample images (media/samples) and demo models; not icons, screenshots or example outputs.
  const top = rel.split(/[\\/]/)[0];
  const isModelDir = existsSync(join(dirname(f), 'model.json'));
  if (rel.includes('/') && top !== 'samples' && !isModelDir) continue;
  if (basename(f) === 'samples.json') {
    cpSync(f, join(ws, 'samples.json'));
  } else if (/\.(png|jpe?g|webp|bmp|gif)$/i.test(f) && !existsSync(join(dirname(f), 'model.json'))) {
    cpSync(f, join(ws, basename(f)));
    made.images.push(basename(f));
  } else if (basename(f) === 'model.json') {
    const name = basename(dirname(f)) === 'media' ? 'demo-model' : basename(dirname(f));
    cpSync(dirname(f), join(ws, name), { recursive: true });
    made.demoModels.push(join(name, 'model.json'));
  }
}

// The samples again in ImageFolder layout for the Audit panel: one subfolder per class (the object named
// first in the file name), so the two-object scenes are the likely mistakes.
const samplesDir = join(media, 'samples');
if (existsSync(samplesDir)) {
  for (const f of readdirSync(samplesDir).filter((n) => n.endsWith('.png'))) {
    const cls = basename(f, '.png').split('-')[0];
    mkdirSync(join(ws, 'samples-by-class', cls), { recursive: true });
    cpSync(join(samplesDir, f), join(ws, 'samples-by-class', cls, f));
  }
  made.auditFolder = 'samples-by-class';
}

// A generated 96×96 image: a bright disc on diagonal stripes (something for a heatmap to point at).
const png = new PNG({ width: 96, height: 96 });
for (let y = 0; y < 96; y++) {
  for (let x = 0; x < 96; x++) {
    const i = (y * 96 + x) * 4;
    const disc = (x - 60) ** 2 + (y - 36) ** 2 < 18 ** 2;
    const stripe = Math.floor((x + y) / 8) % 2 === 0;
    png.data[i] = disc ? 250 : stripe ? 40 : 90;
    png.data[i + 1] = disc ? 200 : stripe ? 110 : 140;
    png.data[i + 2] = disc ? 40 : stripe ? 60 : 170;
    png.data[i + 3] = 255;
  }
}
writeFileSync(join(ws, 'generated-disc.png'), PNG.sync.write(png));
made.images.push('generated-disc.png');
writeFileSync(join(ws, 'notes.txt'), 'Not an image: CNN Lens offers nothing here.\n');

// A portrait photo-sized image (9:16), for the fit of tall images in the explain panel.
const PW = 360;
const PH = 640;
const portrait = new PNG({ width: PW, height: PH });
for (let y = 0; y < PH; y++) {
  for (let x = 0; x < PW; x++) {
    const i = (y * PW + x) * 4;
    const disc = (x - 180) ** 2 + (y - 420) ** 2 < 90 ** 2;
    portrait.data[i] = disc ? 240 : 60 + (y * 120) / PH;
    portrait.data[i + 1] = disc ? 120 : 90;
    portrait.data[i + 2] = disc ? 40 : 160 - (y * 100) / PH;
    portrait.data[i + 3] = 255;
  }
}
writeFileSync(join(ws, 'portrait.png'), PNG.sync.write(portrait));
made.images.push('portrait.png');

// A model file that does not load, for the explain panel's error state.
mkdirSync(join(ws, 'broken-model'), { recursive: true });
writeFileSync(join(ws, 'broken-model', 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: null, weightsManifest: [] }));

// Shared fixtures: linked, never copied.
const fixtureRoots = [process.env.CNN_LENS_FIXTURES, join(repo, '..', 'shared', 'fixtures', 'models'), '/work/shared/fixtures/models'].filter(Boolean);
const fixtures = fixtureRoots.find((d) => existsSync(join(d, 'tm-waste-12', 'model.json')));
if (fixtures) {
  mkdirSync(join(ws, 'models'), { recursive: true });
  symlinkSync(join(fixtures, 'tm-waste-12'), join(ws, 'models', 'tm-waste-12'), 'dir');
  made.fixtures.push('models/tm-waste-12/model.json');
  // A Keras 3 file, for the model browser's .keras support.
  const keras = join(fixtures, 'keras3-mnist-subhadip');
  const kerasFile = existsSync(keras) ? readdirSync(keras).find((f) => f.endsWith('.keras')) : undefined;
  if (kerasFile) {
    symlinkSync(keras, join(ws, 'models', 'keras3-mnist'), 'dir');
    made.fixtures.push(`models/keras3-mnist/${kerasFile}`);
  }
}

// The realistic fixture (a MobileNetV2 inside a Teachable Machine model) when present: its methods take
// long enough for cancel checks; the demo model otherwise.
made.model = made.fixtures[0] ?? made.demoModels[0] ?? null;
const settings = { 'files.exclude': { '**/.vscode': true } };
if (made.model) settings['cnnLens.model'] = made.model;
writeFileSync(join(ws, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2));
console.log(JSON.stringify(made));
