// Regression tests for what `npm run fuzz` found. Each case in fuzzCases.json is a seed of the fuzz corpus
// (test/fuzz/corpus/) with the recorded mutations that broke a loader before its fix (scripts/fuzz/mutate.ts
// replays them), and the one-line refusal expected now. Before the fixes these cases hung (tfjs-layers looping
// forever on a node that never comes, a GIF frame of 4 billion pixels), failed later inside a prediction with
// tfjs's own words, leaked a TypeError/RangeError or an HDF5-DIAG dump, or printed a two-line message.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { applyOps, writeFiles, type Files, type Op } from '../../../scripts/fuzz/mutate';
import { initBackend } from '../../../src/engine/backend';
import { readImageFile } from '../../../src/engine/image/decode';
import { loadAnyModel } from '../../../src/engine/model/loadModel';
import { tmpDir } from '../helpers';
import cases from './fuzzCases.json';

interface FuzzCase {
  name: string;
  target: 'tfjs' | 'keras' | 'image' | 'onnx';
  seed: string;
  entry: string;
  weights?: string;
  ops: Op[];
  expect: string;
}

/** test/fuzz/corpus, found from the bundled test (dist/test/unit/hostile) or the sources. */
function corpusDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    const p = path.join(dir, 'test', 'fuzz', 'corpus');
    if (fs.existsSync(p)) return p;
    dir = path.dirname(dir);
  }
  throw new Error(`test/fuzz/corpus not found above ${__dirname}`);
}

/** The seed's files: a folder's files (a model with its shards) or one file. */
function seedFiles(seed: string): Files {
  const p = path.join(corpusDir(), seed);
  const files: Files = new Map();
  if (fs.statSync(p).isDirectory()) {
    for (const f of fs.readdirSync(p)) files.set(f, new Uint8Array(fs.readFileSync(path.join(p, f))));
  } else {
    files.set(path.basename(p), new Uint8Array(fs.readFileSync(p)));
  }
  return files;
}

function listing(dir: string): string {
  return fs.readdirSync(dir).sort().map((f) => `${f} ${fs.lstatSync(path.join(dir, f)).size}`).join('\n');
}

describe('hostile inputs found by fuzzing (npm run fuzz)', function () {
  this.timeout(60000);
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
  });

  for (const c of cases as FuzzCase[]) {
    it(`${c.target}: ${c.name}`, async () => {
      const dir = tmpDir('cnn-lens-hostile-');
      try {
        const files = applyOps(seedFiles(c.seed), c.ops);
        writeFiles(dir, files);
        const before = listing(dir);
        const entry = path.join(dir, c.entry);
        const t0 = Date.now();
        const run = c.target === 'image' ? readImageFile(entry) : loadAnyModel(entry, { weightsFile: c.weights ? path.join(dir, c.weights) : undefined });
        await assert.rejects(run, (e: Error) => {
          assert.equal(e.name, 'LensError', `${e.name}: ${e.message}`);
          assert.ok(!e.message.includes('\n'), `one line: ${JSON.stringify(e.message)}`);
          assert.ok(e.message.startsWith(dir), `names the file: ${e.message}`);
          assert.match(e.message, new RegExp(c.expect));
          // A failed trial run keeps tfjs's error as the cause (the engine can tell a wasm trap from it).
          if (/cannot run/.test(c.expect)) assert.ok((e as Error & { cause?: unknown }).cause instanceof Error, 'keeps the cause');
          return true;
        });
        assert.ok(Date.now() - t0 < 10000, `took ${Date.now() - t0} ms`);
        assert.equal(listing(dir), before, 'nothing written beside the file');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('the unmutated seeds of those cases load (so each refusal comes from its mutations)', async () => {
    const seeds = new Map<string, FuzzCase>();
    for (const c of cases as FuzzCase[]) seeds.set(c.seed, c);
    for (const c of seeds.values()) {
      const dir = tmpDir('cnn-lens-hostile-');
      try {
        for (const [name, b] of seedFiles(c.seed)) fs.writeFileSync(path.join(dir, name), b);
        const entry = path.join(dir, c.entry);
        if (c.target === 'image') {
          const img = await readImageFile(entry);
          assert.ok(img.width > 0 && img.height > 0);
        } else {
          const m = await loadAnyModel(entry, { weightsFile: c.weights ? path.join(dir, c.weights) : undefined });
          assert.ok(m.numClasses >= 2, `${c.seed}: ${m.numClasses} classes`);
          m.dispose();
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
