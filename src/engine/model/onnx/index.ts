// ONNX front end: an .onnx file (torch.onnx.export, tf2onnx) becomes the same tfjs layers model the Keras
// front end gives, so every method, tap, summary and panel works on it unchanged.
import * as path from 'node:path';
import { fileError } from '../../errors';
import type { PreprocessPreset } from '../../image/preprocess';
import { wrapLayersModel, type FormatDefaults, type LoadedModel, type LoadOptions } from '../loadModel';
import { convertOnnx } from './convert';
import { readOnnxFile } from './parse';

export { SUPPORTED_OPS } from './convert';

export function isOnnxPath(file: string): boolean {
  return path.extname(file).toLowerCase() === '.onnx';
}

/** Labels from a metadata_props entry 'labels' or 'classes': a JSON list, or one label a line / comma-separated. */
function metadataLabels(props: Map<string, string>): string[] | null {
  const raw = props.get('labels') ?? props.get('classes');
  if (raw === undefined) return null;
  try {
    const j = JSON.parse(raw);
    if (Array.isArray(j)) return j.map(String);
    if (j && typeof j === 'object') {
      // {"0": "cat", "1": "dog"} (timm, Ultralytics)
      const keys = Object.keys(j).map(Number);
      if (keys.every((k) => Number.isInteger(k) && k >= 0)) return keys.sort((a, b) => a - b).map((k) => String(j[k]));
    }
  } catch {
    // not JSON: a list in text
  }
  const parts = raw.includes('\n') ? raw.split(/\r?\n/) : raw.split(',');
  return parts.map((s) => s.trim()).filter((s) => s.length > 0);
}

function metadataSize(props: Map<string, string>): [number, number] | undefined {
  const raw = props.get('input_size') ?? props.get('image_size');
  if (!raw) return undefined;
  const nums = raw.split(/[,x× ]+/).map(Number).filter((n) => Number.isSafeInteger(n) && n > 0);
  if (nums.length === 1) return [nums[0], nums[0]];
  if (nums.length === 2) return [nums[0], nums[1]];
  return undefined;
}

export async function loadOnnxModel(file: string, opts: LoadOptions = {}): Promise<LoadedModel> {
  const proto = readOnnxFile(file);
  const props = new Map((proto.metadata_props ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  let converted;
  try {
    converted = convertOnnx(file, proto, opts.inputSize ?? metadataSize(props));
  } catch (e) {
    if ((e as Error)?.name === 'LensError') throw e;
    const msg = (e as Error)?.message?.split('\n')[0] ?? String(e);
    if (/memory access out of bounds|Invalid typed array length|Array buffer allocation failed|out of memory/i.test(msg)) throw fileError(file, 'a layer\'s weights or outputs would be too large to allocate');
    throw fileError(file, `cannot build the model: ${msg}`);
  }
  const labels = metadataLabels(props);
  const known: PreprocessPreset[] = ['raw', 'unit', 'tf', 'caffe', 'torch'];
  const metaPre = props.get('preprocess');
  // tf2onnx and keras2onnx export Keras/TensorFlow models: their default is Keras's (x/255), not PyTorch's.
  const fromKeras = /tf2onnx|keras2onnx|tensorflow|keras/i.test(proto.producer_name ?? '');
  const defaults: FormatDefaults = {
    fileLayout: converted.input.layout,
    labels: labels ? { labels, source: 'ONNX metadata_props' } : null,
    preprocess:
      metaPre && (known as string[]).includes(metaPre)
        ? { preset: metaPre as PreprocessPreset, reason: 'ONNX metadata_props "preprocess"' }
        : fromKeras
          ? { preset: 'unit', reason: `ONNX export of a Keras/TensorFlow model (${proto.producer_name}): x/255, the Keras default` }
          : converted.input.channels === 3
            ? { preset: 'torch', reason: 'ONNX model with 3 channels: PyTorch ImageNet mean/std' }
            : { preset: 'unit', reason: 'ONNX model with 1 channel: x/255' },
  };
  const producer = [proto.producer_name, proto.producer_version].filter((s) => s).join(' ');
  const format = `ONNX model (opset ${converted.opset}${producer ? `, from ${producer}` : ''})`;
  return wrapLayersModel(converted.model, file, opts, converted.weightBytes, format, defaults);
}
