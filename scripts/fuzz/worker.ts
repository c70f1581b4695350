// The fuzzer's child process: runs one loader at a time on the files the parent wrote, and answers with the
// outcome. The parent (fuzz.ts) owns the watchdog: a case that does not answer in time, or a child that dies
// (abort, segfault, out of memory), is a failure there. Nothing here catches more than the loaders' errors.
import * as tf from '@tensorflow/tfjs-core';
import * as path from 'node:path';
import { initBackend, type BackendPreference } from '../../src/engine/backend';
import { blackInput, predict } from '../../src/engine/explain';
import { readImageFile } from '../../src/engine/image/decode';
import { loadAnyModel } from '../../src/engine/model/loadModel';

export interface CaseRequest {
  id: number;
  target: 'tfjs' | 'keras' | 'image' | 'onnx';
  /** Absolute path of the file to open. */
  entry: string;
  /** Keras architecture JSON: its weights file. */
  weights?: string;
}

export interface CaseReply {
  id: number;
  ok: boolean;
  /** What was done when ok (e.g. "loaded, predicted 3 classes"). */
  detail?: string;
  name?: string;
  message?: string;
  stack?: string;
  ms: number;
  rssMB: number;
  /** Tensors alive after the case (a leak shows as growth across cases). */
  tensors: number;
  /** Absolute paths the case opened (as given to fs, links not resolved): the parent checks they stay inside. */
  opened?: string[];
}

const opened = new Set<string>();

/**
 * Records every path opened through Node's fs from now on (the loaders' reads, and h5wasm's, which goes through
 * fs.openSync). Patches the module objects themselves: the bundled code reads fs functions through them.
 */
function watchOpens(): void {
  const record = (p: unknown) => {
    if (typeof p === 'string' || p instanceof URL || Buffer.isBuffer(p)) opened.add(path.resolve(p instanceof URL ? p.pathname : String(p)));
  };
  const wrap = (obj: Record<string, unknown>, name: string) => {
    const original = obj[name];
    if (typeof original !== 'function') return;
    obj[name] = function (this: unknown, p: unknown, ...rest: unknown[]) {
      record(p);
      return (original as (...a: unknown[]) => unknown).call(this, p, ...rest);
    };
  };
  const nodeFs: Record<string, unknown> = require('node:fs');
  for (const name of ['openSync', 'open', 'readFileSync', 'readFile', 'createReadStream']) wrap(nodeFs, name);
  const promises: Record<string, unknown> = require('node:fs/promises');
  for (const name of ['open', 'readFile']) wrap(promises, name);
}

async function runCase(c: CaseRequest): Promise<string> {
  if (c.target === 'image') {
    const img = await readImageFile(c.entry);
    return `decoded ${img.width}x${img.height}`;
  }
  const m = await loadAnyModel(c.entry, { weightsFile: c.weights });
  try {
    // One forward pass on a black image: a model that loads must also run (or refuse with one line).
    const x = blackInput(m, m.defaultPreprocess);
    try {
      const p = predict(m, x);
      return `loaded ${m.format}, ${m.inputSize.height}x${m.inputSize.width}x${m.inputSize.channels}, predicted ${p.length} classes`;
    } finally {
      x.dispose();
    }
  } finally {
    m.dispose();
  }
}

async function main(): Promise<void> {
  await initBackend((process.env.CNN_LENS_BACKEND as BackendPreference | undefined) ?? 'auto');
  watchOpens();
  process.on('message', async (c: CaseRequest) => {
    const t0 = Date.now();
    opened.clear();
    let reply: CaseReply;
    try {
      const detail = await runCase(c);
      reply = { id: c.id, ok: true, detail, ms: 0, rssMB: 0, tensors: 0 };
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      reply = { id: c.id, ok: false, name: err.name, message: err.message, stack: err.stack, ms: 0, rssMB: 0, tensors: 0 };
    }
    reply.ms = Date.now() - t0;
    reply.rssMB = Math.round(process.memoryUsage().rss / 2 ** 20);
    reply.tensors = tf.memory().numTensors;
    reply.opened = [...opened];
    process.send!(reply);
  });
  // An error that escapes a case (a rejected promise nobody awaited, a throw in a callback) is a fault too.
  process.on('unhandledRejection', (e) => {
    process.send!({ type: 'escaped', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  });
  process.send!({ type: 'ready' });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
