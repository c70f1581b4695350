// cnn-lens audit MODEL FOLDER [--truth FILE.csv] [--method M] [--layer L] [--top K] [--out DIR] [--jobs N] [--limit N] [--json]
// Accuracy, confusion matrix, per-class numbers and the mistakes with their heatmaps, as a report folder
// (summary.json + index.html + images/) and a summary on stdout.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkReportDir, defaultReportDir, HTML_FILE, ReportDir } from '../../engine/audit/reportDir';
import { classifyEntry, runAudit, type Classifier } from '../../engine/audit/run';
import { checkFolder, scanImageFolder, scanTruthCsv, type AuditPlan } from '../../engine/audit/scan';
import { COLORMAPS, type ColormapName } from '../../engine/image/colormap';
import { errorMessage } from '../../engine/errors';
import { isMethodName, METHOD_NAMES } from '../../engine/methods';
import { auditJson, type AuditReport } from '../../shared/auditRecords';
import { percent } from '../../shared/format';
import { flag, num, str, UsageError, type OptionSpecs, type ParsedArgs } from '../args';
import { workerClassifier, type WorkerLine, type WorkerListItem } from '../auditWorkers';
import { GLOBAL_OPTIONS, openModel, PREPROCESS_OPTION, preprocessOf } from '../common';
import { progressBar, type CliIO } from '../io';
import { cliScript, optionsToArgv } from '../jobs';

export const AUDIT_OPTIONS: OptionSpecs = {
  ...GLOBAL_OPTIONS,
  ...PREPROCESS_OPTION,
  truth: { type: 'string', valueName: 'FILE.csv', help: 'true classes as path,label rows (paths relative to FOLDER) instead of class subfolders' },
  method: { type: 'string', choices: METHOD_NAMES, help: 'heatmap method for the images shown (default gradcam)' },
  layer: { type: 'string', valueName: 'NAME', help: 'target layer of the layer methods (default: the last spatial layer)' },
  top: { type: 'number', valueName: 'K', help: 'top-K accuracy (default 5)' },
  out: { type: 'string', valueName: 'DIR', help: 'report folder (default cnn-lens-audit/ beside FOLDER; never inside it)' },
  force: { type: 'boolean', help: 'replace an existing report in --out' },
  jobs: { type: 'number', valueName: 'N', help: 'classify in N worker processes (each loads the model; default 1)' },
  limit: { type: 'number', valueName: 'N', help: 'audit only the first N images' },
  gallery: { type: 'number', valueName: 'N', help: 'mistakes shown with heatmaps (default 48)' },
  colormap: { type: 'string', choices: COLORMAPS, help: 'heatmap colours (default viridis)' },
  json: { type: 'boolean', help: 'one JSON object on stdout' },
  'worker-list': { type: 'string', valueName: 'FILE', help: '(internal: the share of a --jobs worker)' },
};

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);

function eta(start: number, done: number, total: number): string {
  if (done === 0 || done >= total) return '';
  const s = (((Date.now() - start) / done) * (total - done)) / 1000;
  return s >= 60 ? `ETA ${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `ETA ${Math.ceil(s)}s`;
}

/** Worker mode: classify the listed images, one JSON line each. */
async function runWorker(args: ParsedArgs, io: CliIO, modelFile: string | undefined, listFile: string): Promise<number> {
  const { model } = await openModel(args, modelFile);
  const items = JSON.parse(fs.readFileSync(listFile, 'utf8')) as WorkerListItem[];
  const preset = preprocessOf(args, model);
  const k = num(args, 'top', { min: 1, integer: true }) ?? 5;
  for (const it of items) {
    let line: WorkerLine;
    try {
      line = { record: await classifyEntry(model, it, it.i, preset, k) };
    } catch (e) {
      line = { failed: { i: it.i, image: it.image, error: errorMessage(e) } };
    }
    io.out(JSON.stringify(line));
  }
  model.dispose();
  return 0;
}

function printText(io: CliIO, r: AuditReport): void {
  io.out(`${r.folder}: ${r.images} images, accuracy ${pct(r.accuracy)}, top-${r.k} ${pct(r.topK)}${r.partial ? ' (PARTIAL: stopped early)' : ''}`);
  if (r.perClass.length) {
    const w = Math.max(5, ...r.perClass.map((c) => c.label.length));
    io.out(`  ${'class'.padEnd(w)}  precision  recall  support`);
    for (const c of r.perClass) io.out(`  ${c.label.padEnd(w)}  ${pct(c.precision).padStart(9)}  ${pct(c.recall).padStart(6)}  ${String(c.support).padStart(7)}`);
  }
  if (r.misclassified.length) {
    io.out(`${r.misclassified.length} misclassified, most confident first:`);
    for (const m of r.misclassified.slice(0, 10)) io.out(`  ${m.image}: ${m.label} → ${m.predicted} (${percent(m.probability)})`);
    if (r.misclassified.length > 10) io.out(`  … ${r.misclassified.length - 10} more in the report`);
  }
  for (const f of r.failed) io.out(`could not read ${f.image}: ${f.error}`);
  for (const s of r.skipped) io.out(`not audited: ${s.path}: ${s.reason}`);
  if (r.heatmapNote) io.out(r.heatmapNote);
  if (r.found === 0) io.out("no image to audit: FOLDER needs one subfolder per class named by the model's labels (see 'cnn-lens info MODEL'), or give --truth FILE.csv");
  if (r.out) io.out(`report: ${path.join(r.out, HTML_FILE)}`);
}

export async function runAuditCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const [modelFile, folder, ...extra] = args.positionals;
  const workerList = str(args, 'worker-list');
  if (workerList) return runWorker(args, io, modelFile, workerList);
  if (!modelFile) throw new UsageError('missing MODEL (a model.json, .h5, .keras or .onnx file)');
  if (!folder) throw new UsageError('missing FOLDER (one subfolder per class, or any folder with --truth FILE.csv)');
  if (extra.length) throw new UsageError(`one FOLDER only; got also ${extra.join(' ')}`);
  const methodName = str(args, 'method') ?? 'gradcam';
  if (!isMethodName(methodName)) throw new UsageError(`unknown method '${methodName}'`);
  const k = num(args, 'top', { min: 1, integer: true }) ?? 5;
  const jobs = num(args, 'jobs', { min: 1, max: 64, integer: true }) ?? 1;
  const limit = num(args, 'limit', { min: 0, integer: true });
  const galleryLimit = num(args, 'gallery', { min: 0, max: 10000, integer: true }) ?? 48;
  const json = flag(args, 'json');
  checkFolder(folder);
  const out = checkReportDir(str(args, 'out') ?? defaultReportDir(folder), folder, flag(args, 'force'));
  let script: string | null = null;
  if (jobs > 1) {
    script = cliScript();
    if (!script) throw new UsageError('--jobs needs the built command line (dist/cli.js); run npm run build');
  }

  const { model } = await openModel(args, modelFile);
  const labels = Array.from({ length: model.numClasses }, (_, i) => model.labels?.[i] ?? String(i));
  const truth = str(args, 'truth');
  const plan: AuditPlan = truth ? scanTruthCsv(folder, truth, labels) : scanImageFolder(folder, labels);
  const preset = preprocessOf(args, model);
  const total = limit !== undefined ? Math.min(limit, plan.entries.length) : plan.entries.length;

  let cancelled = false;
  const dir = new ReportDir(out);
  const onSecondInt = () => {
    dir.abandon();
    process.exit(130);
  };
  const onInt = () => {
    cancelled = true;
    io.err('\ncnn-lens: stopping; writing a partial report of the images done (Ctrl-C again to quit without one)');
    process.once('SIGINT', onSecondInt);
  };
  process.once('SIGINT', onInt);

  const bar = progressBar(io, 'audit');
  const start = Date.now();
  let lastStage = '';
  let classifier: Classifier | undefined;
  if (script) {
    const passOn = optionsToArgv(args, ['jobs', 'out', 'force', 'json', 'limit', 'gallery', 'colormap', 'method', 'layer', 'truth', 'worker-list', 'verbose']);
    classifier = workerClassifier(script, path.resolve(modelFile), path.resolve(folder), passOn, jobs, (l) => io.err(l));
  }
  let report: AuditReport;
  try {
    report = await runAudit(
      model,
      path.resolve(folder),
      plan,
      { method: methodName, layer: str(args, 'layer'), preprocess: preset, k, colormap: (str(args, 'colormap') as ColormapName | undefined) ?? 'viridis', limits: { gallery: galleryLimit, leastConfident: 12 }, limit },
      dir.writeImage,
      {
        isCancelled: () => cancelled,
        onProgress: ({ stage, done, total: n }) => {
          if (stage !== lastStage) {
            lastStage = stage;
            if (stage === 'explaining') bar.update(total, total, 'classified; heatmaps of the images shown…');
          }
          if (stage === 'classifying') bar.update(done, n, [jobs > 1 ? `${jobs} workers` : '', eta(start, done, n)].filter(Boolean).join(' '));
        },
      },
      classifier,
    );
    bar.finish(`${report.images} images${report.partial ? ' (partial)' : ''}`);
    report = dir.finish(report);
  } catch (e) {
    dir.abandon();
    throw e;
  } finally {
    process.removeListener('SIGINT', onInt);
    process.removeListener('SIGINT', onSecondInt);
    model.dispose();
  }
  if (json) io.out(JSON.stringify(auditJson(report)));
  else printText(io, report);
  return report.partial ? 130 : 0;
}
