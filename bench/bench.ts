// `npm run bench [-- --quick] [--backend B] [--models m1,m2] [--ops o1,o2] [--audit E1,E2|all] [--vs-pytorch] [--runs N] [--threads N] [--out FILE]`
//
// Times every attribution method and feature-visualization step on VGG16, MobileNetV2, InceptionV3, ResNet-50
// (seeded random weights), PyTorch's ONNX exports of VGG16, MobileNetV2 and ResNet-50 (made with python3-torch
// when missing; ./models/onnx.ts) beside their layers twins, and the demo model: median and p90 over several
// runs after a warm-up, and the peak RSS.
// Then `cnn-lens audit` on generated labelled folders (./audit.ts). Each model and each audit runs in its
// own child process so that its peak RSS is its own. Prints the tables and writes bench/results.json with
// the backend, the machine and the commit. --models/--ops alone run only the models, --audit alone only
// the audits; with none of them, both.
import { execFileSync, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs, UsageError, type OptionSpecs, type ParsedArgs } from '../src/cli/args';
import { BACKEND_PREFERENCES, initBackend, wasmThreadCount, type BackendPreference } from '../src/engine/backend';
import { demoModelPath, MODEL_NAMES, openBenchModel, type BenchModelName } from './models';
import type { MethodOptions } from '../src/engine/methods';
import type { LoadedModel } from '../src/engine/model/loadModel';
import { benchInput, HEAVY_OPS, ONLY_ON, OP_NAMES, OP_TITLES, setupOp, type OpName } from './ops';
import { median, quantile } from './stats';
import { checkPytorchTargets, findTorchPython, formatPytorchTable, MAX_RATIO_LOAD, PYTORCH_MODELS, runPytorch, type PytorchResult } from './pytorch';
import { ensureOnnxExports, isOnnxBenchName } from './models/onnx';
import { checkOnnxTwinTargets, formatOnnxTwinTable } from './onnxTwins';
import { AUDIT_ENTRIES, auditEntriesOf, checkAuditTargets, formatAuditTable, runAuditChild, runAuditEntries, type AuditEntryName, type AuditResult } from './audit';

const OPTIONS: OptionSpecs = {
  quick: { type: 'boolean', help: 'fewer runs (the whole table in under 2 minutes on 2 cores)' },
  backend: { type: 'string', choices: BACKEND_PREFERENCES, help: 'TensorFlow.js backend (default auto: native → wasm → cpu)' },
  models: { type: 'list', valueName: 'M[,…]', help: `models to run (default all): ${MODEL_NAMES.join(', ')}` },
  ops: { type: 'list', valueName: 'OP[,…]', help: `operations (default all): ${OP_NAMES.join(', ')}` },
  runs: { type: 'number', valueName: 'N', help: 'timed runs per operation after the warm-up (default 7, heavy 3; quick 3, heavy 1)' },
  threads: { type: 'number', valueName: 'N', help: 'wasm threads (default: the engine default)' },
  batch: { type: 'number', valueName: 'N', help: 'SmoothGrad / integrated gradients: images per batch (default: the engine default)' },
  audit: { type: 'list', valueName: 'E[,…]|all', help: `cnn-lens audit on generated folders: ${AUDIT_ENTRIES.join(', ')} (default all; in --quick ${auditEntriesOf(undefined, true).join(', ')}). Given without --models/--ops, only the audits run; --models/--ops without it, only the models` },
  'vs-pytorch': { type: 'boolean', help: `also time ${'VGG16, MobileNetV2 and Inception V3'} in PyTorch (Debian's python3-torch), each right after CNN Lens's run, and print the ratios (withheld above load ${MAX_RATIO_LOAD})` },
  out: { type: 'string', valueName: 'FILE', help: 'results file (default bench/results.json)' },
  help: { type: 'boolean', help: 'this help' },
  child: { type: 'string', valueName: 'MODEL', help: '(internal) run one model in this process' },
  'audit-child': { type: 'string', valueName: 'ENTRY', help: '(internal) run one audit entry in this process' },
  'audit-model': { type: 'string', valueName: 'FILE', help: '(internal) its model' },
  'audit-folder': { type: 'string', valueName: 'DIR', help: '(internal) its folder' },
};

const INTERNAL_OPTIONS = new Set(['child', 'audit-child', 'audit-model', 'audit-folder']);

export interface OpResult {
  op: OpName;
  title: string;
  runs: number;
  medianMs: number;
  p90Ms: number;
  minMs: number;
  /** CPU time (user + system, all threads) per run, median: less sensitive than wall time to other load on the machine. */
  cpuMs: number;
  warmupMs: number | null;
  note?: string;
  error?: string;
  /** Why the operation was not run (quick mode on a slow model). */
  skipped?: string;
  /** The process's peak RSS so far, after this operation (it only grows: the first op that raises it is the one). */
  peakRssAfterMB?: number;
}

export interface ModelResult {
  model: BenchModelName;
  title: string;
  params: number;
  weightMB: number;
  buildMs: number;
  backend: string;
  threads: number | null;
  ops: OpResult[];
  peakRssMB: number;
  /** Peak RSS once the model was built and one forward pass ran. */
  peakRssAfterBuildMB: number;
  error?: string;
}

interface Settings {
  quick: boolean;
  backend: BackendPreference;
  ops: OpName[];
  runs: number | undefined;
  threads: number | undefined;
  batch: number | undefined;
}

function settingsOf(args: ParsedArgs): Settings {
  const ops = (args.options.ops as string[] | undefined) ?? [...OP_NAMES];
  for (const o of ops) if (!(OP_NAMES as readonly string[]).includes(o)) throw new UsageError(`unknown operation '${o}' (known: ${OP_NAMES.join(', ')})`);
  const runs = args.options.runs as number | undefined;
  if (runs !== undefined && (!Number.isInteger(runs) || runs < 1)) throw new UsageError('--runs must be a whole number ≥ 1');
  const threads = args.options.threads as number | undefined;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) throw new UsageError('--threads must be a whole number ≥ 1');
  const batch = args.options.batch as number | undefined;
  if (batch !== undefined && (!Number.isInteger(batch) || batch < 1)) throw new UsageError('--batch must be a whole number ≥ 1');
  return { quick: args.options.quick === true, backend: (args.options.backend as BackendPreference | undefined) ?? 'auto', ops: ops as OpName[], runs, threads, batch };
}

const mb = (bytes: number) => bytes / (1024 * 1024);

/** In quick mode SmoothGrad and integrated gradients run only on models whose saliency takes less than this. */
const QUICK_HEAVY_LIMIT_MS = 1200;

/** Warm-up calls of a single-image operation at most, and the first call's time above which one is enough. */
const WARMUP_MAX = 6;
const WARMUP_BUDGET_MS = 5000;

/** Integrated-gradients steps: the method's default 64, or 16 in quick mode. */
function igSteps(s: Settings): number {
  return s.quick ? 16 : 64;
}

function opTitle(op: OpName, s: Settings): string {
  return op === 'integrated-gradients' ? `integrated gradients (${igSteps(s)})` : OP_TITLES[op];
}

// ---------------------------------------------------------------------------------------------------
// Child: one model, every operation.

async function runModel(name: BenchModelName, s: Settings): Promise<ModelResult> {
  const backend = await initBackend(s.backend, s.threads !== undefined ? { threads: s.threads } : undefined);
  const bm = await openBenchModel(name);
  const model = bm.model;
  const x = benchInput(model);
  const classIndex = tf.tidy(() => tf.argMax(model.network!.logits(x), -1).dataSync()[0]);
  log(`  ${name}: ${bm.params.toLocaleString('en-US')} weights, built in ${fmtMs(bm.buildMs)}, class ${classIndex} on the test image, peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MB`);
  const result: ModelResult = {
    model: name,
    title: bm.title,
    params: bm.params,
    weightMB: mb(bm.weightBytes),
    buildMs: bm.buildMs,
    backend,
    threads: wasmThreadCount(),
    ops: [],
    peakRssMB: 0,
    peakRssAfterBuildMB: process.resourceUsage().maxRSS / 1024,
  };
  // Single-image operations first: each warmed up, then timed in turns (one run of each, again and again),
  // so that all of them meet the same state of the wasm heap and of V8's compiled code. Timed one after the
  // other, the first gradient method kept paying for memory the later ones found ready: saliency measured
  // 4% slower than guided backprop on all three models though it does less.
  const pending = new Map<OpName, OpResult>();
  const timed: Timing[] = [];
  for (const op of s.ops) {
    const skipped = skipReason(op, name, s, null);
    if (skipped) pending.set(op, skippedResult(op, s, skipped));
    else if (!HEAVY_OPS.has(op)) {
      const t = startTiming(op, model, x, classIndex, s);
      timed.push(t);
    }
  }
  const turns = Math.max(0, ...timed.map((t) => t.runs));
  for (let i = 0; i < turns; i++) for (const t of timed) if (!t.error && t.times.length < t.runs) timeOnce(t);
  const rssAfterLight = process.resourceUsage().maxRSS / 1024;
  for (const t of timed) {
    pending.set(t.op, finish(t, s, rssAfterLight));
    log(`  ${name} ${t.op}: ${t.times.length ? `${fmtMs(median(t.times))} median of ${t.times.length} (cpu ${fmtMs(median(t.cpu))}), first call ${fmtMs(t.warmupMs ?? NaN)}` : 'failed'}`);
  }
  // Then the sampling and perturbation methods, one after another.
  for (const op of s.ops) {
    if (pending.has(op) || !HEAVY_OPS.has(op)) continue;
    const saliency = pending.get('saliency');
    const skipped = skipReason(op, name, s, saliency && !saliency.error && !saliency.skipped ? saliency.medianMs : null);
    if (skipped) {
      pending.set(op, skippedResult(op, s, skipped));
      log(`  ${name} ${op}: skipped (${skipped})`);
      continue;
    }
    const t = startTiming(op, model, x, classIndex, s);
    while (!t.error && t.times.length < t.runs) timeOnce(t);
    const r = finish(t, s, process.resourceUsage().maxRSS / 1024);
    pending.set(op, r);
    log(`  ${name} ${op}: ${t.times.length ? `${fmtMs(r.medianMs)} median of ${t.times.length} (cpu ${fmtMs(r.cpuMs)}), peak RSS ${Math.round(r.peakRssAfterMB ?? 0)} MB` : 'failed'}`);
  }
  for (const op of s.ops) {
    const r = pending.get(op);
    if (r) result.ops.push(r);
  }
  x.dispose();
  model.dispose();
  result.peakRssMB = process.resourceUsage().maxRSS / 1024;
  return result;
}

interface Timing {
  op: OpName;
  title: string;
  setup: ReturnType<typeof setupOp> | null;
  runs: number;
  times: number[];
  cpu: number[];
  warmupMs: number | null;
  error?: string;
}

/** Why `op` is not run on this model, or null. `saliencyMs`: the model's saliency median, for --quick's limit. */
function skipReason(op: OpName, model: BenchModelName, s: Settings, saliencyMs: number | null): string | null {
  const only = ONLY_ON[op];
  if (s.quick && (op === 'rise' || op === 'scorecam')) return 'not in quick mode (thousands of forward passes)';
  if (only && !only.includes(model)) return `run only on ${only.join(', ')}`;
  // Keeps --quick within its time: 25 or 17 gradients of a model this slow take minutes.
  if (s.quick && HEAVY_OPS.has(op) && saliencyMs !== null && saliencyMs > QUICK_HEAVY_LIMIT_MS) return `quick mode runs it only when one saliency takes under ${QUICK_HEAVY_LIMIT_MS} ms (here ${Math.round(saliencyMs)} ms)`;
  return null;
}

function skippedResult(op: OpName, s: Settings, why: string): OpResult {
  return { op, title: opTitle(op, s), runs: 0, medianMs: NaN, p90Ms: NaN, minMs: NaN, cpuMs: NaN, warmupMs: null, skipped: why };
}

/**
 * Sets the operation up and warms it up. Quick mode skips the warm-up of the sampling methods: the
 * single-image methods before them have already warmed up every kernel they use. The first call (kept as
 * warmupMs: what a one-off CLI call pays) makes XNNPACK's operators and flipped kernels; the calls after it
 * still speed up while V8 compiles the gradient tape's JavaScript — a MobileNetV2 saliency took 368, 153,
 * 123, 108 … 77 ms over ten calls — so single-image operations warm up until a call is no more than 10%
 * faster than the one before (at most WARMUP_MAX calls).
 */
function startTiming(op: OpName, model: LoadedModel, x: tf.Tensor, classIndex: number, s: Settings): Timing {
  const heavy = HEAVY_OPS.has(op);
  const options: Partial<MethodOptions> = {};
  if (s.batch !== undefined) options.batchSize = s.batch;
  if (op === 'integrated-gradients') options.steps = igSteps(s);
  const t: Timing = { op, title: opTitle(op, s), setup: null, runs: 0, times: [], cpu: [], warmupMs: null };
  try {
    t.setup = setupOp(op, model, x, classIndex, options);
    if (!(s.quick && heavy)) {
      let previous = Infinity;
      for (let w = 0; w < (heavy ? 1 : WARMUP_MAX); w++) {
        const t0 = performance.now();
        t.setup.run();
        const ms = performance.now() - t0;
        t.warmupMs ??= ms;
        if (ms > previous / 1.1 || t.warmupMs > WARMUP_BUDGET_MS) break;
        previous = ms;
      }
    }
    let runs = s.runs ?? (s.quick ? (heavy ? 1 : 3) : heavy ? 3 : 7);
    // A time budget per operation keeps slow backends from running for hours.
    const budgetMs = s.quick ? 8000 : 90000;
    if (t.warmupMs !== null && s.runs === undefined) runs = Math.max(1, Math.min(runs, Math.floor(budgetMs / Math.max(1, t.warmupMs))));
    t.runs = runs;
  } catch (e) {
    t.error = (e as Error).message.split('\n')[0];
  }
  return t;
}

function timeOnce(t: Timing): void {
  try {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    t.setup!.run();
    t.times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    t.cpu.push((c.user + c.system) / 1000);
  } catch (e) {
    t.error = (e as Error).message.split('\n')[0];
  }
}

function finish(t: Timing, s: Settings, peakRssAfterMB: number): OpResult {
  const note = t.setup?.note;
  if (t.error) return { op: t.op, title: t.title, runs: t.times.length, medianMs: NaN, p90Ms: NaN, minMs: NaN, cpuMs: NaN, warmupMs: t.warmupMs, note, error: t.error, peakRssAfterMB };
  return { op: t.op, title: t.title, runs: t.times.length, medianMs: median(t.times), p90Ms: quantile(t.times, 0.9), minMs: Math.min(...t.times), cpuMs: median(t.cpu), warmupMs: t.warmupMs, note, peakRssAfterMB };
}

function log(line: string): void {
  process.stderr.write(line + '\n');
}

// ---------------------------------------------------------------------------------------------------
// Parent: a child process per model, then the table and results.json.

function runChild(name: BenchModelName, argv: string[]): Promise<ModelResult> {
  return new Promise((resolve) => {
    const child = fork(__filename, [...argv, '--child', name], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let got: ModelResult | null = null;
    child.on('message', (m) => (got = m as ModelResult));
    child.on('exit', (code, signal) => {
      if (got) resolve(got);
      else resolve({ model: name, title: name, params: 0, weightMB: 0, buildMs: 0, backend: '?', threads: null, ops: [], peakRssMB: NaN, peakRssAfterBuildMB: NaN, error: `the benchmark process exited with ${signal ?? `code ${code}`}` });
    });
  });
}

function commitOf(): string {
  try {
    const cwd = path.resolve(__dirname, '..', '..');
    const head = execFileSync('git', ['rev-parse', '--short=10', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bench'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${head}+uncommitted` : head;
  } catch {
    return 'unknown';
  }
}

function fmtMs(v: number): string {
  if (!Number.isFinite(v)) return '—';
  return v >= 10000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`;
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

export interface TargetCheck {
  what: string;
  value: number;
  limit: number;
  ok: boolean;
}

/** The issue's targets, checked against a set of results. */
export function checkTargets(results: ModelResult[]): TargetCheck[] {
  const out: TargetCheck[] = [];
  const get = (m: string, op: OpName) => results.find((r) => r.model === m)?.ops.find((o) => o.op === op && !o.error)?.medianMs;
  const add = (what: string, value: number | undefined, limit: number | undefined) => {
    if (value !== undefined && limit !== undefined && Number.isFinite(value)) out.push({ what, value, limit, ok: value <= limit });
  };
  add('VGG16 Grad-CAM ≤ 600 ms', get('vgg16', 'gradcam'), 600);
  add('VGG16 saliency ≤ 1500 ms', get('vgg16', 'saliency'), 1500);
  add('MobileNetV2 saliency ≤ 250 ms', get('mobilenetv2', 'saliency'), 250);
  add('InceptionV3 saliency ≤ 800 ms', get('inceptionv3', 'saliency'), 800);
  add('MobileNetV2 Score-CAM (64 channels) ≤ 3000 ms', get('mobilenetv2', 'scorecam-64'), 3000);
  add('MobileNetV2 occlusion (patch 28, stride 14) ≤ 2000 ms', get('mobilenetv2', 'occlusion'), 2000);
  add('MobileNetV2 RISE (2000 masks) ≤ 40000 ms', get('mobilenetv2', 'rise'), 40000);
  const vggForward = get('vgg16', 'forward');
  add('VGG16 Score-CAM (512 channels) ≤ 1.2 × 512 forward passes', get('vgg16', 'scorecam'), vggForward !== undefined ? 1.2 * 512 * vggForward : undefined);
  for (const r of results) {
    const sal = get(r.model, 'saliency');
    const fwd = get(r.model, 'forward');
    const guided = get(r.model, 'guided-backprop');
    const times = (k: number, v: number | undefined) => (v !== undefined ? k * v : undefined);
    // Issue 18: each method at the cost its math needs, relative to the forward pass and to one saliency, on
    // the three ImageNet architectures (the 64-px demo model's times are per-op overhead).
    if (r.model !== 'demo') {
      add(`${r.title} Grad-CAM ≤ 1.15× forward`, get(r.model, 'gradcam'), times(1.15, fwd));
      add(`${r.title} saliency ≤ 2.5× forward`, sal, times(2.5, fwd));
      add(`${r.title} guided backprop ≤ 2.5× forward`, guided, times(2.5, fwd));
      add(`${r.title} saliency ≤ guided backprop`, sal, guided);
      add(`${r.title} SmoothGrad(25) ≤ 25× saliency`, get(r.model, 'smoothgrad'), times(25, sal));
      const ig = r.ops.find((o) => o.op === 'integrated-gradients' && !o.error);
      const steps = Number(/\((\d+)\)/.exec(ig?.title ?? '')?.[1]);
      if (ig && steps) add(`${r.title} integrated gradients (${steps}) ≤ ${steps + 1}× saliency`, ig.medianMs, times(steps + 1, sal));
    }
    add(`${r.title} SmoothGrad(25) ≤ 10× saliency`, get(r.model, 'smoothgrad'), sal !== undefined ? 10 * sal : undefined);
    if (Number.isFinite(r.peakRssMB) && r.weightMB > 0) add(`${r.title} peak RSS ≤ 2× weights + 1 GB (MB)`, r.peakRssMB, 2 * r.weightMB + 1024);
  }
  return out;
}

export function formatTable(results: ModelResult[], ops: OpName[]): string {
  const cols = results.map((r) => r.title);
  const titleOf = (op: OpName) => results.flatMap((r) => r.ops).find((o) => o.op === op)?.title ?? OP_TITLES[op];
  const first = Math.max(24, ...ops.map((o) => titleOf(o).length)) + 2;
  const width = Math.max(18, ...cols.map((c) => c.length + 2));
  const lines: string[] = [];
  lines.push(pad('median / p90', first) + cols.map((c) => pad(c, width, true)).join(''));
  for (const op of ops) {
    const cells = results.map((r) => {
      const o = r.ops.find((x) => x.op === op);
      if (!o) return r.error ? 'failed' : '';
      if (o.error) return 'error';
      if (o.skipped) return 'skipped';
      return `${fmtMs(o.medianMs)} / ${fmtMs(o.p90Ms)}`;
    });
    lines.push(pad(titleOf(op), first) + cells.map((c) => pad(c, width, true)).join(''));
  }
  lines.push(pad('CPU time, median', first) + results.map(() => pad('', width, true)).join(''));
  for (const op of ops) {
    const cells = results.map((r) => {
      const o = r.ops.find((x) => x.op === op);
      return o && !o.error && !o.skipped ? fmtMs(o.cpuMs) : '';
    });
    lines.push(pad('  ' + titleOf(op), first) + cells.map((c) => pad(c, width, true)).join(''));
  }
  lines.push(pad('first call (cold)', first) + results.map(() => pad('', width, true)).join(''));
  for (const op of ops) {
    const cells = results.map((r) => {
      const o = r.ops.find((x) => x.op === op);
      return o && !o.error && !o.skipped && o.warmupMs !== null ? fmtMs(o.warmupMs) : '';
    });
    lines.push(pad('  ' + titleOf(op), first) + cells.map((c) => pad(c, width, true)).join(''));
  }
  lines.push(pad('peak RSS (weights)', first) + results.map((r) => pad(Number.isFinite(r.peakRssMB) ? `${Math.round(r.peakRssMB)} MB (${Math.round(r.weightMB)})` : '—', width, true)).join(''));
  return lines.join('\n');
}

export function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, memoryGB: Math.round(os.totalmem() / 2 ** 30), node: process.version, platform: `${os.platform()} ${os.arch()}` };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const args = parseArgs(argv, OPTIONS);
  if (args.options.help) {
    process.stdout.write('npm run bench -- [options]\n' + Object.entries(OPTIONS).filter(([k]) => !INTERNAL_OPTIONS.has(k)).map(([k, o]) => `  --${k}${o.valueName ? ' ' + o.valueName : ''}  ${o.help}`).join('\n') + '\n');
    return 0;
  }
  const s = settingsOf(args);
  const childModel = args.options.child as string | undefined;
  if (childModel) {
    const r = await runModel(childModel as BenchModelName, s);
    process.send?.(r);
    return 0;
  }
  const auditChild = args.options['audit-child'] as string | undefined;
  if (auditChild) {
    const r = await runAuditChild({ entry: auditChild as AuditEntryName, model: args.options['audit-model'] as string, folder: args.options['audit-folder'] as string, backend: s.backend, threads: s.threads });
    process.send?.(r);
    return 0;
  }
  // --models/--ops select the model section, --audit the audit section; with none of them, both run.
  const modelSelected = args.options.models !== undefined || args.options.ops !== undefined;
  const auditSelected = args.options.audit !== undefined;
  const runModels = modelSelected || !auditSelected;
  const runAudits = auditSelected || !modelSelected;
  let auditEntries: AuditEntryName[];
  try {
    auditEntries = runAudits ? auditEntriesOf(args.options.audit as string[] | undefined, s.quick) : [];
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const models = runModels ? ((args.options.models as string[] | undefined) ?? [...MODEL_NAMES]).map((m) => m.toLowerCase()) : [];
  for (const m of models) if (!(MODEL_NAMES as readonly string[]).includes(m)) throw new UsageError(`unknown model '${m}' (known: ${MODEL_NAMES.join(', ')})`);
  let wanted = models.filter((m) => {
    if (m !== 'demo' || demoModelPath()) return true;
    log('demo: media/demo/model.json is not present; skipped');
    return false;
  }) as BenchModelName[];
  // The ONNX exports are made (once, before any timing) or skipped with the reason.
  const onnxWanted = wanted.filter(isOnnxBenchName);
  let onnxSkipped: string | null = null;
  if (onnxWanted.length) {
    const py = findTorchPython();
    onnxSkipped = ensureOnnxExports(onnxWanted, 'python' in py ? py.python : null, log);
  }
  if (onnxSkipped) {
    log(`ONNX models skipped: ${onnxSkipped}`);
    wanted = wanted.filter((m) => !isOnnxBenchName(m));
  }

  const started = new Date();
  const loadBefore = os.loadavg()[0];
  const t0 = performance.now();
  const results: ModelResult[] = [];
  const torch = args.options['vs-pytorch'] ? findTorchPython() : null;
  if (torch && 'missing' in torch) log(torch.missing);
  const pytorch: PytorchResult[] = [];
  for (const m of wanted) {
    log(`${m}…`);
    const r = await runChild(m, argv);
    results.push(r);
    if (torch && 'python' in torch && (PYTORCH_MODELS as readonly string[]).includes(m)) {
      log(`${m} in PyTorch…`);
      pytorch.push(runPytorch(torch.python, m, r.threads ?? s.threads ?? 2, s.runs ?? (s.quick ? 3 : 7)));
    }
  }
  const audits: AuditResult[] = auditEntries.length ? await runAuditEntries(__filename, argv, auditEntries, path.resolve(__dirname, '..', '..'), log) : [];
  const totalS = (performance.now() - t0) / 1000;
  const machine = machineInfo();
  const first = results.find((r) => !r.error) ?? audits.find((r) => !r.error && !r.skipped);
  const header = `backend ${first?.backend ?? '?'}${first?.threads ? ` (${first.threads} thread${first.threads > 1 ? 's' : ''})` : ''}, ${machine.cores} cores (${machine.cpu}), Node ${machine.node}, commit ${commitOf()}${s.quick ? ', quick' : ''}; load average ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after; ${totalS.toFixed(0)} s`;
  const targets = [...checkTargets(results), ...checkPytorchTargets(results, pytorch, loadBefore), ...checkOnnxTwinTargets(results), ...checkAuditTargets(audits)];
  const out: string[] = [header, ''];
  if (results.length) out.push(formatTable(results, s.ops), '');
  const twins = formatOnnxTwinTable(results);
  if (twins.length) out.push(...twins, '');
  if (onnxSkipped) out.push(`ONNX models skipped: ${onnxSkipped}`, '');
  if (pytorch.length) out.push(...formatPytorchTable(results, pytorch, loadBefore), '');
  if (audits.length) out.push(formatAuditTable(audits), '');
  for (const r of results) {
    if (r.error) out.push(`${r.title}: ${r.error}`);
    for (const o of r.ops) if (o.error) out.push(`${r.title} ${o.title}: ${o.error}`);
    for (const o of r.ops) if (o.skipped) out.push(`${r.title} ${o.title}: skipped; ${o.skipped}`);
  }
  const notes = new Set(results.flatMap((r) => r.ops.filter((o) => o.note).map((o) => `${r.title} ${o.title}: ${o.note}`)));
  if (notes.size) out.push(...notes, '');
  if (targets.length) {
    out.push('targets:');
    for (const t of targets) out.push(`  ${t.ok ? 'ok  ' : 'MISS'} ${t.what}: ${Math.round(t.value)} (limit ${Math.round(t.limit)})`);
  }
  process.stdout.write(out.join('\n') + '\n');

  const file = (args.options.out as string | undefined) ?? path.resolve(__dirname, '..', '..', 'bench', 'results.json');
  const json = { date: started.toISOString(), commit: commitOf(), quick: s.quick, backendRequested: s.backend, machine, loadAverage: { before: loadBefore, after: os.loadavg()[0] }, totalSeconds: totalS, results, pytorch, audits, targets };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(json, null, 2) + '\n');
  log(`wrote ${path.relative(process.cwd(), file) || file}`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    process.stderr.write(`bench: ${e instanceof UsageError ? e.message : (e as Error).stack ?? e}\n`);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  },
);
