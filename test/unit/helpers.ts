// Shared by the unit tests: temporary folders, models saved to disk, images written as files, the fixtures.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { PNG } from 'pngjs';

/** ../shared/fixtures/models beside the repository (or $CNN_LENS_FIXTURES). Absent on some machines. */
export function fixturesDir(): string {
  if (process.env.CNN_LENS_FIXTURES) return process.env.CNN_LENS_FIXTURES;
  return path.resolve(process.cwd(), '..', 'shared', 'fixtures', 'models');
}

/** The fixture's path, or null after printing why the test is skipped. */
export function fixture(...parts: string[]): string | null {
  const p = path.join(fixturesDir(), ...parts);
  if (fs.existsSync(p)) return p;
  console.log(`      (skipped: fixture ${p} is absent)`);
  return null;
}

export function tmpDir(prefix = 'cnn-lens-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Saves a tfjs layers model as model.json + weights.bin in `dir` (what tfjs-node's file:// handler would write). */
export async function saveLayersModel(model: tfl.LayersModel, dir: string, extra: { metadata?: unknown } = {}): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const data = a.weightData instanceof ArrayBuffer ? a.weightData : tf.io.concatenateArrayBuffers(a.weightData as ArrayBuffer[]);
      fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.from(data));
      const json = { format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] };
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (extra.metadata) fs.writeFileSync(path.join(dir, 'metadata.json'), JSON.stringify(extra.metadata));
  return path.join(dir, 'model.json');
}

/** Writes an RGB(A) image given as a function of (x, y) → [r, g, b, a?] as a PNG file. */
export function writePng(file: string, width: number, height: number, pixel: (x: number, y: number) => number[]): string {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b, a = 255] = pixel(x, y);
      const i = (y * width + x) * 4;
      png.data[i] = r;
      png.data[i + 1] = g;
      png.data[i + 2] = b;
      png.data[i + 3] = a;
    }
  }
  fs.writeFileSync(file, PNG.sync.write(png));
  return file;
}

export function readPng(file: string): PNG {
  return PNG.sync.read(fs.readFileSync(file));
}

/** A CliIO that records what a command printed. */
export function captureIO() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), interactive: false, verbose: false }, out, err };
}

/** Lists every file below `dir` (to check that nothing was written). */
export function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out.sort();
}

// ─── numbers ───

/** Largest absolute difference between two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** ∂f/∂x by central differences with step eps, one coordinate at a time. */
export function centralDifferences(f: (x: Float32Array) => number, x: Float32Array, eps: number): Float32Array {
  const g = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const xp = Float32Array.from(x);
    const xm = Float32Array.from(x);
    xp[i] += eps;
    xm[i] -= eps;
    g[i] = (f(xp) - f(xm)) / (2 * eps);
  }
  return g;
}

// ─── the command line ───

/** s×s×3 input → conv1 → max pool → conv 'last_conv' → GAP → Dense(3, softmax): a model CAM applies to. */
export function gapModel(s: number): tfl.LayersModel {
  const init = (seed: number) => tfl.initializers.randomNormal({ mean: 0, stddev: 0.4, seed });
  return tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [s, s, 3], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1), biasInitializer: init(2), name: 'conv1' }),
      tfl.layers.maxPooling2d({ poolSize: 2, name: 'pool' }),
      tfl.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(3), biasInitializer: init(4), name: 'last_conv' }),
      tfl.layers.globalAveragePooling2d({ name: 'gap' }),
      tfl.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(5), name: 'logits' }),
    ],
  });
}
