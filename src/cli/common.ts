// What every model command shares: global options, the backend, the model, images.
import * as fs from 'node:fs';
import { BACKEND_PREFERENCES, initBackend, type BackendName, type BackendPreference } from '../engine/backend';
import { LensError } from '../engine/errors';
import { PREPROCESS_PRESETS, type PreprocessPreset } from '../engine/image/preprocess';
import { loadAnyModel, type LoadedModel } from '../engine/model/loadModel';
import { nearUniformNote, spreadOf } from '../shared/predictionSpread';
import type * as tf from '@tensorflow/tfjs-core';
import { imageToInput, type JobHooks } from '../engine/explain';
import { readImageFile } from '../engine/image/decode';
import { flag, str, UsageError, type OptionSpecs, type ParsedArgs } from './args';
import { progressBar, type CliIO } from './io';

export const GLOBAL_OPTIONS: OptionSpecs = {
  backend: { type: 'string', choices: BACKEND_PREFERENCES, help: 'TensorFlow.js backend (default auto: native, else wasm, else cpu)' },
  weights: { type: 'string', valueName: 'FILE', help: 'weights .h5 for an architecture-only JSON (Keras to_json)' },
  labels: { type: 'string', valueName: 'FILE', help: 'class labels: .txt (one a line) or .json list' },
  size: { type: 'string', valueName: 'H,W', help: 'input size of an ONNX model whose height and width are symbolic (default: its metadata_props, else 224,224)' },
  verbose: { type: 'boolean', help: 'show stack traces of errors' },
  help: { type: 'boolean', help: 'show this help' },
};

export const PREPROCESS_OPTION: OptionSpecs = {
  preprocess: { type: 'string', choices: PREPROCESS_PRESETS, help: "input scaling: raw 0..255, unit x/255, tf x/127.5−1, caffe BGR−mean, torch ImageNet mean/std (default: from the model's metadata, else unit)" },
};

export interface OpenedModel {
  model: LoadedModel;
  backend: BackendName;
  loadMs: number;
}

export async function openModel(args: ParsedArgs, file: string | undefined): Promise<OpenedModel> {
  if (!file) throw new UsageError('missing MODEL (a model.json, .h5, .keras or .onnx file)');
  const inputSize = sizeOption(args);
  const backend = await initBackend((str(args, 'backend') as BackendPreference) ?? 'auto');
  const t0 = performance.now();
  const model = await loadAnyModel(file, { weightsFile: str(args, 'weights'), labelsFile: str(args, 'labels'), inputSize });
  return { model, backend, loadMs: performance.now() - t0 };
}

/** --size H,W (or S for a square). */
function sizeOption(args: ParsedArgs): [number, number] | undefined {
  const raw = str(args, 'size');
  if (raw === undefined) return undefined;
  const m = /^(\d+)(?:[,x](\d+))?$/.exec(raw.trim());
  const h = m ? Number(m[1]) : NaN;
  const w = m ? Number(m[2] ?? m[1]) : NaN;
  if (!(h >= 1 && w >= 1 && h <= 8192 && w <= 8192)) throw new UsageError(`--size '${raw}' is not H,W (two whole numbers from 1 to 8192, e.g. 224,224)`);
  return [h, w];
}

export function preprocessOf(args: ParsedArgs, model: LoadedModel): PreprocessPreset {
  return (str(args, 'preprocess') as PreprocessPreset | undefined) ?? model.defaultPreprocess;
}

/**
 * A note for a prediction close to uniform (src/shared/predictionSpread.ts), naming the other presets to try
 * as --preprocess options; null otherwise.
 */
export function uniformNote(predictions: { probability: number }[], preset: PreprocessPreset): string | null {
  const others = PREPROCESS_PRESETS.filter((p) => p !== preset).map((p) => `--preprocess ${p}`);
  return nearUniformNote(spreadOf(predictions.map((p) => p.probability)), preset, others);
}

export function requireImages(files: string[]): string[] {
  if (files.length === 0) throw new UsageError('missing IMAGE (one or more image files)');
  for (const f of files) {
    if (!fs.existsSync(f)) throw new LensError(`${f}: no such file`);
    if (fs.statSync(f).isDirectory()) throw new LensError(`${f}: is a folder, not an image`);
  }
  return files;
}

export function round(n: number, digits = 4): number {
  const p = 10 ** digits;
  return Math.round(n * p) / p;
}

/**
 * A command on one MODEL and one IMAGE (evaluate, sanity): the model opened, the image read and preprocessed,
 * `run` called with the input and progress hooks (a bar on a terminal, none with --json); the input is disposed after.
 */
export async function onOneImage<T>(
  args: ParsedArgs,
  io: CliIO,
  command: string,
  run: (model: LoadedModel, x: tf.Tensor, preset: PreprocessPreset, image: string, hooks: JobHooks) => T,
): Promise<{ model: LoadedModel; image: string; json: boolean; result: T }> {
  const [modelFile, image, ...extra] = args.positionals;
  if (extra.length) throw new UsageError(`${command} takes one IMAGE`);
  const { model } = await openModel(args, modelFile);
  requireImages(image ? [image] : []);
  const preset = preprocessOf(args, model);
  const json = flag(args, 'json');
  const x = imageToInput(model, await readImageFile(image), preset);
  const bar = !json && io.interactive ? progressBar(io, command) : null;
  try {
    const result = run(model, x, preset, image, { onProgress: bar ? (p) => bar.update(p.done, p.total, p.stage) : undefined });
    bar?.finish();
    return { model, image, json, result };
  } finally {
    x.dispose();
  }
}
