// Which images an audit runs on and their true classes: an ImageFolder layout (one subfolder per class,
// images found recursively inside), or any folder with a truth CSV (`path,label`). Subfolder names and
// CSV labels match the model's labels exactly, else case-insensitively; anything else is reported as
// skipped, never guessed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileError, LensError } from '../errors';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp', '.bmp', '.gif'];

export interface AuditEntry {
  /** Absolute path. */
  file: string;
  /** Relative to the audited folder, '/'-separated. */
  image: string;
  /** True class (index into the model's labels). */
  truth: number;
}

export interface AuditPlan {
  entries: AuditEntry[];
  skipped: { path: string; reason: string }[];
  /** Classes that have a subfolder (or CSV rows), even if it holds no image. */
  classesPresent: number[];
}

/** The label index a name means: exact match first, then the one case-insensitive match. */
export function matchLabel(labels: string[], name: string): { index: number } | { problem: string } {
  const exact = labels.indexOf(name);
  if (exact >= 0) return { index: exact };
  const lower = name.toLowerCase();
  const loose = labels.flatMap((l, i) => (l.toLowerCase() === lower ? [i] : []));
  if (loose.length === 1) return { index: loose[0] };
  if (loose.length > 1) return { problem: `matches several labels case-insensitively (${loose.map((i) => labels[i]).join(', ')})` };
  return { problem: 'matches no label of the model' };
}

const isImageName = (name: string) => IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());

function rel(folder: string, file: string): string {
  return path.relative(folder, file).split(path.sep).join('/');
}

/** Image files below `dir`, recursively, sorted; hidden entries and folder links are not followed. */
export function imagesBelow(dir: string): string[] {
  const out: string[] = [];
  const entries = fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...imagesBelow(p));
    else if ((e.isFile() || e.isSymbolicLink()) && isImageName(e.name)) out.push(p);
  }
  return out;
}

export function checkFolder(folder: string): string {
  const abs = path.resolve(folder);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw fileError(folder, 'no such folder');
  }
  if (!st.isDirectory()) throw fileError(folder, 'is not a folder (give the folder of class subfolders, or a folder and --truth FILE.csv)');
  return abs;
}

/** ImageFolder layout: FOLDER/<label>/…/image. */
export function scanImageFolder(folder: string, labels: string[]): AuditPlan {
  const root = checkFolder(folder);
  const entries: AuditEntry[] = [];
  const skipped: AuditPlan['skipped'] = [];
  const present = new Set<number>();
  const top = fs.readdirSync(root, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let loose = 0;
  for (const e of top) {
    if (e.name.startsWith('.')) continue;
    const p = path.join(root, e.name);
    if (!e.isDirectory()) {
      if (isImageName(e.name)) loose++;
      continue;
    }
    const m = matchLabel(labels, e.name);
    const images = imagesBelow(p);
    if ('problem' in m) {
      skipped.push({ path: e.name + '/', reason: `${m.problem}; ${images.length} image${images.length === 1 ? '' : 's'} not audited` });
      continue;
    }
    present.add(m.index);
    for (const f of images) entries.push({ file: f, image: rel(root, f), truth: m.index });
  }
  if (loose) skipped.push({ path: './', reason: `${loose} image${loose === 1 ? '' : 's'} directly in the folder, not in a class subfolder` });
  return { entries, skipped, classesPresent: [...present].sort((a, b) => a - b) };
}

/** Splits one CSV line (commas; fields may be double-quoted with "" for a quote). */
function csvFields(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim());
}

/** Any folder + a CSV of `path,label` rows (paths relative to the folder; a `path,label` header is skipped). */
export function scanTruthCsv(folder: string, csvFile: string, labels: string[]): AuditPlan {
  const root = checkFolder(folder);
  let text: string;
  try {
    text = fs.readFileSync(csvFile, 'utf8');
  } catch {
    throw fileError(csvFile, 'cannot read the truth CSV (no such file?)');
  }
  const entries: AuditEntry[] = [];
  const skipped: AuditPlan['skipped'] = [];
  const present = new Set<number>();
  const unknown = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].replace(/^\uFEFF/, '');
    if (!line.trim()) continue;
    const f = csvFields(line);
    if (n === 0 && f[0]?.toLowerCase() === 'path' && f[1]?.toLowerCase() === 'label') continue;
    if (f.length < 2 || !f[0] || !f[1]) throw new LensError(`${csvFile}: line ${n + 1}: expected 'path,label', got '${line.slice(0, 80)}'`);
    const m = matchLabel(labels, f[1]);
    if ('problem' in m) {
      unknown.set(f[1], (unknown.get(f[1]) ?? 0) + 1);
      continue;
    }
    present.add(m.index);
    const file = path.resolve(root, f[0]);
    entries.push({ file, image: rel(root, file), truth: m.index });
  }
  for (const [label, count] of unknown) skipped.push({ path: `label '${label}'`, reason: `matches no label of the model; ${count} row${count === 1 ? '' : 's'} of ${path.basename(csvFile)} not audited` });
  return { entries, skipped, classesPresent: [...present].sort((a, b) => a - b) };
}
