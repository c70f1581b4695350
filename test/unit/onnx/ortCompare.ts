// Runs an ONNX file with onnxruntime-node (an independent runtime) and with the engine, on the same input.
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { loadAnyModel, type LoadedModel } from '../../../src/engine/model/loadModel';
import { makeRng } from '../../../src/engine/random';

/** A seeded input in ONNX layout (dims as the file's input) and its NHWC form for the engine. */
export function seededInput(dims: number[], seed: number, nchw = true): { onnx: Float32Array; nhwc: tf.Tensor4D } {
  const rng = makeRng(seed);
  const onnx = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => rng() * 2 - 1);
  const t = tf.tensor4d(onnx, dims as [number, number, number, number]);
  const nhwc = nchw ? (tf.transpose(t, [0, 2, 3, 1]) as tf.Tensor4D) : t;
  if (nchw) t.dispose();
  return { onnx, nhwc };
}

export async function runOrt(file: string, input: Float32Array, dims: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file);
  try {
    const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, dims) });
    return out[session.outputNames[0]].data as Float32Array;
  } finally {
    await session.release();
  }
}

/** The model's output 0 as the file defines it (probabilities when it ends in a softmax). */
export function engineOutput(model: LoadedModel, x: tf.Tensor): Float32Array {
  const net = model.network!;
  return tf.tidy(() => {
    const logits = net.logits(x);
    return net.outputActivation === 'linear' ? logits : net.probabilities(logits);
  }).dataSync() as Float32Array;
}

/** Largest |a − b| relative to the largest |b| (1e-12 floor). */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let d = 0;
  let m = 1e-12;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

/**
 * Our gradient `ours` of output `cls` at `x` against central finite differences, (f(x + eps·eᵢ) − f(x − eps·eᵢ)) / 2·eps
 * for every element i, with `forward` running all 2n probes at once (onnxruntime, one batch). Returns the largest
 * |ours − difference| and the largest |difference| (its scale).
 */
export async function vsCentralDifferences(
  x: Float32Array,
  ours: ArrayLike<number>,
  cls: number,
  eps: number,
  forward: (probes: Float32Array[]) => Promise<Float32Array[]>,
): Promise<{ worst: number; scale: number }> {
  const probes: Float32Array[] = [];
  for (let i = 0; i < x.length; i++) {
    for (const s of [1, -1]) {
      const p = Float32Array.from(x);
      p[i] += s * eps;
      probes.push(p);
    }
  }
  const outs = await forward(probes);
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < x.length; i++) {
    const fd = (outs[2 * i][cls] - outs[2 * i + 1][cls]) / (2 * eps);
    worst = Math.max(worst, Math.abs(fd - ours[i]));
    scale = Math.max(scale, Math.abs(fd));
  }
  return { worst, scale };
}

/** Loads the file, runs both runtimes on a seeded input, returns the relative error (model disposed). */
export async function compareWithOrt(file: string, dims: number[], seed = 1, nchw = true): Promise<{ err: number; ours: Float32Array; theirs: Float32Array }> {
  const { onnx, nhwc } = seededInput(dims, seed, nchw);
  const theirs = await runOrt(file, onnx, dims);
  const model = await loadAnyModel(file);
  try {
    const ours = engineOutput(model, nhwc);
    return { err: relError(ours, theirs), ours, theirs };
  } finally {
    nhwc.dispose();
    model.dispose();
  }
}
