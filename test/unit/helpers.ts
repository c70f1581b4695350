// Shared by the unit tests: temporary folders, models saved to disk, images written as files, the fixtures.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
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
