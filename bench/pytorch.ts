// `npm run bench -- --vs-pytorch`: PyTorch's times for the same architectures (bench/pytorch_bench.py, run with
// Debian's python3-torch), taken in the same run right after CNN Lens's child process for each model, and the
// ratio column. Ratios are printed only when the machine was idle when the bench started: PyTorch's thread pool
// degrades far more than wasm under load, so a ratio taken at load 5 says nothing about either.
import { execFileSync, spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ModelResult } from './bench';

/** The bench models torchvision has. */
export const PYTORCH_MODELS = ['vgg16', 'mobilenetv2', 'inceptionv3'] as const;

/** Above this 1-minute load average the ratios are withheld. */
export const MAX_RATIO_LOAD = 1.5;

const COMPARED = [
  ['forward', 'forward'],
  ['gradcam', 'Grad-CAM'],
  ['saliency', 'saliency'],
] as const;

interface Timing {
  medianMs: number;
  minMs: number;
  runs: number;
}

export interface PytorchResult {
  model: string;
  torch?: string;
  threads?: number;
  forward?: Timing;
  gradcam?: Timing;
  saliency?: Timing;
  /** The 1-minute load average when this model's PyTorch run ended. */
  load: number;
  error?: string;
}

const PYTHON = ['/usr/bin/python3', 'python3'];

/** The Python that has torch and torchvision, or null with the reason. */
export function findTorchPython(): { python: string } | { missing: string } {
  for (const py of PYTHON) {
    const r = spawnSync(py, ['-c', 'import torch, torchvision'], { encoding: 'utf8' });
    if (r.status === 0) return { python: py };
  }
  return { missing: 'PyTorch is not installed (apt-get install python3-torch python3-torchvision); --vs-pytorch skipped' };
}

export function runPytorch(python: string, model: string, threads: number, runs: number): PytorchResult {
  const script = path.resolve(__dirname, '..', '..', 'bench', 'pytorch_bench.py');
  try {
    const out = execFileSync(python, [script, '--model', model, '--threads', String(threads), '--runs', String(runs)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30 * 60_000 });
    return { ...(JSON.parse(out.trim().split('\n').pop()!) as Omit<PytorchResult, 'load'>), load: os.loadavg()[0] };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    return { model, load: os.loadavg()[0], error: (err.stderr?.trim().split('\n').pop() ?? err.message).slice(0, 300) };
  }
}

function fmt(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
}

/**
 * The side-by-side table; the ratio column only when the machine was idle before the bench started (load
 * average ≤ MAX_RATIO_LOAD). The load during the run is no test: a 2-thread bench on 2 cores raises the
 * 1-minute average towards 2 by itself.
 */
export function formatPytorchTable(ours: ModelResult[], theirs: PytorchResult[], loadBefore: number): string[] {
  const ratios = loadBefore <= MAX_RATIO_LOAD;
  const rows: string[][] = [['model', 'operation', 'CNN Lens', 'PyTorch', ratios ? 'ratio' : 'ratio (withheld)']];
  for (const t of theirs) {
    const o = ours.find((r) => r.model === t.model);
    for (const [op, title] of COMPARED) {
      const a = o?.ops.find((x) => x.op === op)?.medianMs;
      const b = t[op]?.medianMs;
      const ratio = ratios && a !== undefined && b !== undefined && Number.isFinite(a) && b > 0 ? `${(a / b).toFixed(2)}×` : '-';
      rows.push([o?.title ?? t.model, title, fmt(a), t.error ? 'failed' : fmt(b), ratio]);
    }
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const out = [`CNN Lens beside PyTorch ${theirs.find((t) => t.torch)?.torch ?? ''} (${theirs.find((t) => t.threads)?.threads ?? '?'} threads), medians:`];
  out.push(...rows.map((r) => '  ' + r.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()));
  if (!ratios) out.push(`  ratios withheld: the load average was ${loadBefore.toFixed(2)} when the bench started (limit ${MAX_RATIO_LOAD}); under load PyTorch's thread pool slows far more than wasm, so the ratio would mislead. Run on an idle machine.`);
  out.push(`  load average when each PyTorch run ended (the bench's own 2 threads included): ${theirs.map((t) => `${t.model} ${t.load.toFixed(2)}`).join(', ')}`);
  for (const t of theirs) if (t.error) out.push(`  PyTorch ${t.model}: ${t.error}`);
  return out;
}

/** Issue 18's targets against PyTorch (Grad-CAM ≤ 1.3×, saliency ≤ 2×, forward ≤ 1.3×); none when the ratios are withheld. */
export function checkPytorchTargets(ours: ModelResult[], theirs: PytorchResult[], loadBefore: number): { what: string; value: number; limit: number; ok: boolean }[] {
  if (loadBefore > MAX_RATIO_LOAD) return [];
  const limits: Partial<Record<(typeof COMPARED)[number][0], number>> = { forward: 1.3, gradcam: 1.3, saliency: 2 };
  const out: { what: string; value: number; limit: number; ok: boolean }[] = [];
  for (const t of theirs) {
    const o = ours.find((r) => r.model === t.model);
    for (const [op, title] of COMPARED) {
      const a = o?.ops.find((x) => x.op === op)?.medianMs;
      const b = t[op]?.medianMs;
      const k = limits[op];
      if (k === undefined || a === undefined || b === undefined || !Number.isFinite(a) || !(b > 0)) continue;
      out.push({ what: `${o?.title ?? t.model} ${title} ≤ ${k}× PyTorch (ms)`, value: a, limit: k * b, ok: a <= k * b });
    }
  }
  return out;
}
