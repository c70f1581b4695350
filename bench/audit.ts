// The bench's audit entries: `cnn-lens audit` on generated labelled folders (./auditData.ts), timed through
// the command's own entry (what `cnn-lens audit` dispatches to) in a child process of its own, so that the peak RSS is that run's. What is
// timed is everything the command does after Node has started: backend, model, every image classified,
// the heatmaps of the images shown, summary.json and index.html written.
//
// Entries: the issue's two speed goals (1,000 64×64 images on the demo model ≤ 15 s; 200 224×224 images
// on a Teachable Machine model ≤ 40 s), and the demo model on 200 and 3,000 images, which with the
// 1,000 show whether memory stays flat with the number of images.
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { parseArgs } from '../src/cli/args';
import { AUDIT_OPTIONS, runAuditCommand } from '../src/cli/commands/audit';
import type { CliIO } from '../src/cli/io';
import { wasmThreadCount } from '../src/engine/backend';
import { loadAnyModel } from '../src/engine/model/loadModel';
import { writeAuditFolder, type FolderSpec } from './auditData';
import { demoModelPath } from './models';

export const AUDIT_ENTRIES = ['demo-1000', 'tm-200', 'demo-200', 'demo-3000'] as const;
export type AuditEntryName = (typeof AUDIT_ENTRIES)[number];

interface EntrySpec {
  model: 'demo' | 'tm';
  images: number;
  size: number;
  /** The issue's goal for the whole run (ms), if it sets one. */
  goalMs?: number;
  /** Run in --quick too. */
  quick: boolean;
}

const SPECS: Record<AuditEntryName, EntrySpec> = {
  'demo-1000': { model: 'demo', images: 1000, size: 64, goalMs: 15000, quick: true },
  'tm-200': { model: 'tm', images: 200, size: 224, goalMs: 40000, quick: true },
  'demo-200': { model: 'demo', images: 200, size: 64, quick: false },
  'demo-3000': { model: 'demo', images: 3000, size: 64, quick: false },
};

/** The entries a run does: the named ones, or all (in --quick, the two with goals). */
export function auditEntriesOf(names: string[] | undefined, quick: boolean): AuditEntryName[] {
  if (!names || (names.length === 1 && names[0] === 'all')) return AUDIT_ENTRIES.filter((e) => !quick || SPECS[e].quick);
  for (const n of names) if (!(AUDIT_ENTRIES as readonly string[]).includes(n)) throw new Error(`unknown audit entry '${n}' (known: ${AUDIT_ENTRIES.join(', ')}, all)`);
  return names as AuditEntryName[];
}

export interface AuditResult {
  entry: AuditEntryName;
  title: string;
  model: string | null;
  images: number;
  size: number;
  goalMs: number | null;
  /** Seconds to write the folder (not part of the timed run). */
  generateMs: number;
  /** The audit command from call to return. */
  wallMs: number;
  cpuMs: number;
  /** The report's own elapsedMs (classification and heatmaps, without backend start and model load). */
  auditMs: number;
  backend: string;
  threads: number | null;
  /** Peak RSS of the child before the command ran (bundle loaded, nothing else), and at the end. */
  rssBeforeMB: number;
  peakRssMB: number;
  /** The wasm module's memory at the end (it grows and never shrinks: its peak). */
  wasmHeapMB: number | null;
  /** tf.memory().numTensors after the command returned (it disposes the model). */
  tensorsAfter: number;
  /**
   * Tensors that loading and disposing the same model once more leaves (measured after the run): not the
   * audit's. tfjs-layers leaves a Teachable Machine model's dense head (a nested Sequential whose layers it
   * counts twice) after dispose(), also when the model is loaded with plain tfl.loadLayersModel.
   */
  tensorsLeftByLoad: number;
  accuracy: number | null;
  mistakes: number;
  /** Images the report shows (gallery + least confident) and the picture files it wrote. */
  shown: number;
  files: number;
  summaryBytes: number;
  /** One-minute load average before and after the run. */
  loadBefore: number;
  loadAfter: number;
  skipped?: string;
  error?: string;
}

function titleOf(name: AuditEntryName, modelName: string | null): string {
  const s = SPECS[name];
  const m = s.model === 'demo' ? 'demo model' : `Teachable Machine${modelName ? ` (${modelName})` : ''}`;
  return `${m}, ${s.images.toLocaleString('en-US')} images ${s.size}×${s.size}`;
}

/** The fixtures' Teachable Machine models: $CNN_LENS_FIXTURES, else ../shared/fixtures/models beside the repository. */
function tmModelPath(root: string): string | null {
  const dir = process.env.CNN_LENS_FIXTURES ?? path.resolve(root, '..', 'shared', 'fixtures', 'models');
  if (!fs.existsSync(dir)) return null;
  const names = fs.readdirSync(dir).filter((n) => n.startsWith('tm-')).sort();
  // The 12-class model first (the larger head), else any other.
  names.sort((a, b) => Number(b === 'tm-waste-12') - Number(a === 'tm-waste-12'));
  for (const n of names) {
    const f = path.join(dir, n, 'model.json');
    if (fs.existsSync(f) && fs.existsSync(path.join(dir, n, 'metadata.json'))) return f;
  }
  return null;
}

function labelsOf(modelFile: string): string[] {
  const meta = JSON.parse(fs.readFileSync(path.join(path.dirname(modelFile), 'metadata.json'), 'utf8')) as { labels?: unknown };
  if (!Array.isArray(meta.labels) || !meta.labels.every((l) => typeof l === 'string')) throw new Error(`${modelFile}: metadata.json has no labels`);
  return meta.labels as string[];
}

const mb = (bytes: number) => bytes / (1024 * 1024);
const maxRssMB = () => process.resourceUsage().maxRSS / 1024;

// ---------------------------------------------------------------------------------------------------
// Child: one audit.

export interface AuditChildArgs {
  entry: AuditEntryName;
  model: string;
  folder: string;
  backend: string;
  threads: number | undefined;
}

export async function runAuditChild(a: AuditChildArgs): Promise<Partial<AuditResult>> {
  if (a.threads !== undefined) process.env.CNN_LENS_WASM_THREADS = String(a.threads);
  const out = path.join(path.dirname(a.folder), 'report');
  const stdout: string[] = [];
  const stderr: string[] = [];
  const io: CliIO = { out: (l) => stdout.push(l), err: (l) => stderr.push(l), interactive: false, verbose: false };
  const rssBeforeMB = maxRssMB();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let code: number;
  try {
    code = await runAuditCommand(parseArgs([a.model, a.folder, '--out', out, '--json', '--backend', a.backend], AUDIT_OPTIONS), io);
  } catch (e) {
    return { error: `cnn-lens audit failed: ${(e as Error).message.split('\n')[0]}` };
  }
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  if (code !== 0) return { wallMs, error: `cnn-lens audit exited with ${code}: ${stderr.slice(-1)[0] ?? ''}` };
  const j = JSON.parse(stdout.join('\n')) as { images: number; accuracy: number | null; misclassified: unknown[] };
  const summaryFile = path.join(out, 'summary.json');
  const summary = JSON.parse(fs.readFileSync(summaryFile, 'utf8')) as { elapsedMs: number; gallery: unknown[]; leastConfident: unknown[] };
  const wasm = (tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } }).wasm;
  const peakRssMB = maxRssMB();
  const wasmHeapMB = wasm?.HEAPU8 ? mb(wasm.HEAPU8.buffer.byteLength) : null;
  const tensorsAfter = tf.memory().numTensors;
  (await loadAnyModel(a.model)).dispose();
  return {
    images: j.images,
    wallMs,
    cpuMs: (c.user + c.system) / 1000,
    auditMs: summary.elapsedMs,
    backend: tf.getBackend(),
    threads: wasmThreadCount(),
    rssBeforeMB,
    peakRssMB,
    wasmHeapMB,
    tensorsAfter,
    tensorsLeftByLoad: tf.memory().numTensors - tensorsAfter,
    accuracy: j.accuracy,
    mistakes: j.misclassified.length,
    shown: summary.gallery.length + summary.leastConfident.length,
    files: fs.readdirSync(path.join(out, 'images')).length,
    summaryBytes: fs.statSync(summaryFile).size,
  };
}

// ---------------------------------------------------------------------------------------------------
// Parent: a folder and a child process per entry.

function forkChild(script: string, argv: string[], a: Omit<AuditChildArgs, 'backend' | 'threads'>): Promise<Partial<AuditResult>> {
  return new Promise((resolve) => {
    const child = fork(script, [...argv, '--audit-child', a.entry, '--audit-model', a.model, '--audit-folder', a.folder], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let got: Partial<AuditResult> | null = null;
    child.on('message', (m) => (got = m as Partial<AuditResult>));
    child.on('exit', (code, signal) => resolve(got ?? { error: `the benchmark process exited with ${signal ?? `code ${code}`}` }));
  });
}

export async function runAuditEntries(script: string, argv: string[], entries: AuditEntryName[], root: string, log: (l: string) => void): Promise<AuditResult[]> {
  const results: AuditResult[] = [];
  for (const name of entries) {
    const spec = SPECS[name];
    const model = spec.model === 'demo' ? demoModelPath() : tmModelPath(root);
    const base: AuditResult = {
      entry: name,
      title: titleOf(name, model && spec.model === 'tm' ? path.basename(path.dirname(model)) : null),
      model,
      images: spec.images,
      size: spec.size,
      goalMs: spec.goalMs ?? null,
      generateMs: NaN,
      wallMs: NaN,
      cpuMs: NaN,
      auditMs: NaN,
      backend: '?',
      threads: null,
      rssBeforeMB: NaN,
      peakRssMB: NaN,
      wasmHeapMB: null,
      tensorsAfter: NaN,
      tensorsLeftByLoad: NaN,
      accuracy: null,
      mistakes: NaN,
      shown: NaN,
      files: NaN,
      summaryBytes: NaN,
      loadBefore: os.loadavg()[0],
      loadAfter: NaN,
    };
    if (!model) {
      base.skipped = spec.model === 'demo' ? 'media/demo/model.json is not present' : 'no Teachable Machine model (tm-*/model.json) in $CNN_LENS_FIXTURES or ../shared/fixtures/models';
      log(`audit ${name}: SKIPPED: ${base.skipped}`);
      results.push(base);
      continue;
    }
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `cnn-lens-bench-${name}-`));
    try {
      const folder = path.join(tmp, 'images');
      const folderSpec: FolderSpec = { kind: spec.model === 'demo' ? 'shapes' : 'scenes', images: spec.images, size: spec.size, labels: labelsOf(model) };
      const g0 = performance.now();
      writeAuditFolder(folder, folderSpec);
      base.generateMs = performance.now() - g0;
      log(`audit ${name}: ${spec.images} images written in ${(base.generateMs / 1000).toFixed(1)} s; auditing (load average ${os.loadavg()[0].toFixed(2)})…`);
      base.loadBefore = os.loadavg()[0];
      const r = await forkChild(script, argv, { entry: name, model, folder });
      base.loadAfter = os.loadavg()[0];
      Object.assign(base, r);
      log(`audit ${name}: ${r.error ? `failed: ${r.error}` : `${fmtS(base.wallMs)} (audit ${fmtS(base.auditMs)}), peak RSS ${Math.round(base.peakRssMB)} MB, ${base.tensorsAfter} tensors after`}`);
    } catch (e) {
      base.error = (e as Error).message.split('\n')[0];
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
    results.push(base);
  }
  return results;
}

// ---------------------------------------------------------------------------------------------------
// Output.

function fmtS(ms: number): string {
  return Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : '—';
}

const cell = (v: number, unit = '', digits = 0) => (Number.isFinite(v) ? `${v.toFixed(digits)}${unit}` : '—');

export function formatAuditTable(results: AuditResult[]): string {
  const head = ['', 'wall', 'goal', 'audit', 'CPU', 'peak RSS', 'wasm heap', 'tensors after', 'accuracy', 'mistakes', 'shown', 'load avg'];
  const rows = results.map((r) => {
    if (r.skipped) return [r.title, `skipped: ${r.skipped}`];
    if (r.error) return [r.title, `failed: ${r.error}`];
    return [
      r.title,
      fmtS(r.wallMs),
      r.goalMs !== null ? `≤ ${fmtS(r.goalMs)}` : '',
      fmtS(r.auditMs),
      fmtS(r.cpuMs),
      cell(r.peakRssMB, ' MB'),
      r.wasmHeapMB !== null ? cell(r.wasmHeapMB, ' MB') : '—',
      `${r.tensorsAfter}${r.tensorsLeftByLoad ? ` (load: ${r.tensorsLeftByLoad})` : ''}`,
      r.accuracy !== null ? `${(r.accuracy * 100).toFixed(1)}%` : '—',
      String(r.mistakes),
      String(r.shown),
      `${r.loadBefore.toFixed(2)}→${r.loadAfter.toFixed(2)}`,
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.filter((r) => i === 0 || r.length === head.length).map((r) => r[i].length)));
  const line = (r: string[]) => (r.length === head.length ? r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ') : `${r[0].padEnd(widths[0])}  ${r[1]}`);
  return [
    'cnn-lens audit (the command in-process: backend, model, every image, heatmaps of the shown images, report written; wall = whole command, audit = the report\'s elapsedMs)',
    line(head),
    ...rows.map(line),
    ...flatness(results),
    ...notes(results),
  ].join('\n');
}

function notes(results: AuditResult[]): string[] {
  const out: string[] = [];
  if (results.some((r) => SPECS[r.entry].model === 'tm' && !r.skipped)) out.push("Teachable Machine: shape scenes filed round-robin under the model's labels; only the time and memory mean something, not the accuracy.");
  if (results.some((r) => r.tensorsLeftByLoad > 0)) out.push('tensors after (load: n): n of them are left by loading and disposing the model alone (measured after the run), not by the audit.');
  return out;
}

/** Peak RSS growth per image between the smallest and the largest demo audit that ran. */
export function rssPerImage(results: AuditResult[]): { from: AuditResult; to: AuditResult; kbPerImage: number } | null {
  const demo = results.filter((r) => SPECS[r.entry].model === 'demo' && !r.error && !r.skipped && Number.isFinite(r.peakRssMB)).sort((a, b) => a.images - b.images);
  if (demo.length < 2 || demo[0].images === demo[demo.length - 1].images) return null;
  const from = demo[0];
  const to = demo[demo.length - 1];
  return { from, to, kbPerImage: ((to.peakRssMB - from.peakRssMB) * 1024) / (to.images - from.images) };
}

function flatness(results: AuditResult[]): string[] {
  const g = rssPerImage(results);
  if (!g) return [];
  return [`peak RSS from ${g.from.images} to ${g.to.images} demo images: ${Math.round(g.from.peakRssMB)} → ${Math.round(g.to.peakRssMB)} MB (${g.kbPerImage.toFixed(1)} KB per image; one decoded 64×64 image is 16 KB)`];
}

export interface AuditTarget {
  what: string;
  value: number;
  limit: number;
  ok: boolean;
}

/**
 * Below this growth of peak RSS per image (KB) memory counts as flat: half a decoded 64×64 RGBA image
 * (16 KB). Kept per image by design: its entry (path, class) and, for a mistake, a short record — well
 * under 1 KB. Peak RSS itself varies by a few MB between runs (0.3–3.4 KB per image measured from 200 to
 * 3,000 images at load average 4–8).
 */
export const FLAT_KB_PER_IMAGE = 8;

export function checkAuditTargets(results: AuditResult[]): AuditTarget[] {
  const out: AuditTarget[] = [];
  for (const r of results) {
    if (r.goalMs !== null && Number.isFinite(r.wallMs) && !r.error) out.push({ what: `audit ${r.title} ≤ ${r.goalMs / 1000} s (ms)`, value: r.wallMs, limit: r.goalMs, ok: r.wallMs <= r.goalMs });
    if (!r.error && !r.skipped && Number.isFinite(r.tensorsAfter)) {
      const left = r.tensorsAfter - r.tensorsLeftByLoad;
      out.push({ what: `audit ${r.title}: no tensor left by the audit${r.tensorsLeftByLoad ? ` (beyond the ${r.tensorsLeftByLoad} that loading and disposing the model leaves)` : ''}`, value: left, limit: 0, ok: left === 0 });
    }
  }
  const g = rssPerImage(results);
  if (g) out.push({ what: `audit memory flat: peak RSS growth per image, ${g.from.images} → ${g.to.images} demo images ≤ ${FLAT_KB_PER_IMAGE} KB`, value: g.kbPerImage, limit: FLAT_KB_PER_IMAGE, ok: g.kbPerImage <= FLAT_KB_PER_IMAGE });
  return out;
}
