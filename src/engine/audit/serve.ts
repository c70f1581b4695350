// The engine's `audit` request (the Audit panel): the same run as `cnn-lens audit`, with the report so
// far streamed a few times a second, and the report folder (pictures, summary.json, index.html) written
// into a folder the extension host owns. Cancel ends the run early with a report marked partial.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AuditParams } from '../../shared/auditProtocol';
import type { AuditReport } from '../../shared/auditRecords';
import { renderAuditPage } from '../../shared/auditView';
import { LensError } from '../errors';
import type { PreprocessPreset } from '../image/preprocess';
import { isMethodName, METHOD_NAMES } from '../methods';
import type { LoadedModel } from '../model/loadModel';
import { HTML_FILE, IMAGES_DIR, SUMMARY_FILE } from './reportDir';
import { runAudit } from './run';
import { scanImageFolder } from './scan';

export interface ServeHooks {
  cancelled(): boolean;
  /** The report so far (throttled here). */
  report(r: AuditReport): void;
  progress(done: number, total: number, message: string): void;
}

const EMIT_MS = 250;

export async function auditForPanel(model: LoadedModel, p: AuditParams, preset: PreprocessPreset, hooks: ServeHooks): Promise<AuditReport> {
  const method = p.method ?? 'gradcam';
  if (!isMethodName(method)) throw new LensError(`unknown method '${method}' (expected one of ${METHOD_NAMES.join(', ')})`);
  const labels = Array.from({ length: model.numClasses }, (_, i) => model.labels?.[i] ?? String(i));
  const plan = scanImageFolder(p.folder, labels);
  const images = path.join(p.reportDir, IMAGES_DIR);
  fs.rmSync(p.reportDir, { recursive: true, force: true });
  fs.mkdirSync(images, { recursive: true });
  const sink = (name: string, png: Uint8Array) => {
    fs.writeFileSync(path.join(images, name), png);
    return `${IMAGES_DIR}/${name}`;
  };
  let last = 0;
  const r = await runAudit(model, path.resolve(p.folder), plan, { method, layer: p.layer, preprocess: preset, k: p.top ?? 5 }, sink, {
    isCancelled: hooks.cancelled,
    onProgress: ({ stage, done, total, report }) => {
      hooks.progress(done, total, stage === 'classifying' ? `Classifying ${done} of ${total} images` : stage === 'explaining' ? `Heatmaps ${done} of ${total}` : 'Done');
      const now = Date.now();
      if (now - last >= EMIT_MS || done === total) {
        last = now;
        hooks.report({ ...report(), out: p.reportDir });
      }
    },
  });
  const final: AuditReport = { ...r, out: p.reportDir };
  fs.writeFileSync(path.join(p.reportDir, SUMMARY_FILE), JSON.stringify(final, null, 1) + '\n');
  fs.writeFileSync(path.join(p.reportDir, HTML_FILE), renderAuditPage(final));
  hooks.report(final);
  return final;
}
