// The report folder: summary.json, index.html and images/. Everything is written into a temporary
// folder beside the target and renamed into place at the end, so an interrupted run leaves either the
// whole report or nothing; a report is never written inside the audited folder, nor over an existing
// one unless asked (and then only over a folder that holds a CNN Lens report).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AuditReport } from '../../shared/auditRecords';
import { renderAuditPage } from '../../shared/auditView';
import { LensError } from '../errors';

export const SUMMARY_FILE = 'summary.json';
export const HTML_FILE = 'index.html';
export const IMAGES_DIR = 'images';

/** `cnn-lens-audit/` beside the audited folder (in its parent). */
export function defaultReportDir(folder: string): string {
  return path.join(path.dirname(path.resolve(folder)), 'cnn-lens-audit');
}

function isInside(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** Refuses a report folder inside the audited folder, or over something that exists (unless `force` and it is a report). */
export function checkReportDir(out: string, folder: string, force: boolean): string {
  const target = path.resolve(out);
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return p;
    }
  };
  if (isInside(target, path.resolve(folder)) || isInside(real(path.dirname(target)) + path.sep + path.basename(target), real(path.resolve(folder)))) {
    throw new LensError(`${out}: is inside the audited folder ${folder}; the report goes elsewhere (give --out DIR outside it)`);
  }
  if (fs.existsSync(target)) {
    if (!fs.statSync(target).isDirectory()) throw new LensError(`${out}: exists and is not a folder`);
    const entries = fs.readdirSync(target);
    if (entries.length === 0) return target;
    if (!force) throw new LensError(`${out}: a report is already there; give --force to replace it, or another --out`);
    if (!entries.includes(SUMMARY_FILE)) throw new LensError(`${out}: exists and is not a CNN Lens report (no ${SUMMARY_FILE}); refusing to replace it`);
  }
  return target;
}

export class ReportDir {
  readonly tmp: string;
  private finished = false;

  constructor(readonly target: string) {
    this.tmp = `${target}.partial-${process.pid}-${Date.now().toString(36)}`;
    fs.mkdirSync(path.join(this.tmp, IMAGES_DIR), { recursive: true });
  }

  /** Writes one picture; returns its path relative to the report. */
  writeImage = (name: string, png: Uint8Array): string => {
    const rel = `${IMAGES_DIR}/${name}`;
    fs.writeFileSync(path.join(this.tmp, IMAGES_DIR, name), png);
    return rel;
  };

  /** Writes summary.json and index.html, then puts the folder in place (replacing an old report). */
  finish(report: AuditReport): AuditReport {
    const final: AuditReport = { ...report, out: this.target };
    fs.writeFileSync(path.join(this.tmp, SUMMARY_FILE), JSON.stringify(final, null, 1) + '\n');
    fs.writeFileSync(path.join(this.tmp, HTML_FILE), renderAuditPage(final));
    let old: string | null = null;
    if (fs.existsSync(this.target)) {
      old = `${this.target}.old-${process.pid}-${Date.now().toString(36)}`;
      fs.renameSync(this.target, old);
    }
    try {
      fs.renameSync(this.tmp, this.target);
    } catch (e) {
      if (old) fs.renameSync(old, this.target);
      throw new LensError(`${this.target}: cannot write the report (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    if (old) fs.rmSync(old, { recursive: true, force: true });
    this.finished = true;
    return final;
  }

  /** Removes the temporary folder (after a failure). */
  abandon(): void {
    if (!this.finished) fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}
