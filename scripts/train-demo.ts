// `npm run train-demo`: trains CNN Lens's demo model on procedurally drawn shape scenes, checks it on
// held-out scenes, and writes media/demo/ (model.json, weights.bin, metadata.json) and media/samples/.
// `npm run make-samples` (this script with --samples-only) rewrites only the sample images and checks
// them against the shipped model.
//
//   node dist/scripts/train-demo.js [--steps N] [--batch N] [--seed N] [--lr X] [--backend wasm|cpu]
//                                   [--threads 1|2] [--samples-only] [--force] [--root DIR]
//
// The model is written only when held-out accuracy reaches 95% (or with --force). With --threads 2
// (the default) a worker thread computes half of every batch, so both cores train.
//
// Why a hand-written training step instead of model.fit: on the wasm backend tfjs has no
// Conv2DBackpropFilter kernel (the cpu fallback takes ~60 s per batch of 32 here, and the cpu backend
// is no faster) and its transposed matmul is slow. So training runs the network with functional ops and
// custom gradients for the 3×3 convolutions (im2col + one matmul for the filter gradient, a
// flipped-kernel convolution for the input gradient) and for 2×2 max pooling. Each convolution is
// followed by batch normalization while training (without it this small net collapses to uniform
// outputs); afterwards the normalization is folded into the convolution's kernel and bias, so the
// shipped tfjs-layers model is plain Conv2D(relu) → MaxPool ... → GlobalAveragePooling → Dense(softmax).
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { initBackend, type BackendPreference } from '../src/engine/backend';
import { SHAPE_CLASSES, mulberry32, randomScene, randomSceneSpec, renderSceneWithBoxes, resizeImage, toUnitRgb, type RgbaImage, type SceneSpec, type ShapeClass } from '../src/demo/scenes';
import { fileLoadHandler, fileSaveHandler } from '../src/demo/modelFiles';
import type { DemoMetadata } from '../src/demo/demoModel';

const IMAGE_SIZE = 64;
const CONV_WIDTHS = [16, 32, 64, 96];
const CONV_NAMES = ['conv1', 'conv2', 'conv3', 'last_conv'];
/** Held-out scenes come from seeds far away from the training stream's. */
const HELDOUT_SEED = 7_000_001;
const SAMPLE_SIZE = 128;

interface Options {
  steps: number;
  batch: number;
  seed: number;
  lr: number;
  backend: BackendPreference;
  samplesOnly: boolean;
  /** 2: a worker thread computes half of each batch. */
  threads: number;
  force: boolean;
  root: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { steps: 1800, batch: 32, seed: 1234, lr: 3e-3, backend: 'wasm', samplesOnly: false, threads: 2, force: false, root: process.cwd() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v)) throw new Error(`train-demo: ${a} needs a number`);
      return v;
    };
    if (a === '--steps') o.steps = num();
    else if (a === '--batch') o.batch = num();
    else if (a === '--seed') o.seed = num();
    else if (a === '--lr') o.lr = num();
    else if (a === '--backend') o.backend = argv[++i] as BackendPreference;
    else if (a === '--samples-only') o.samplesOnly = true;
    else if (a === '--threads') o.threads = num();
    else if (a === '--force') o.force = true;
    else if (a === '--root') o.root = path.resolve(argv[++i]);
    else throw new Error(`train-demo: unknown option ${a}`);
  }
  return o;
}

// ---------------------------------------------------------------------------------------------------
// The model.

const BN_EPSILON = 1e-3;

/** The trained parameters: per convolution a kernel and batch-norm scale/shift, then the classifier. */
interface Params {
  convs: { kernel: tf.Variable; gamma: tf.Variable; beta: tf.Variable }[];
  denseKernel: tf.Variable;
  denseBias: tf.Variable;
}

function initParams(seed: number): Params {
  let inChannels = 3;
  const convs = CONV_WIDTHS.map((filters, i) => {
    const kernel = tf.variable(tfl.initializers.heNormal({ seed: seed + i }).apply([3, 3, inChannels, filters]), true, `train/${CONV_NAMES[i]}/kernel`);
    inChannels = filters;
    return { kernel, gamma: tf.variable(tf.ones([filters]), true, `train/${CONV_NAMES[i]}/gamma`), beta: tf.variable(tf.zeros([filters]), true, `train/${CONV_NAMES[i]}/beta`) };
  });
  const denseKernel = tf.variable(tfl.initializers.glorotUniform({ seed: seed + 100 }).apply([inChannels, SHAPE_CLASSES.length]), true, 'train/predictions/kernel');
  const denseBias = tf.variable(tf.zeros([SHAPE_CLASSES.length]), true, 'train/predictions/bias');
  return { convs, denseKernel, denseBias };
}

function paramList(p: Params): tf.Variable[] {
  return [...p.convs.flatMap((c) => [c.kernel, c.gamma, c.beta]), p.denseKernel, p.denseBias];
}

/** The shipped architecture with the given (folded) conv kernels and biases and classifier weights. */
function buildModel(convKernels: tf.Tensor[], convBiases: tf.Tensor[], denseKernel: tf.Tensor, denseBias: tf.Tensor): tfl.LayersModel {
  const input = tfl.input({ shape: [IMAGE_SIZE, IMAGE_SIZE, 3], name: 'image' });
  let h = input as tfl.SymbolicTensor;
  const convLayers: tfl.layers.Layer[] = [];
  CONV_WIDTHS.forEach((filters, i) => {
    const conv = tfl.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu', name: CONV_NAMES[i] });
    convLayers.push(conv);
    h = conv.apply(h) as tfl.SymbolicTensor;
    if (i < CONV_WIDTHS.length - 1) h = tfl.layers.maxPooling2d({ poolSize: 2, name: `pool${i + 1}` }).apply(h) as tfl.SymbolicTensor;
  });
  const gap = tfl.layers.globalAveragePooling2d({ name: 'gap' }).apply(h) as tfl.SymbolicTensor;
  const dense = tfl.layers.dense({ units: SHAPE_CLASSES.length, activation: 'softmax', name: 'predictions' });
  const out = dense.apply(gap) as tfl.SymbolicTensor;
  const model = tfl.model({ inputs: input, outputs: out, name: 'cnn_lens_demo_shapes' });
  convLayers.forEach((l, i) => l.setWeights([convKernels[i], convBiases[i]]));
  dense.setWeights([denseKernel, denseBias]);
  return model;
}

/** 3×3 stride-1 'same' convolution whose gradients use only fast wasm kernels. */
function makeConv(needInputGrad: boolean) {
  return tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x4, w4, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
    save([x4, w4]);
    return {
      value: tf.conv2d(x4, w4, 1, 'same'),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
        const [b, h, wd, ci] = xs.shape;
        const [kh, kw, , co] = ws.shape;
        const ph = (kh - 1) / 2;
        const pw = (kw - 1) / 2;
        // Filter gradient: im2col with channels first (so the patches come out already transposed),
        // then one plain matmul: dW[(i,j,c), o] = Σ_{b,y,x} X[b, y+i-ph, x+j-pw, c] · dY[b, y, x, o].
        const xt = tf.pad(tf.transpose(xs, [3, 0, 1, 2]), [[0, 0], [0, 0], [ph, ph], [pw, pw]]);
        const cols: tf.Tensor[] = [];
        for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) cols.push(tf.slice(xt, [0, 0, i, j], [ci, b, h, wd]));
        const patchesT = tf.reshape(tf.concat(cols, 0), [kh * kw * ci, b * h * wd]);
        const dW = tf.reshape(tf.matMul(patchesT, tf.reshape(dy, [b * h * wd, co])), [kh, kw, ci, co]);
        // Input gradient: convolution of dY with the kernel flipped in space and in/out channels swapped.
        const dx = needInputGrad ? tf.conv2d(dy as tf.Tensor4D, tf.reverse(tf.transpose(ws, [0, 1, 3, 2]), [0, 1]) as tf.Tensor4D, 1, 'same') : tf.zerosLike(xs);
        return [dx, dW];
      },
    };
  });
}

/**
 * 2×2 max pooling whose gradient routes dY to the window's maximum with a mask instead of MaxPoolGrad;
 * ties (common on flat synthetic backgrounds) share dY equally so a window passes on exactly dY.
 */
const maxPool2 = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor4D, tf.GradSaveFunc];
  const y = tf.maxPool(x, 2, 2, 'valid');
  save([x, y]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
      const [xs, ys] = saved as [tf.Tensor4D, tf.Tensor4D];
      const size: [number, number] = [xs.shape[1], xs.shape[2]];
      const mask = tf.cast(tf.equal(xs, tf.image.resizeNearestNeighbor(ys, size)), 'float32') as tf.Tensor4D;
      const ties = tf.mul(tf.avgPool(mask, 2, 2, 'valid'), 4);
      return tf.mul(mask, tf.image.resizeNearestNeighbor(tf.div(dy, ties) as tf.Tensor4D, size));
    },
  };
});

type Moments = { mean: tf.Tensor1D; variance: tf.Tensor1D }[];

/**
 * Batch normalization (batch statistics) followed by ReLU, with a hand-derived gradient: autodiff of
 * the same ops makes about twice as many passes over the activations. With s = γ·r, r = 1/√(σ²+ε),
 * x̂ = (z−μ)·r and g = dY·[y > 0] over N positions per channel:
 *   dβ = Σg,  dγ = r·(Σg·z − μ·Σg),  dz = s·(g − Σg/N − x̂·dγ/N) = s·g + k1·z + k0.
 * Returns [y, mean, variance] so the caller can collect the statistics.
 */
const batchNormRelu = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [z, gamma, beta, save] = args as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
  const mean = tf.mean(z, [0, 1, 2]);
  const variance = tf.relu(tf.sub(tf.mean(tf.square(z), [0, 1, 2]), tf.square(mean)));
  const rstd = tf.rsqrt(tf.add(variance, BN_EPSILON));
  const scale = tf.mul(gamma, rstd);
  const y = tf.relu(tf.add(tf.mul(z, scale), tf.sub(beta, tf.mul(mean, scale)))) as tf.Tensor4D;
  save([z, y, mean, rstd, scale]);
  return {
    value: y,
    gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
      const [zs, ys, mu, r, s] = saved;
      const n = zs.size / zs.shape[3]!;
      const g = tf.mul(dy, tf.step(ys));
      const sumG = tf.sum(g, [0, 1, 2]);
      const sumGZ = tf.sum(tf.mul(g, zs), [0, 1, 2]);
      const dGamma = tf.mul(r, tf.sub(sumGZ, tf.mul(mu, sumG)));
      const k1 = tf.div(tf.neg(tf.mul(tf.mul(s, r), dGamma)), n);
      const k0 = tf.sub(tf.div(tf.neg(tf.mul(s, sumG)), n), tf.mul(k1, mu));
      const dz = tf.add(tf.add(tf.mul(g, s), tf.mul(zs, k1)), k0);
      return [dz, dGamma, sumG];
    },
  };
});

/** Batch mean and variance of z per channel (the same formula batchNormRelu uses). */
function batchMoments(z: tf.Tensor): { mean: tf.Tensor1D; variance: tf.Tensor1D } {
  const mean = tf.mean(z, [0, 1, 2]) as tf.Tensor1D;
  return { mean, variance: tf.relu(tf.sub(tf.mean(tf.square(z), [0, 1, 2]), tf.square(mean))) as tf.Tensor1D };
}

/**
 * The training forward pass up to the logits: conv → batch norm (batch statistics) → ReLU → pool.
 * `moments`, when given, receives each layer's batch mean and variance.
 */
function makeTrainingForward(p: Params): (x: tf.Tensor4D, moments?: Moments) => tf.Tensor2D {
  const convFns = p.convs.map((_, i) => makeConv(i > 0));
  return (x, moments) => {
    let h: tf.Tensor = x;
    p.convs.forEach((c, i) => {
      const z = convFns[i](h, c.kernel) as tf.Tensor4D;
      if (moments) moments.push(batchMoments(z));
      h = batchNormRelu(z, c.gamma, c.beta);
      if (i < p.convs.length - 1) h = maxPool2(h) as tf.Tensor;
    });
    const pooled = tf.mean(h, [1, 2]) as tf.Tensor2D;
    return tf.add(tf.matMul(pooled, p.denseKernel), p.denseBias) as tf.Tensor2D;
  };
}

/**
 * Folds batch normalization with population statistics into each convolution:
 * γ·(W∗x − μ)/√(σ²+ε) + β = (W·s)∗x + (β − μ·s) with s = γ/√(σ²+ε).
 * The statistics are the average batch moments over `batches` training-mode passes ("precise BN").
 */
function foldBatchNorm(p: Params, forward: ReturnType<typeof makeTrainingForward>, batches: { x: tf.Tensor4D }[]): { kernels: tf.Tensor[]; biases: tf.Tensor[]; population: { mean: Float32Array; variance: Float32Array }[] } {
  const sums = p.convs.map((c) => ({ mean: new Float64Array(c.gamma.shape[0]), variance: new Float64Array(c.gamma.shape[0]) }));
  for (const b of batches) {
    tf.tidy(() => {
      const moments: Moments = [];
      forward(b.x, moments);
      moments.forEach((m, i) => {
        m.mean.dataSync().forEach((v, k) => (sums[i].mean[k] += v / batches.length));
        m.variance.dataSync().forEach((v, k) => (sums[i].variance[k] += v / batches.length));
      });
    });
  }
  const kernels: tf.Tensor[] = [];
  const biases: tf.Tensor[] = [];
  p.convs.forEach((c, i) => {
    const scale = tf.tidy(() => tf.mul(c.gamma, tf.rsqrt(tf.add(tf.tensor1d(Float32Array.from(sums[i].variance)), BN_EPSILON))));
    kernels.push(tf.mul(c.kernel, scale));
    biases.push(tf.tidy(() => tf.sub(c.beta, tf.mul(tf.tensor1d(Float32Array.from(sums[i].mean)), scale))));
    scale.dispose();
  });
  const population = sums.map((m) => ({ mean: Float32Array.from(m.mean), variance: Float32Array.from(m.variance) }));
  return { kernels, biases, population };
}

/** The unfolded network in inference mode (batch norm with population statistics), as probabilities. */
function inferenceForward(p: Params, population: { mean: Float32Array; variance: Float32Array }[], x: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    let h: tf.Tensor = x;
    p.convs.forEach((c, i) => {
      const z = tf.conv2d(h as tf.Tensor4D, c.kernel as tf.Tensor4D, 1, 'same');
      const normalized = tf.div(tf.sub(z, tf.tensor1d(population[i].mean)), tf.sqrt(tf.add(tf.tensor1d(population[i].variance), BN_EPSILON)));
      h = tf.relu(tf.add(tf.mul(normalized, c.gamma), c.beta));
      if (i < p.convs.length - 1) h = tf.maxPool(h as tf.Tensor4D, 2, 2, 'valid');
    });
    return tf.softmax(tf.add(tf.matMul(tf.mean(h, [1, 2]) as tf.Tensor2D, p.denseKernel), p.denseBias)) as tf.Tensor2D;
  });
}

// ---------------------------------------------------------------------------------------------------
// Data.

function mixSeed(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x632be5ab, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return (h ^ (h >>> 15)) >>> 0;
}

interface Example {
  image: RgbaImage;
  /** Target distribution over the classes. */
  target: Float32Array;
}

/** Training example number `index`: mostly one object; some two-object scenes with 0.5/0.5 targets; some drawn larger and scaled down. */
function trainingExample(seed: number, index: number): Example {
  const rng = mulberry32(mixSeed(seed, index));
  const objects = rng() < 0.4 ? 2 : 1;
  const scaled = rng() < 0.25;
  const drawSize = scaled ? IMAGE_SIZE + 8 * Math.floor(rng() * 13) : IMAGE_SIZE;
  const mode = rng() < 0.5 ? 'bilinear' : 'box';
  const scene = randomScene(rng, { objects, size: drawSize });
  const image = drawSize === IMAGE_SIZE ? scene.image : resizeImage(scene.image, IMAGE_SIZE, IMAGE_SIZE, mode);
  const target = new Float32Array(SHAPE_CLASSES.length);
  for (const o of scene.objects) target[o.classIndex] += 1 / scene.objects.length;
  return { image, target };
}

interface BatchArrays {
  /** [n, IMAGE_SIZE, IMAGE_SIZE, 3] unit RGB. */
  xs: Float32Array;
  /** [n, classes] target distributions. */
  ys: Float32Array;
}

/** Training examples start..start+count-1 of the stream for `seed`, as flat arrays. */
function makeBatch(seed: number, start: number, count: number): BatchArrays {
  const px = IMAGE_SIZE * IMAGE_SIZE * 3;
  const xs = new Float32Array(count * px);
  const ys = new Float32Array(count * SHAPE_CLASSES.length);
  for (let i = 0; i < count; i++) {
    const e = trainingExample(seed, start + i);
    toUnitRgb(e.image, xs, i * px);
    ys.set(e.target, i * SHAPE_CLASSES.length);
  }
  return { xs, ys };
}

function batchTensors(b: BatchArrays): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const n = b.ys.length / SHAPE_CLASSES.length;
  return { x: tf.tensor4d(b.xs, [n, IMAGE_SIZE, IMAGE_SIZE, 3]), y: tf.tensor2d(b.ys, [n, SHAPE_CLASSES.length]) };
}

// ---------------------------------------------------------------------------------------------------
// One training step's gradients, and a worker thread that computes half of each batch.

interface StepResult {
  /** Gradients in paramList order. */
  grads: Float32Array[];
  loss: number;
  /** One-object examples in the batch, and how many of them the network got right. */
  seen: number;
  hits: number;
}

/** Gradients of the mean cross-entropy over training examples start..start+count-1. */
function computeStep(p: Params, forward: ReturnType<typeof makeTrainingForward>, seed: number, start: number, count: number): StepResult {
  const arrays = makeBatch(seed, start, count);
  const { x, y } = batchTensors(arrays);
  let logits: tf.Tensor2D | null = null;
  const { value, grads } = tf.variableGrads(() => {
    const l = forward(x);
    logits = tf.keep(l);
    return tf.losses.softmaxCrossEntropy(y, l) as tf.Scalar;
  }, paramList(p));
  const pred = tf.tidy(() => tf.argMax(logits!, 1).dataSync());
  const k = SHAPE_CLASSES.length;
  let seen = 0;
  let hits = 0;
  for (let i = 0; i < count; i++) {
    const target = arrays.ys.subarray(i * k, (i + 1) * k);
    if (Math.max(...target) > 0.99) {
      seen++;
      if (target[pred[i]] > 0.99) hits++;
    }
  }
  const result = { grads: paramList(p).map((v) => grads[v.name].dataSync() as Float32Array), loss: value.dataSync()[0], seen, hits };
  tf.dispose([x, y, value, logits!, ...Object.values(grads)]);
  return result;
}

interface WorkerStep {
  weights: Float32Array[];
  seed: number;
  start: number;
  count: number;
}

/**
 * A second trainer on a worker thread (the wasm backend uses one core): each step it takes the current
 * weights, draws its half of the batch and returns that half's gradients. Batch normalization uses
 * each half's own statistics. The halves are fixed by their example indices, so the result does not
 * depend on how the threads are scheduled.
 */
class TrainerWorker {
  private readonly worker: Worker;
  private waiting: { resolve: (r: StepResult) => void; reject: (e: Error) => void }[] = [];
  private failure: Error | null = null;

  constructor(seed: number, backend: BackendPreference) {
    this.worker = new Worker(__filename, { workerData: { role: 'trainer', seed, backend } });
    this.worker.on('message', (r: StepResult | { error: string }) => {
      const w = this.waiting.shift();
      if ('error' in r) w?.reject(new Error(r.error));
      else w?.resolve(r);
    });
    this.worker.on('error', (e) => {
      this.failure = e;
      for (const w of this.waiting.splice(0)) w.reject(e);
    });
  }

  step(s: WorkerStep): Promise<StepResult> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.worker.postMessage(s);
    });
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}

async function runTrainerWorker(seed: number, backend: BackendPreference): Promise<void> {
  await initBackend(backend);
  const params = initParams(seed);
  const forward = makeTrainingForward(params);
  const vars = paramList(params);
  parentPort!.on('message', (s: WorkerStep) => {
    try {
      vars.forEach((v, i) => v.assign(tf.tensor(s.weights[i], v.shape)));
      const r = computeStep(params, forward, s.seed, s.start, s.count);
      parentPort!.postMessage(r, r.grads.map((g) => g.buffer as ArrayBuffer));
    } catch (e) {
      parentPort!.postMessage({ error: (e as Error).message });
    }
  });
}

// ---------------------------------------------------------------------------------------------------
// Evaluation on held-out scenes.

function predict(model: tfl.LayersModel, images: RgbaImage[]): Float32Array[] {
  const out: Float32Array[] = [];
  for (let s = 0; s < images.length; s += 100) {
    const chunk = images.slice(s, s + 100);
    const px = IMAGE_SIZE * IMAGE_SIZE * 3;
    const xs = new Float32Array(chunk.length * px);
    chunk.forEach((im, i) => toUnitRgb(im, xs, i * px));
    const probs = tf.tidy(() => model.predict(tf.tensor4d(xs, [chunk.length, IMAGE_SIZE, IMAGE_SIZE, 3])) as tf.Tensor2D);
    const data = probs.dataSync() as Float32Array;
    probs.dispose();
    for (let i = 0; i < chunk.length; i++) out.push(data.slice(i * SHAPE_CLASSES.length, (i + 1) * SHAPE_CLASSES.length));
  }
  return out;
}

function topK(p: Float32Array, k: number): number[] {
  return Array.from(p.keys()).sort((a, b) => p[b] - p[a]).slice(0, k);
}

interface Evaluation {
  singleAccuracy: number;
  singleScaledAccuracy: number;
  twoObjectTop2: number;
  confusion: number[][];
}

function evaluate(model: tfl.LayersModel, nSingle = 1000, nTwo = 400): Evaluation {
  const rng = mulberry32(HELDOUT_SEED);
  const single = Array.from({ length: nSingle }, () => randomScene(rng, { objects: 1 }));
  const confusion = SHAPE_CLASSES.map(() => SHAPE_CLASSES.map(() => 0));
  let correct = 0;
  predict(model, single.map((s) => s.image)).forEach((p, i) => {
    const want = single[i].objects[0].classIndex;
    const got = topK(p, 1)[0];
    confusion[want][got]++;
    if (got === want) correct++;
  });
  // The same kind of scenes drawn at 128 px and scaled to the input size by tfjs's bilinear resize,
  // which is how a larger image (like the samples) reaches the model.
  const rng2 = mulberry32(HELDOUT_SEED + 1);
  const big = Array.from({ length: Math.floor(nSingle / 2) }, () => randomScene(rng2, { objects: 1, size: SAMPLE_SIZE }));
  const scaledImages = big.map((s) => tfResize(s.image, IMAGE_SIZE));
  let scaledCorrect = 0;
  predict(model, scaledImages).forEach((p, i) => {
    if (topK(p, 1)[0] === big[i].objects[0].classIndex) scaledCorrect++;
  });
  const rng3 = mulberry32(HELDOUT_SEED + 2);
  const two = Array.from({ length: nTwo }, () => randomScene(rng3, { objects: 2 }));
  let both = 0;
  predict(model, two.map((s) => s.image)).forEach((p, i) => {
    const top = topK(p, 2);
    if (two[i].objects.every((o) => top.includes(o.classIndex))) both++;
  });
  return { singleAccuracy: correct / nSingle, singleScaledAccuracy: scaledCorrect / big.length, twoObjectTop2: both / nTwo, confusion };
}

/** Resizes with tf.image.resizeBilinear (the engine's path), back to RGBA. */
function tfResize(image: RgbaImage, size: number): RgbaImage {
  const data = tf.tidy(() => {
    const t = tf.tensor3d(toUnitRgb(image), [image.height, image.width, 3]);
    return tf.image.resizeBilinear(t, [size, size]).dataSync();
  });
  const out = new Uint8ClampedArray(size * size * 4);
  for (let i = 0; i < size * size; i++) {
    for (let k = 0; k < 3; k++) out[i * 4 + k] = Math.round(data[i * 3 + k] * 255);
    out[i * 4 + 3] = 255;
  }
  return { width: size, height: size, data: out };
}

// ---------------------------------------------------------------------------------------------------
// Sample images.

interface SampleDef {
  file: string;
  classes: ShapeClass[];
  seed: number;
  /** For two-object scenes: centres (normalized) and radius, far apart. */
  layout?: { cx: number; cy: number }[];
}

const SAMPLES: SampleDef[] = [
  ...SHAPE_CLASSES.map((c, i): SampleDef => ({ file: `${c}.png`, classes: [c], seed: 501 + i })),
  { file: 'star-and-circle.png', classes: ['star', 'circle'], seed: 601, layout: [{ cx: 0.26, cy: 0.27 }, { cx: 0.74, cy: 0.73 }] },
  { file: 'triangle-and-ring.png', classes: ['triangle', 'ring'], seed: 602, layout: [{ cx: 0.26, cy: 0.72 }, { cx: 0.74, cy: 0.28 }] },
  { file: 'cross-and-arrow.png', classes: ['cross', 'arrow'], seed: 603, layout: [{ cx: 0.24, cy: 0.5 }, { cx: 0.76, cy: 0.5 }] },
  { file: 'square-and-ring.png', classes: ['square', 'ring'], seed: 604, layout: [{ cx: 0.5, cy: 0.24 }, { cx: 0.5, cy: 0.76 }] },
];

function sampleSpec(def: SampleDef): SceneSpec {
  const spec = randomSceneSpec(mulberry32(def.seed), { objects: def.classes.length as 1 | 2, classes: def.classes });
  if (def.layout) {
    spec.objects.forEach((o, k) => {
      o.cx = def.layout![k].cx;
      o.cy = def.layout![k].cy;
      o.radius = 0.2;
    });
  } else {
    const o = spec.objects[0];
    o.radius = Math.max(o.radius, 0.2);
    o.cx = Math.min(Math.max(o.cx, o.radius + 0.05), 0.95 - o.radius);
    o.cy = Math.min(Math.max(o.cy, o.radius + 0.05), 0.95 - o.radius);
  }
  // Clutter must not cover the objects in a picture meant to show them.
  spec.clutter = spec.clutter.filter((c) => spec.objects.every((o) => Math.hypot(c.x0 - o.cx, c.y0 - o.cy) > o.radius + 0.05 && Math.hypot(c.x1 - o.cx, c.y1 - o.cy) > o.radius + 0.05));
  return spec;
}

function writePng(file: string, image: RgbaImage): void {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  fs.writeFileSync(file, PNG.sync.write(png));
}

/** Writes media/samples/*.png and samples.json (objects and boxes per file); returns the rendered images. */
function writeSamples(dir: string): { def: SampleDef; image: RgbaImage }[] {
  fs.mkdirSync(dir, { recursive: true });
  const index: Record<string, { label: string; box: { x: number; y: number; width: number; height: number } }[]> = {};
  const out: { def: SampleDef; image: RgbaImage }[] = [];
  for (const def of SAMPLES) {
    const r = renderSceneWithBoxes(sampleSpec(def), SAMPLE_SIZE);
    writePng(path.join(dir, def.file), r.image);
    index[def.file] = r.objects.map((o) => ({ label: o.label, box: o.box }));
    out.push({ def, image: r.image });
  }
  fs.writeFileSync(path.join(dir, 'samples.json'), JSON.stringify({ size: SAMPLE_SIZE, note: 'Objects and their pixel boxes in each sample image, written by npm run train-demo / make-samples.', samples: index }, null, 2) + '\n');
  console.log(`wrote ${SAMPLES.length} sample images (${SAMPLE_SIZE}×${SAMPLE_SIZE}) and samples.json to ${dir}`);
  return out;
}

function checkSamples(model: tfl.LayersModel, samples: { def: SampleDef; image: RgbaImage }[]): boolean {
  let ok = true;
  const probs = predict(model, samples.map((s) => tfResize(s.image, IMAGE_SIZE)));
  samples.forEach((s, i) => {
    const top = topK(probs[i], s.def.classes.length);
    const good = s.def.classes.every((c) => top.includes(SHAPE_CLASSES.indexOf(c)));
    if (!good) ok = false;
    const shown = top.map((k) => `${SHAPE_CLASSES[k]} ${(probs[i][k] * 100).toFixed(1)}%`).join(', ');
    console.log(`  ${good ? 'ok  ' : 'MISS'} ${s.def.file.padEnd(24)} → ${shown}`);
  });
  return ok;
}

// ---------------------------------------------------------------------------------------------------

function fileSizes(dir: string): number {
  return fs.readdirSync(dir).reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const demoDir = path.join(opts.root, 'media', 'demo');
  const samplesDir = path.join(opts.root, 'media', 'samples');
  const backend = await initBackend(opts.backend);
  console.log(`backend: ${backend}`);
  if (opts.samplesOnly) {
    const samples = writeSamples(samplesDir);
    if (fs.existsSync(path.join(demoDir, 'model.json'))) {
      const model = await tfl.loadLayersModel(fileLoadHandler(path.join(demoDir, 'model.json')));
      console.log('sample predictions of the shipped model (each sample resized to the input size):');
      if (!checkSamples(model, samples)) console.warn('make-samples: the model misses some sample images (listed above)');
    }
    return;
  }

  const params = initParams(opts.seed);
  const forward = makeTrainingForward(params);
  const variables = paramList(params);
  const optimizer = tf.train.adam(opts.lr);
  const warmup = Math.min(50, Math.floor(opts.steps / 10));
  const lrAt = (step: number) =>
    step < warmup ? opts.lr * (0.1 + (0.9 * step) / warmup) : opts.lr * (0.03 + 0.97 * 0.5 * (1 + Math.cos((Math.PI * (step - warmup)) / Math.max(1, opts.steps - warmup))));

  console.log(`training ${opts.steps} steps of ${opts.batch} scenes (${IMAGE_SIZE}×${IMAGE_SIZE}, ${SHAPE_CLASSES.length} classes: ${SHAPE_CLASSES.join(', ')}), seed ${opts.seed}`);
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  let lossSum = 0;
  let hits = 0;
  let seen = 0;
  const trainer = opts.threads > 1 ? new TrainerWorker(opts.seed, opts.backend) : null;
  const mine = trainer ? Math.ceil(opts.batch / 2) : opts.batch;
  for (let step = 0; step < opts.steps; step++) {
    const start = step * opts.batch;
    const remote = trainer?.step({ weights: variables.map((v) => v.dataSync() as Float32Array), seed: opts.seed, start: start + mine, count: opts.batch - mine });
    const parts = [computeStep(params, forward, opts.seed, start, mine)];
    if (remote) parts.push(await remote);
    (optimizer as unknown as { learningRate: number }).learningRate = lrAt(step);
    const grads = variables.map((v, i) => {
      // Each half's gradient is its own mean; weight them by their share of the batch.
      const sum = new Float32Array(parts[0].grads[i].length);
      parts.forEach((part, j) => {
        const wgt = (j === 0 ? mine : opts.batch - mine) / opts.batch;
        part.grads[i].forEach((g, k) => (sum[k] += wgt * g));
      });
      return { name: v.name, tensor: tf.tensor(sum, v.shape) };
    });
    optimizer.applyGradients(grads);
    tf.dispose(grads.map((g) => g.tensor));
    parts.forEach((part, j) => {
      lossSum += (part.loss * (j === 0 ? mine : opts.batch - mine)) / opts.batch;
      hits += part.hits;
      seen += part.seen;
    });
    if ((step + 1) % 50 === 0 || step === opts.steps - 1) {
      const s = (Date.now() - t0) / 1000;
      console.log(
        `step ${String(step + 1).padStart(5)}  loss ${(lossSum / 50).toFixed(4)}  train acc (one-object) ${((100 * hits) / Math.max(1, seen)).toFixed(1)}%  lr ${lrAt(step).toExponential(2)}  ${s.toFixed(0)} s (cpu ${(process.cpuUsage(cpu0).user / 1e6).toFixed(0)} s)`,
      );
      lossSum = 0;
      hits = 0;
      seen = 0;
    }
  }
  await trainer?.close();
  const trainSeconds = (Date.now() - t0) / 1000;
  const trainCpuSeconds = process.cpuUsage(cpu0).user / 1e6;
  console.log(`training took ${trainSeconds.toFixed(0)} s (${trainCpuSeconds.toFixed(0)} s of CPU over both threads)`);

  // Population statistics for batch norm from fresh training scenes, folded into the convolutions.
  const statBatches = Array.from({ length: 30 }, (_, k) => batchTensors(makeBatch(opts.seed + 1, k * 64, 64)));
  const folded = foldBatchNorm(params, forward, statBatches);
  tf.dispose(statBatches.flatMap((b) => [b.x, b.y]));
  const model = buildModel(folded.kernels, folded.biases, params.denseKernel, params.denseBias);
  // The folded layers model must compute what the trained network computes in inference mode.
  const check = batchTensors(makeBatch(opts.seed + 2, 0, 16));
  const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(inferenceForward(params, folded.population, check.x), model.predict(check.x) as tf.Tensor))).dataSync()[0]);
  tf.dispose([check.x, check.y]);
  console.log(`max |trained network − folded layers model| over 16 scenes = ${diff.toExponential(2)}`);
  if (!(diff < 1e-4)) throw new Error(`train-demo: folding batch norm changed the outputs by ${diff}`);
  tf.dispose([...folded.kernels, ...folded.biases, ...variables]);
  optimizer.dispose();

  const ev = evaluate(model);
  console.log(`held-out accuracy, one-object scenes (1000): ${(100 * ev.singleAccuracy).toFixed(1)}%`);
  console.log(`held-out accuracy, one-object scenes drawn at ${SAMPLE_SIZE} px and resized (500): ${(100 * ev.singleScaledAccuracy).toFixed(1)}%`);
  console.log(`held-out two-object scenes with both objects in the top 2 (400): ${(100 * ev.twoObjectTop2).toFixed(1)}%`);
  console.log('confusion (rows: true class, columns: predicted):');
  console.log(`  ${''.padEnd(9)}${SHAPE_CLASSES.map((c) => c.slice(0, 6).padStart(7)).join('')}`);
  ev.confusion.forEach((row, i) => console.log(`  ${SHAPE_CLASSES[i].padEnd(9)}${row.map((v) => String(v).padStart(7)).join('')}`));

  if (ev.singleAccuracy < 0.95 && !opts.force) {
    console.error(`train-demo: held-out accuracy ${(100 * ev.singleAccuracy).toFixed(1)}% is below 95%; not writing ${demoDir} (use --force to write anyway)`);
    process.exitCode = 1;
    return;
  }

  await model.save(fileSaveHandler(demoDir));
  const metadata: DemoMetadata = {
    name: 'CNN Lens demo: shapes',
    labels: [...SHAPE_CLASSES],
    imageSize: IMAGE_SIZE,
    preprocess: 'unit',
    lastConvLayer: 'last_conv',
    description: 'A small CNN (four 3×3 conv layers, global average pooling, one dense softmax layer) trained by npm run train-demo on procedurally drawn scenes of coloured shapes.',
    training: {
      seed: opts.seed,
      steps: opts.steps,
      batch: opts.batch,
      backend,
      seconds: Math.round(trainSeconds),
      cpuSeconds: Math.round(trainCpuSeconds),
      heldOutAccuracy: Number(ev.singleAccuracy.toFixed(4)),
      heldOutScaledAccuracy: Number(ev.singleScaledAccuracy.toFixed(4)),
      heldOutTwoObjectTop2: Number(ev.twoObjectTop2.toFixed(4)),
    },
  };
  fs.writeFileSync(path.join(demoDir, 'metadata.json'), JSON.stringify(metadata, null, 2) + '\n');
  console.log(`wrote ${demoDir} (${(fileSizes(demoDir) / 1024).toFixed(0)} KB)`);
  console.log(`layers: ${model.layers.map((l) => `${l.name} ${JSON.stringify(l.outputShape)}`).join(', ')}`);

  const samples = writeSamples(samplesDir);
  console.log('sample predictions (each sample resized to the input size):');
  if (!checkSamples(model, samples)) console.warn('train-demo: the model misses some sample images (listed above)');
}

if (isMainThread) {
  main().catch((e) => {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  });
} else if (workerData?.role === 'trainer') {
  runTrainerWorker(workerData.seed, workerData.backend).catch((e) => parentPort!.postMessage({ error: (e as Error).message }));
}
