// cnn-lens activations | filters | maximize | invert | dream: feature visualization from the command line.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { imageToInput } from '../../engine/explain';
import { COLORMAPS, type ColormapName } from '../../engine/image/colormap';
import { readImageFile, type RgbaImage } from '../../engine/image/decode';
import { encodeNpy } from '../../engine/image/npy';
import { encodePng } from '../../engine/image/png';
import { featureMapGrid, tileGrid } from '../../engine/image/render';
import { upscaleNearest } from '../../engine/image/resize';
import {
  DEFAULT_INVERT_STEPS, DEFAULT_MAXIMIZE_STEPS, DREAM_DEFAULTS, dream, estimateMaximize, filterWeights, invert, layerActivations, maximize, maximizeRange,
  type MaximizeOptions, type MaximizeResult, type VisHooks,
} from '../../engine/vis';
import { flag, list, num, str, UsageError, type OptionSpecs, type ParsedArgs } from '../args';
import { GLOBAL_OPTIONS, openModel, PREPROCESS_OPTION, preprocessOf, requireImages, round } from '../common';
import { progressBar, writeResult, type CliIO } from '../io';
import { estimateText } from '../../shared/runEstimate';

const OUTPUT_OPTIONS: OptionSpecs = {
  json: { type: 'boolean', help: 'one JSON object on stdout' },
};

const OPTIMIZE_OPTIONS: OptionSpecs = {
  seed: { type: 'number', valueName: 'S', help: 'random seed: the same seed gives the same image (default 0)' },
  frames: { type: 'string', valueName: 'DIR', help: 'also write the image every --frame-every steps as DIR/frame-NNNN.png' },
  'frame-every': { type: 'number', valueName: 'K', help: 'steps between frames (default 10)' },
};

const ACTIVATIONS_OPTIONS: OptionSpecs = {
  ...GLOBAL_OPTIONS,
  ...PREPROCESS_OPTION,
  layer: { type: 'string', valueName: 'NAME', help: 'the layer (required; `cnn-lens info MODEL` lists them)' },
  out: { type: 'string', valueName: 'FILE.png', help: 'feature maps as a labelled grid, each channel scaled on its own' },
  raw: { type: 'string', valueName: 'FILE.npy', help: 'the activation tensor [h, w, C] as float32 .npy' },
  'max-channels': { type: 'number', valueName: 'N', help: 'channels in the grid (default 64)' },
  colormap: { type: 'string', choices: COLORMAPS, help: 'feature-map colours (default viridis)' },
  ...OUTPUT_OPTIONS,
};

const FILTERS_OPTIONS: OptionSpecs = {
  ...GLOBAL_OPTIONS,
  ...PREPROCESS_OPTION,
  layer: { type: 'string', valueName: 'NAME', help: 'a Conv2D, DepthwiseConv2D or SeparableConv2D layer (required)' },
  out: { type: 'string', valueName: 'FILE.png', help: 'one tile per filter: first layer in colour, deeper ones blue (−) / red (+)' },
  raw: { type: 'string', valueName: 'FILE.npy', help: 'the kernel tensor as stored ([kh, kw, in, out]) as float32 .npy' },
  'max-filters': { type: 'number', valueName: 'N', help: 'tiles in the grid (default 256)' },
  ...OUTPUT_OPTIONS,
};

const MAXIMIZE_OPTIONS: OptionSpecs = {
  ...GLOBAL_OPTIONS,
  ...PREPROCESS_OPTION,
  layer: { type: 'string', valueName: 'NAME', help: 'the layer of --channel/--channels/--neuron' },
  channel: { type: 'number', valueName: 'K', help: "maximize channel K's mean activation" },
  channels: { type: 'string', valueName: 'K1-K2', help: 'maximize each channel K1..K2 in turn; --out is a grid' },
  neuron: { type: 'list', valueName: 'Y,X,K', help: "maximize one unit: channel K at (Y, X) of the layer's output grid" },
  class: { type: 'string', valueName: 'INDEX|LABEL', help: "maximize a class's logit" },
  steps: { type: 'number', valueName: 'N', help: `optimization steps (default 64 for a unit of the first convolution, 128 of the second, else ${DEFAULT_MAXIMIZE_STEPS})` },
  size: { type: 'number', valueName: 'PX', help: 'side of the optimized image (default 128 where the network allows any size, else its input size)' },
  param: { type: 'string', choices: ['fourier', 'pixel'], help: 'image parameterization: decorrelated Fourier (default, Olah et al. 2017) or pixels' },
  lr: { type: 'number', valueName: 'R', help: 'Adam learning rate (default 0.05)' },
  out: { type: 'string', valueName: 'FILE.png', help: 'the image (a grid with --channels), enlarged by whole pixels when small' },
  raw: { type: 'string', valueName: 'FILE.npy', help: 'the image in model input space at the optimized size [h, w, c] (with --channels [n, h, w, c])' },
  ...OPTIMIZE_OPTIONS,
  ...OUTPUT_OPTIONS,
};

const INVERT_OPTIONS: OptionSpecs = {
  ...GLOBAL_OPTIONS,
  ...PREPROCESS_OPTION,
  layer: { type: 'string', valueName: 'NAME', help: 'the layer whose activations are matched (required)' },
  steps: { type: 'number', valueName: 'N', help: `optimization steps (default ${DEFAULT_INVERT_STEPS})` },
  tv: { type: 'number', valueName: 'W', help: 'total-variation prior weight (default 0.5)' },
  norm: { type: 'number', valueName: 'W', help: 'L2 norm prior weight (default 0.01)' },
  param: { type: 'string', choices: ['fourier', 'pixel'], help: 'image parameterization: decorrelated Fourier (default) or pixels' },
  lr: { type: 'number', valueName: 'R', help: 'Adam learning rate (default 0.05)' },
  out: { type: 'string', valueName: 'FILE.png', help: 'the reconstruction' },
  raw: { type: 'string', valueName: 'FILE.npy', help: 'the reconstruction in model input space [h, w, c]' },
  ...OPTIMIZE_OPTIONS,
  ...OUTPUT_OPTIONS,
};

const DREAM_OPTIONS: OptionSpecs = {
  ...GLOBAL_OPTIONS,
  ...PREPROCESS_OPTION,
  layers: { type: 'list', valueName: 'A,B', help: 'layers whose activation norm grows (default: two at mid depth)' },
  octaves: { type: 'number', valueName: 'N', help: `scales from small to full (default ${DREAM_DEFAULTS.octaves})` },
  'octave-scale': { type: 'number', valueName: 'F', help: `size ratio between octaves (default ${DREAM_DEFAULTS.octaveScale})` },
  steps: { type: 'number', valueName: 'N', help: `steps per octave (default ${DREAM_DEFAULTS.steps})` },
  'step-size': { type: 'number', valueName: 'S', help: `mean pixel change per step, pixels 0..1 (default ${DREAM_DEFAULTS.stepSize})` },
  size: { type: 'number', valueName: 'PX', help: `longer side of the result (default the image's, at most ${DREAM_DEFAULTS.maxSide}, where the network allows)` },
  out: { type: 'string', valueName: 'FILE.png', help: 'the dreamed image' },
  raw: { type: 'string', valueName: 'FILE.npy', help: 'the dreamed image in model input space [h, w, c]' },
  ...OPTIMIZE_OPTIONS,
  ...OUTPUT_OPTIONS,
};

export const VIS_COMMANDS: Record<string, { usage: string; summary: string; options: OptionSpecs }> = {
  activations: {
    usage: 'cnn-lens activations MODEL IMAGE --layer L [--out grid.png] [--raw acts.npy] [--max-channels N]',
    summary: "a layer's feature maps for an image",
    options: ACTIVATIONS_OPTIONS,
  },
  filters: {
    usage: 'cnn-lens filters MODEL --layer L [--out grid.png] [--raw kernels.npy]',
    summary: "a convolution layer's kernels as images",
    options: FILTERS_OPTIONS,
  },
  maximize: {
    usage: 'cnn-lens maximize MODEL --layer L (--channel K | --channels K1-K2 | --neuron Y,X,K | --class C) [--steps N] [--seed S] [--out img.png] [--raw img.npy]',
    summary: 'an image that excites a channel, a unit or a class as much as possible (a time estimate, from steps timed on the model, on stderr first)',
    options: MAXIMIZE_OPTIONS,
  },
  invert: {
    usage: 'cnn-lens invert MODEL IMAGE --layer L [--steps N] [--seed S] [--out img.png] [--raw img.npy]',
    summary: "an image rebuilt from a layer's activations alone (what the layer keeps)",
    options: INVERT_OPTIONS,
  },
  dream: {
    usage: 'cnn-lens dream MODEL IMAGE [--layers A,B] [--octaves 4] [--octave-scale 1.4] [--steps 20] [--step-size S] [--seed S] [--out img.png] [--raw img.npy]',
    summary: 'DeepDream: let the network paint what it sees into the image',
    options: DREAM_OPTIONS,
  },
};

function requireLayer(args: ParsedArgs): string {
  const layer = str(args, 'layer');
  if (!layer) throw new UsageError('missing --layer (run `cnn-lens info MODEL` to list the layers)');
  return layer;
}

function oneImage(images: string[]): string {
  requireImages(images);
  if (images.length > 1) throw new UsageError(`give one IMAGE, got ${images.length}`);
  return images[0];
}

function noImages(images: string[], cmd: string): void {
  if (images.length) throw new UsageError(`${cmd} takes no IMAGE (got '${images[0]}')`);
}

/** Small results are enlarged by whole pixels so that the PNG is at least ~256 pixels on its shorter side. */
function enlarged(img: RgbaImage): RgbaImage {
  const f = Math.max(1, Math.floor(256 / Math.min(img.width, img.height)));
  return f > 1 ? upscaleNearest(img, f) : img;
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function writeOutputs(args: ParsedArgs, png: (() => RgbaImage) | null, npy: { data: Float32Array; shape: number[] } | null, inputs: string[]): { png?: string; npy?: string } {
  const files: { png?: string; npy?: string } = {};
  const out = str(args, 'out');
  const raw = str(args, 'raw');
  if (out && png) {
    writeResult(out, encodePng(png()), inputs);
    files.png = out;
  }
  if (raw && npy) {
    writeResult(raw, encodeNpy(npy.data, npy.shape), inputs);
    files.npy = raw;
  }
  return files;
}

function arrow(files: { png?: string; npy?: string }): string {
  const list = [files.png, files.npy].filter(Boolean);
  return list.length ? ` → ${list.join(', ')}` : '';
}

/** Progress bar on stderr and frames to a folder, as optimization hooks. */
function optimizeHooks(args: ParsedArgs, io: CliIO, label: string, inputs: string[]): { hooks: VisHooks; finish: (note?: string) => void; frames: number } {
  const json = flag(args, 'json');
  const bar = json ? null : progressBar(io, label);
  const framesDir = str(args, 'frames');
  const every = num(args, 'frame-every', { min: 1, integer: true });
  if (every && !framesDir) throw new UsageError('--frame-every goes with --frames DIR');
  const state = { frames: 0 };
  if (framesDir) fs.mkdirSync(framesDir, { recursive: true });
  const hooks: VisHooks = {
    onStep: bar ? (s, total, loss) => bar.update(s, total, `loss ${loss.toPrecision(4)}`) : undefined,
    onFrame: framesDir
      ? (img, s) => {
          writeResult(path.join(framesDir, `frame-${String(s).padStart(4, '0')}.png`), encodePng(img), inputs);
          state.frames++;
        }
      : undefined,
    frameEvery: every ?? 10,
  };
  return { hooks, finish: (note) => bar?.finish(note), get frames() { return state.frames; } };
}

async function runActivations(args: ParsedArgs, io: CliIO): Promise<number> {
  const [modelFile, ...images] = args.positionals;
  const layer = requireLayer(args);
  const maxChannels = num(args, 'max-channels', { min: 1, integer: true }) ?? 64;
  const { model, backend, loadMs } = await openModel(args, modelFile);
  try {
    const image = oneImage(images);
    const preset = preprocessOf(args, model);
    const t0 = performance.now();
    const original = await readImageFile(image);
    const x = imageToInput(model, original, preset);
    let r;
    try {
      r = layerActivations(model, x, layer);
    } finally {
      x.dispose();
    }
    const ms = performance.now() - t0;
    const [h, w, c] = r.shape;
    const colormap = (str(args, 'colormap') as ColormapName | undefined) ?? 'viridis';
    const files = writeOutputs(args, () => featureMapGrid(r.data, h, w, c, { maxChannels, colormap }), { data: r.data, shape: r.shape }, [model.file, image]);
    let min = Infinity;
    let max = -Infinity;
    for (const v of r.data) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (flag(args, 'json')) {
      io.out(JSON.stringify({ model: model.file, backend, image, layer: r.layer, preprocess: preset, shape: r.shape, min: round(min), max: round(max), shown: Math.min(c, maxChannels), outputs: files, timings: { loadMs: Math.round(loadMs), ms: Math.round(ms) } }));
    } else {
      io.out(`${r.layer}: ${h}×${w}×${c} activations in [${min.toPrecision(3)}, ${max.toPrecision(3)}]${c > maxChannels && files.png ? `, grid shows channels 0–${maxChannels - 1}` : ''}${arrow(files)}`);
    }
  } finally {
    model.dispose();
  }
  return 0;
}

async function runFilters(args: ParsedArgs, io: CliIO): Promise<number> {
  const [modelFile, ...images] = args.positionals;
  const layer = requireLayer(args);
  noImages(images, 'filters');
  const maxFilters = num(args, 'max-filters', { min: 1, integer: true }) ?? 256;
  const { model, backend } = await openModel(args, modelFile);
  try {
    const f = filterWeights(model, layer, preprocessOf(args, model));
    const grid = () => {
      const shown = f.tiles.slice(0, maxFilters);
      const side = Math.max(shown[0].width, shown[0].height);
      const factor = Math.max(1, Math.floor(36 / side));
      return tileGrid(shown.map((t) => upscaleNearest(t, factor)), { labels: shown.map((_, i) => `#${i}`), background: [128, 128, 128] });
    };
    const files = writeOutputs(args, grid, { data: f.kernel, shape: f.shape }, [model.file]);
    if (flag(args, 'json')) {
      io.out(JSON.stringify({ model: model.file, backend, layer: f.layer, className: f.className, kind: f.kind, shape: f.shape, tiles: f.tiles.length, description: f.description, outputs: files }));
    } else {
      io.out(`${f.layer} (${f.className}, kernel ${f.shape.join('×')}): ${f.description}${f.tiles.length > maxFilters && files.png ? `; grid shows the first ${maxFilters}` : ''}${arrow(files)}`);
    }
  } finally {
    model.dispose();
  }
  return 0;
}

function parseRange(spec: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(spec.trim());
  if (!m) throw new UsageError(`--channels must look like K1-K2 (e.g. 0-15), got '${spec}'`);
  const a = Number(m[1]);
  const b = Number(m[2]);
  if (a > b) throw new UsageError(`--channels ${spec}: the first channel is after the last`);
  if (b - a + 1 > 1024) throw new UsageError(`--channels ${spec}: at most 1024 channels at a time`);
  return [a, b];
}

async function runMaximize(args: ParsedArgs, io: CliIO): Promise<number> {
  const [modelFile, ...images] = args.positionals;
  noImages(images, 'maximize');
  const channel = num(args, 'channel', { min: 0, integer: true });
  const range = str(args, 'channels');
  const neuronSpec = list(args, 'neuron');
  const cls = str(args, 'class');
  const given = [channel !== undefined, range !== undefined, neuronSpec !== undefined, cls !== undefined].filter(Boolean).length;
  if (given !== 1) throw new UsageError('give exactly one of --channel K, --channels K1-K2, --neuron Y,X,K or --class C');
  let neuron: [number, number, number] | undefined;
  if (neuronSpec) {
    const v = neuronSpec.map(Number);
    if (v.length !== 3 || !v.every((n) => Number.isInteger(n) && n >= 0)) throw new UsageError(`--neuron must be Y,X,K (three whole numbers), got '${neuronSpec.join(',')}'`);
    neuron = v as [number, number, number];
  }
  const layer = str(args, 'layer');
  if (!cls && !layer) throw new UsageError('missing --layer for --channel, --channels or --neuron');
  const options: MaximizeOptions = {
    layer,
    steps: num(args, 'steps', { min: 1, max: 100000, integer: true }),
    seed: num(args, 'seed', { integer: true }),
    size: num(args, 'size', { min: 8, max: 2048, integer: true }),
    param: str(args, 'param') as 'fourier' | 'pixel' | undefined,
    lr: num(args, 'lr', { min: 0 }),
  };
  const { model, backend, loadMs } = await openModel(args, modelFile);
  try {
    options.preprocess = preprocessOf(args, model);
    const inputs = [model.file];
    const [first, last] = range ? parseRange(range) : [undefined, undefined];
    const single: MaximizeOptions = { ...options, channel, neuron, classIndex: cls };
    // Said before the run starts: a few of its steps timed on this model, times its steps and batches.
    const estimate = estimateMaximize(model, range ? { ...options, first, last } : single);
    if (!flag(args, 'json')) io.err(`estimate: ${estimateText(estimate)}`);
    const opt = optimizeHooks(args, io, 'maximize', inputs);
    const t0 = performance.now();
    let results: MaximizeResult[];
    if (range) {
      results = maximizeRange(model, { ...options, first: first!, last: last! }, opt.hooks);
    } else {
      results = [maximize(model, single, opt.hooks)];
    }
    const ms = performance.now() - t0;
    opt.finish();
    const r0 = results[0];
    const [h, w, c] = r0.shape;
    let files: { png?: string; npy?: string };
    if (range) {
      const stacked = new Float32Array(results.length * h * w * c);
      results.forEach((r, i) => stacked.set(r.data, i * h * w * c));
      const ks = results.map((r) => r.target.replace(/^channel (\d+) .*/, '#$1'));
      files = writeOutputs(args, () => tileGrid(results.map((r) => r.rgba), { labels: ks }), { data: stacked, shape: [results.length, h, w, c] }, inputs);
    } else {
      files = writeOutputs(args, () => enlarged(r0.rgba), { data: r0.data, shape: r0.shape }, inputs);
    }
    const what = (r: MaximizeResult) => (r.layer ? (neuron ? 'unit value' : 'mean activation') : 'logit');
    if (flag(args, 'json')) {
      io.out(JSON.stringify({
        model: model.file, backend, layer: r0.layer, preprocess: options.preprocess, size: [h, w], steps: r0.steps, seed: r0.seed, param: r0.param,
        results: results.map((r) => ({ target: r.target, objective: round(r.objective), ...(r.dead ? { dead: true } : {}), ...(r.flat ? { flat: true } : {}), ...(r.note ? { note: r.note } : {}), ms: r.ms })),
        outputs: files, frames: opt.frames, timings: { loadMs: Math.round(loadMs), ms: Math.round(ms), estimateMs: Math.round(estimate.ms) },
      }));
    } else {
      for (const r of results) {
        io.out(`${r.target}: ${what(r)} ${r.objective.toPrecision(4)} after ${r.steps} steps (${h}×${w}, ${r.param}, seed ${r.seed}) in ${secs(r.ms)}`);
        if (r.note) io.out(`  note: ${r.note}`);
      }
      if (arrow(files)) io.out(`wrote${arrow(files).slice(2)}`);
    }
  } finally {
    model.dispose();
  }
  return 0;
}

async function runInvert(args: ParsedArgs, io: CliIO): Promise<number> {
  const [modelFile, ...images] = args.positionals;
  const layer = requireLayer(args);
  const opts = {
    layer,
    steps: num(args, 'steps', { min: 1, max: 100000, integer: true }),
    seed: num(args, 'seed', { integer: true }),
    tv: num(args, 'tv', { min: 0 }),
    norm: num(args, 'norm', { min: 0 }),
    param: str(args, 'param') as 'pixel' | 'fourier' | undefined,
    lr: num(args, 'lr', { min: 0 }),
  };
  const { model, backend, loadMs } = await openModel(args, modelFile);
  try {
    const image = oneImage(images);
    const preprocess = preprocessOf(args, model);
    const inputs = [model.file, image];
    const original = await readImageFile(image);
    const opt = optimizeHooks(args, io, 'invert', inputs);
    const r = invert(model, original, { ...opts, preprocess }, opt.hooks);
    opt.finish();
    const files = writeOutputs(args, () => enlarged(r.rgba), { data: r.data, shape: r.shape }, inputs);
    if (flag(args, 'json')) {
      io.out(JSON.stringify({ model: model.file, backend, image, layer: r.layer, preprocess, shape: r.shape, steps: r.steps, seed: r.seed, param: r.param, relativeDistance: round(r.relativeDistance), outputs: files, frames: opt.frames, timings: { loadMs: Math.round(loadMs), ms: r.ms } }));
    } else {
      io.out(`${r.layer}: reconstruction ${r.shape[0]}×${r.shape[1]} from ${path.basename(image)}, activations within ${(100 * r.relativeDistance).toFixed(1)}% (relative L2) after ${r.steps} steps in ${secs(r.ms)}${arrow(files)}`);
    }
  } finally {
    model.dispose();
  }
  return 0;
}

async function runDream(args: ParsedArgs, io: CliIO): Promise<number> {
  const [modelFile, ...images] = args.positionals;
  const opts = {
    layers: list(args, 'layers'),
    octaves: num(args, 'octaves', { min: 1, max: 12, integer: true }),
    octaveScale: num(args, 'octave-scale', { min: 1, max: 4 }),
    steps: num(args, 'steps', { min: 1, max: 10000, integer: true }),
    stepSize: num(args, 'step-size', { min: 0, max: 1 }),
    seed: num(args, 'seed', { integer: true }),
    size: num(args, 'size', { min: 16, max: 4096, integer: true }),
  };
  const { model, backend, loadMs } = await openModel(args, modelFile);
  try {
    const image = oneImage(images);
    const preprocess = preprocessOf(args, model);
    const inputs = [model.file, image];
    const original = await readImageFile(image);
    const opt = optimizeHooks(args, io, 'dream', inputs);
    const r = dream(model, original, { ...opts, preprocess }, opt.hooks);
    opt.finish();
    const files = writeOutputs(args, () => r.rgba, { data: r.data, shape: r.shape }, inputs);
    if (flag(args, 'json')) {
      io.out(JSON.stringify({ model: model.file, backend, image, layers: r.layers, layersAreDefault: r.layersAreDefault, preprocess, shape: r.shape, octaves: r.octaveSizes, steps: r.steps, seed: r.seed, normGain: round(r.normGain), outputs: files, frames: opt.frames, timings: { loadMs: Math.round(loadMs), ms: r.ms } }));
    } else {
      const sizes = r.octaveSizes.map(([h, w]) => `${w}×${h}`).join(' → ');
      io.out(`dream at ${r.layers.join(', ')}${r.layersAreDefault ? ' (default)' : ''}: octaves ${sizes}, ${r.steps} steps, layer norm ×${r.normGain.toFixed(2)} in ${secs(r.ms)}${arrow(files)}`);
    }
  } finally {
    model.dispose();
  }
  return 0;
}

export async function runVisCommand(cmd: string, args: ParsedArgs, io: CliIO): Promise<number> {
  switch (cmd) {
    case 'activations':
      return runActivations(args, io);
    case 'filters':
      return runFilters(args, io);
    case 'maximize':
      return runMaximize(args, io);
    case 'invert':
      return runInvert(args, io);
    case 'dream':
      return runDream(args, io);
    default:
      throw new UsageError(`unknown command '${cmd}'`);
  }
}
