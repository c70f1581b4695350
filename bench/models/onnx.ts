// The benchmark's ONNX models: torchvision's VGG16, MobileNetV2 and ResNet-50 with seeded weights, exported by
// PyTorch (scripts/make-onnx-fixtures.py --bench, Debian's python3-torch) into a folder outside the repository
// when they are missing, and loaded as a user's .onnx file is. Each has a twin built as a layers model of the
// same architecture (its `twin`); the bench prints the ONNX row against it (bench/onnxTwins.ts).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface OnnxBenchSpec {
  /** The export's file name in the folder. */
  file: string;
  title: string;
  /** The layers model of the same architecture. */
  twin: 'vgg16' | 'mobilenetv2' | 'resnet50';
}

export const ONNX_BENCH = {
  'vgg16-onnx': { file: 'vgg16.onnx', title: 'VGG16 ONNX (224)', twin: 'vgg16' },
  'mobilenetv2-onnx': { file: 'mobilenet_v2.onnx', title: 'MobileNetV2 ONNX (224)', twin: 'mobilenetv2' },
  'resnet50-onnx': { file: 'resnet50.onnx', title: 'ResNet-50 ONNX (224)', twin: 'resnet50' },
} as const satisfies Record<string, OnnxBenchSpec>;

export type OnnxBenchName = keyof typeof ONNX_BENCH;

export function isOnnxBenchName(name: string): name is OnnxBenchName {
  return Object.prototype.hasOwnProperty.call(ONNX_BENCH, name);
}

/** Where the exports live: $CNN_LENS_BENCH_ONNX, else a folder in the system's temporary directory (VGG16's is 553 MB). */
export function onnxBenchFolder(): string {
  return process.env.CNN_LENS_BENCH_ONNX || path.join(os.tmpdir(), 'cnn-lens-bench-onnx');
}

export function onnxBenchFile(name: OnnxBenchName): string {
  return path.join(onnxBenchFolder(), ONNX_BENCH[name].file);
}

/**
 * Makes the exports that are missing with PyTorch (about a minute). Returns null when they are all there, or
 * the reason they are not (no PyTorch, the script failed) for the bench to print and skip them.
 */
export function ensureOnnxExports(names: OnnxBenchName[], python: string | null, log: (line: string) => void): string | null {
  const missing = names.filter((n) => !fs.existsSync(onnxBenchFile(n)));
  if (missing.length === 0) return null;
  if (!python) return `${missing.map((n) => ONNX_BENCH[n].file).join(', ')} not in ${onnxBenchFolder()} and PyTorch is not installed to make them (apt-get install python3-torch python3-torchvision)`;
  const script = path.resolve(__dirname, '..', '..', 'scripts', 'make-onnx-fixtures.py');
  log(`exporting the ONNX bench models with PyTorch into ${onnxBenchFolder()} (once; about a minute)…`);
  const r = spawnSync(python, [script, '--bench', onnxBenchFolder()], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20 * 60_000 });
  const still = names.filter((n) => !fs.existsSync(onnxBenchFile(n)));
  if (r.status !== 0 || still.length) {
    const last = (r.stderr ?? '').trim().split('\n').pop();
    return `${script} --bench failed (${r.error?.message ?? `exit ${r.status}`})${last ? `: ${last}` : ''}`.slice(0, 400);
  }
  return null;
}
