// An audit's memory does not grow with the number of images: the same folder layout with N and with 4N
// images, through the functions `cnn-lens audit` and the Audit panel use (scanImageFolder, runAudit).
// Tensors: none more while classifying than before, the same count after N as after 4N images, and the
// count from before the model was loaded once it is disposed. Pictures: made only for the images shown
// (the same number for N and 4N once the gallery is full), and nothing in the report holds pixel data.
// Heap: after a forced garbage collection, what the 4N run keeps alive beyond the N run is far less than
// one decoded image per extra image.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/engine/backend';
import { runAudit } from '../../../src/engine/audit/run';
import { scanImageFolder } from '../../../src/engine/audit/scan';
import { loadAnyModel, type LoadedModel } from '../../../src/engine/model/loadModel';
import type { AuditReport } from '../../../src/shared/auditRecords';
import { saveLayersModel, tmpDir, writePng } from '../helpers';
import { colourModel, LABELS } from './colourModel';

/** The images' size (resized to the model's input by the engine, as a user's photos are). */
const IMG = 256;
const LIMITS = { gallery: 3, leastConfident: 2 };
const N = 12;

/** n solid-colour images, a third per class folder; every second one is a mistake (its strongest channel is the next class). */
function writeFolder(dir: string, n: number): { mistakes: number; correct: number } {
  let mistakes = 0;
  for (let i = 0; i < n; i++) {
    const truth = i % 3;
    const wrong = i % 2 === 1;
    const strong = wrong ? (truth + 1) % 3 : truth;
    const rgb = [30, 30, 30];
    rgb[strong] = 120 + ((i * 7) % 120);
    fs.mkdirSync(path.join(dir, LABELS[truth]), { recursive: true });
    writePng(path.join(dir, LABELS[truth], `i${String(i).padStart(4, '0')}.png`), IMG, IMG, () => rgb);
    if (wrong) mistakes++;
  }
  return { mistakes, correct: n - mistakes };
}

/** Every typed array, ArrayBuffer, tensor or data: URL reachable from `v`, by path. */
function pixelHolders(v: unknown, at = 'report', seen = new Set<unknown>()): string[] {
  if (v === null || typeof v !== 'object') return typeof v === 'string' && v.startsWith('data:') ? [at] : [];
  if (seen.has(v)) return [];
  seen.add(v);
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof tf.Tensor) return [at];
  return Object.entries(v).flatMap(([k, x]) => pixelHolders(x, `${at}.${k}`, seen));
}

/** Bytes alive on the JS heap and in ArrayBuffers (decoded images live there) after full garbage collections. */
function retainedBytes(): number {
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

interface Run {
  report: AuditReport;
  /** Pictures handed to the sink: name and bytes. */
  pictures: { name: string; bytes: number }[];
  /** tf.memory().numTensors at each progress call while classifying. */
  tensorsWhileClassifying: number[];
  /** Pixel holders found in the report as it stood during the run. */
  heldDuring: string[];
}

async function audit(model: LoadedModel, folder: string): Promise<Run> {
  const pictures: Run['pictures'] = [];
  const tensorsWhileClassifying: number[] = [];
  const heldDuring: string[] = [];
  const plan = scanImageFolder(folder, LABELS);
  const report = await runAudit(
    model,
    folder,
    plan,
    { method: 'gradcam', preprocess: 'raw', k: 2, limits: LIMITS },
    (name, png) => {
      pictures.push({ name, bytes: png.length });
      return `images/${name}`;
    },
    {
      onProgress: ({ stage, done, report: now }) => {
        if (stage !== 'classifying') return;
        tensorsWhileClassifying.push(tf.memory().numTensors);
        if (done > 0 && done % 10 === 0) heldDuring.push(...pixelHolders(now()));
      },
    },
  );
  return { report, pictures, tensorsWhileClassifying, heldDuring };
}

describe('audit memory does not grow with the number of images', function () {
  this.timeout(120000);
  let dir: string;
  let modelFile: string;
  const small = { folder: '', mistakes: 0, correct: 0 };
  const large = { folder: '', mistakes: 0, correct: 0 };

  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
    dir = tmpDir('cnn-lens-audit-memory-');
    const built = colourModel();
    modelFile = await saveLayersModel(built, path.join(dir, 'model'), { metadata: { labels: LABELS } });
    built.dispose();
    small.folder = path.join(dir, 'small');
    Object.assign(small, writeFolder(small.folder, N));
    large.folder = path.join(dir, 'large');
    Object.assign(large, writeFolder(large.folder, 4 * N));
  });

  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('leaves no tensor behind: none more while classifying, the same after N and 4N images, none once the model is disposed', async () => {
    const beforeLoad = tf.memory().numTensors;
    const model = await loadAnyModel(modelFile);
    const loaded = tf.memory().numTensors;
    const a = await audit(model, small.folder);
    const afterSmall = tf.memory().numTensors;
    const b = await audit(model, large.folder);
    const afterLarge = tf.memory().numTensors;
    model.dispose();
    assert.equal(a.report.images, N);
    assert.equal(b.report.images, 4 * N);
    assert.equal(b.tensorsWhileClassifying.length, 4 * N + 1);
    // The first heatmap may prepare (and keep, until the model is disposed) a few gradient helpers; the
    // second audit starts after it, so its classification must stay exactly at that count.
    assert.deepEqual([...new Set(a.tensorsWhileClassifying)], [loaded], 'tensors while classifying N images');
    assert.deepEqual([...new Set(b.tensorsWhileClassifying)], [afterSmall], 'tensors while classifying 4N images');
    assert.equal(afterLarge, afterSmall, 'tensors after 4N images vs after N');
    assert.equal(tf.memory().numTensors, beforeLoad, 'tensors once the model is disposed');
  });

  it('makes pictures only for the images shown, and keeps no pixels per image', async () => {
    const model = await loadAnyModel(modelFile);
    try {
      const a = await audit(model, small.folder);
      const b = await audit(model, large.folder);
      // Both folders have more mistakes and correct images than the report shows.
      assert.ok(small.mistakes > LIMITS.gallery && small.correct > LIMITS.leastConfident);
      // Shown: LIMITS.gallery mistakes (thumbnail + heatmap of the predicted and of the true class) and
      // LIMITS.leastConfident correct images (thumbnail + one heatmap).
      const expected = LIMITS.gallery * 3 + LIMITS.leastConfident * 2;
      for (const [r, n, f] of [[a, N, small], [b, 4 * N, large]] as const) {
        assert.equal(r.report.images, n);
        assert.equal(r.report.misclassified.length, f.mistakes);
        assert.equal(r.report.gallery.length, LIMITS.gallery);
        assert.equal(r.report.leastConfident.length, LIMITS.leastConfident);
        assert.equal(r.pictures.length, expected, `pictures for ${n} images: ${r.pictures.map((p) => p.name).join(' ')}`);
        // Every picture belongs to a shown image.
        const shown = [...r.report.gallery, ...r.report.leastConfident];
        const linked = shown.flatMap((g) => Object.values(g.files));
        assert.deepEqual(r.pictures.map((p) => `images/${p.name}`).sort(), [...linked].sort());
        assert.deepEqual(pixelHolders(r.report), [], `pixel data in the report of ${n} images`);
        assert.deepEqual(r.heldDuring, [], `pixel data in the report during the run of ${n} images`);
      }
      // What the report keeps beyond the shown images grows by a small record per mistake, nothing per
      // correct image: at most 200 bytes of JSON per extra image (an 8×8 RGBA image alone is 256 bytes).
      const size = (r: AuditReport) => JSON.stringify({ ...r, elapsedMs: 0, folder: '', gallery: [], leastConfident: [] }).length;
      const perImage = (size(b.report) - size(a.report)) / (3 * N);
      assert.ok(perImage <= 200, `${perImage.toFixed(0)} bytes per extra image`);
      assert.equal(b.report.gallery.length + b.report.leastConfident.length, a.report.gallery.length + a.report.leastConfident.length);
    } finally {
      model.dispose();
    }
  });

  it('keeps far less than a decoded image alive per image once the run is over', async () => {
    const model = await loadAnyModel(modelFile);
    try {
      // A first run of each size warms up what is made once (compiled code, the gradient helpers).
      await audit(model, small.folder);
      await audit(model, large.folder);
      const base = retainedBytes();
      const a = await audit(model, small.folder);
      const afterSmall = retainedBytes() - base;
      const b = await audit(model, large.folder);
      const afterLarge = retainedBytes() - base - afterSmall;
      assert.equal(a.report.images + b.report.images, 5 * N);
      // Both results are still referenced here; the large one may keep more only by small records. (The
      // heap's own variation between such runs is up to ~250 KB here, under 7 KB per extra image.)
      const decoded = IMG * IMG * 4;
      const perImage = (afterLarge - afterSmall) / (3 * N);
      assert.ok(perImage < decoded / 8, `${Math.round(perImage)} bytes kept per extra image (one decoded image: ${decoded})`);
    } finally {
      model.dispose();
    }
  });
});
