// An AuditReport as HTML: the body the report file (index.html) and the Audit panel both show, and the
// stylesheet they share. Strings only (no DOM), no inline style attributes (the panel's Content Security
// Policy forbids them: colours are classes), no network references. A confusion-matrix cell is a link to
// `#cell-T-P`, whose section lists that cell's images (CSS :target shows it in the file; the panel's
// script shows it on click).
import type { AuditReport, GalleryItem } from './auditRecords';
import { percent } from './format';

export interface AuditViewOptions {
  /** The URL of a report file (a path relative to the report, as in GalleryItem.files). */
  imageUrl(file: string): string;
  /** The panel: mistakes get an "Explain" link (data-explain) and the page says what is still running. */
  live?: boolean;
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const pct = (v: number | null) => (v === null ? '—' : `${(v * 100).toFixed(1)}%`);
/** A probability as the other panels and the CLI write it ("85.2%", "<0.1%"), escaped for HTML. */
const prob = (p: number) => escapeHtml(percent(p));

/** Relative report paths as URLs: each segment percent-encoded. */
export function relativeUrl(file: string): string {
  return file.split('/').map(encodeURIComponent).join('/');
}

function stats(r: AuditReport): string {
  const correct = r.accuracy === null ? 0 : Math.round(r.accuracy * r.images);
  const cells = [
    `<div class="stat"><b>${pct(r.accuracy)}</b><span>accuracy (${correct} of ${r.images})</span></div>`,
    `<div class="stat"><b>${pct(r.topK)}</b><span>top-${r.k} accuracy</span></div>`,
    `<div class="stat"><b>${r.misclassified.length}</b><span>misclassified</span></div>`,
    `<div class="stat"><b>${r.failed.length}</b><span>could not be read</span></div>`,
  ];
  return `<div class="stats">${cells.join('')}</div>`;
}

function matrix(r: AuditReport): string {
  if (!r.classes.length) return '';
  const head = r.classes.map((c) => `<th scope="col" class="col"><span>${escapeHtml(c)}</span></th>`).join('');
  const rows = r.confusion.map((row, t) => {
    const total = row.reduce((s, v) => s + v, 0);
    const cells = row.map((v, p) => {
      if (!v) return `<td class="zero">·</td>`;
      const bucket = Math.min(10, Math.max(1, Math.round((10 * v) / Math.max(1, total))));
      const kind = t === p ? 'diag' : 'off';
      const title = `true ${r.classes[t]}, predicted ${r.classes[p]}: ${v} image${v === 1 ? '' : 's'}`;
      return `<td class="${kind} h${bucket}"><a href="#cell-${t}-${p}" data-cell="${t}-${p}" title="${escapeHtml(title)}">${v}</a></td>`;
    });
    return `<tr><th scope="row">${escapeHtml(r.classes[t])}</th>${cells.join('')}<td class="total">${total}</td></tr>`;
  });
  return `<section id="matrix"><h2>Confusion matrix</h2>
<p class="muted">Rows: the true class; columns: the predicted class. Colour: the share of the row. Click a number for its images.</p>
<div class="scroll"><table class="matrix"><thead><tr><th class="corner">true \\ predicted</th>${head}<th class="col"><span>total</span></th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table></div></section>`;
}

function cellSections(r: AuditReport, o: AuditViewOptions, galleryIds: Map<string, string>): string {
  const out: string[] = [];
  const thumbOf = new Map([...r.gallery, ...r.leastConfident].map((g) => [g.image, g.files.thumb]));
  r.confusion.forEach((row, t) =>
    row.forEach((v, p) => {
      if (!v) return;
      const title = `True ${escapeHtml(r.classes[t])}, predicted ${escapeHtml(r.classes[p])}: ${v} image${v === 1 ? '' : 's'}`;
      let list: { image: string; probability: number }[];
      let note = '';
      if (t === p) {
        list = r.leastConfident.filter((g) => g.label === r.classes[t]).map((g) => ({ image: g.image, probability: g.probability }));
        note = list.length ? `<p class="muted">Correct; the least confident of them:</p>` : `<p class="muted">All correct, none among the least-confident shown below.</p>`;
      } else {
        list = r.misclassified.filter((m) => m.label === r.classes[t] && m.predicted === r.classes[p]);
      }
      const shownList = list.slice(0, 100);
      const items = shownList.map((m) => {
        const id = galleryIds.get(m.image);
        const thumb = thumbOf.get(m.image);
        const img = thumb ? `<img src="${escapeHtml(o.imageUrl(thumb))}" alt="">` : '';
        const name = escapeHtml(m.image);
        return `<li>${img}${id ? `<a href="#${id}">${name}</a>` : name} <span class="muted">${prob(m.probability)}</span></li>`;
      });
      const more = list.length > shownList.length ? `<li class="muted">… and ${list.length - shownList.length} more (summary.json lists them all)</li>` : '';
      out.push(`<section class="cell" id="cell-${t}-${p}"><h3>${title}</h3>${note}<ul class="cell-list">${items.join('')}${more}</ul></section>`);
    }),
  );
  return out.join('\n');
}

function perClass(r: AuditReport): string {
  if (!r.perClass.length) return '';
  const rows = r.perClass.map((c) => `<tr><th scope="row">${escapeHtml(c.label)}</th><td>${pct(c.precision)}</td><td>${pct(c.recall)}</td><td>${c.support}</td></tr>`);
  return `<section id="per-class"><h2>Per class</h2><table class="classes"><thead><tr><th>class</th><th>precision</th><th>recall</th><th>support</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function card(g: GalleryItem, id: string, o: AuditViewOptions, mistake: boolean): string {
  const fig = (file: string | undefined, caption: string, alt: string) =>
    `<figure>${file ? `<img src="${escapeHtml(o.imageUrl(file))}" alt="${escapeHtml(alt)}">` : `<div class="placeholder">${o.live ? 'pending' : 'not made'}</div>`}<figcaption>${caption}</figcaption></figure>`;
  const figs = [fig(g.files.thumb, 'image', g.image)];
  if (mistake) {
    figs.push(fig(g.files.predicted, `why <b>${escapeHtml(g.predicted)}</b> (predicted)`, `heatmap for ${g.predicted}`));
    figs.push(fig(g.files.truth, `where <b>${escapeHtml(g.label)}</b> (true)`, `heatmap for ${g.label}`));
  } else figs.push(fig(g.files.predicted, `evidence for <b>${escapeHtml(g.label)}</b>`, `heatmap for ${g.label}`));
  const explain = (cls: number, label: string) => (o.live ? ` <a href="#" class="explain" data-explain="${escapeHtml(g.image)}" data-class="${cls}">explain ${escapeHtml(label)}</a>` : '');
  const top = g.top.map((t) => `${escapeHtml(t.label)} ${prob(t.probability)}`).join(', ');
  const text = mistake
    ? `<p><b>${escapeHtml(g.image)}</b></p><p>true <b>${escapeHtml(g.label)}</b> (${prob(g.truthProbability)})${explain(g.truth, g.label)}</p><p>predicted <b>${escapeHtml(g.predicted)}</b> (${prob(g.probability)})${explain(g.predictedIndex, g.predicted)}</p>`
    : `<p><b>${escapeHtml(g.image)}</b></p><p>${escapeHtml(g.label)}, ${prob(g.probability)}${explain(g.truth, g.label)}</p>`;
  return `<article class="card${mistake ? ' mistake' : ''}" id="${id}"><div class="figs">${figs.join('')}</div>${text}<p class="muted">top: ${top}</p></article>`;
}

function gallery(r: AuditReport, o: AuditViewOptions, ids: Map<string, string>): string {
  const mistakes = r.misclassified.length;
  const head = `<h2>Mistakes</h2><p class="muted">${
    mistakes === 0 ? (r.images ? 'None: every image was classified correctly.' : 'No image classified yet.') : `${mistakes} misclassified, the most confident first${r.gallery.length < mistakes ? `; the first ${r.gallery.length} shown with heatmaps` : ''}. Each with the heatmap for the predicted class beside the one for the true class (${escapeHtml(r.method)}${r.layer ? ` at ${escapeHtml(r.layer)}` : ''}).`
  }</p>`;
  const cards = r.gallery.map((g) => card(g, ids.get(g.image)!, o, true)).join('\n');
  const least = r.leastConfident.length
    ? `<section id="least"><h2>Least-confident correct</h2><p class="muted">Right, but barely: the lowest probabilities among the correct images.</p><div class="gallery">${r.leastConfident.map((g) => card(g, ids.get(g.image)!, o, false)).join('\n')}</div></section>`
    : '';
  return `<section id="mistakes">${head}<div class="gallery">${cards}</div></section>${least}`;
}

function problems(r: AuditReport): string {
  const parts: string[] = [];
  if (r.failed.length) parts.push(`<section id="failed"><h2>Could not be read (${r.failed.length})</h2><ul>${r.failed.map((f) => `<li><b>${escapeHtml(f.image)}</b>: ${escapeHtml(f.error)}</li>`).join('')}</ul></section>`);
  if (r.skipped.length) parts.push(`<section id="skipped"><h2>Not audited</h2><ul>${r.skipped.map((s) => `<li><b>${escapeHtml(s.path)}</b>: ${escapeHtml(s.reason)}</li>`).join('')}</ul></section>`);
  return parts.join('\n');
}

export function renderAuditBody(r: AuditReport, o: AuditViewOptions): string {
  const ids = new Map<string, string>();
  r.gallery.forEach((g, n) => ids.set(g.image, `mistake-${n + 1}`));
  r.leastConfident.forEach((g, n) => ids.set(g.image, `least-${n + 1}`));
  const seconds = (r.elapsedMs / 1000).toFixed(1);
  const meta = `model ${escapeHtml(r.model)} · ${escapeHtml(r.method)}${r.layer ? ` at ${escapeHtml(r.layer)}` : ''} · preprocessing ${escapeHtml(r.preprocess)} · ${r.images} image${r.images === 1 ? '' : 's'} in ${seconds} s`;
  const banners: string[] = [];
  if (r.partial) banners.push(`<p class="banner partial">Partial report: stopped after ${r.images + r.failed.length} of ${r.found} images. The numbers cover the images done.</p>`);
  else if (o.live && r.stage !== 'done') banners.push(`<p class="banner">${r.stage === 'classifying' ? `Classifying: ${r.images + r.failed.length} of ${r.found} images` : 'Making the heatmaps of the images shown'}…</p>`);
  if (r.found === 0) banners.push(`<p class="banner">No image to audit. The folder needs one subfolder per class named by the model's labels (${r.skipped.length ? 'see Not audited below' : 'it has none'}), or give a truth CSV of path,label rows.</p>`);
  if (r.heatmapNote) banners.push(`<p class="banner">${escapeHtml(r.heatmapNote)}</p>`);
  return [
    `<header><h1>Audit of ${escapeHtml(r.folder)}</h1><p class="muted">${meta}</p></header>`,
    ...banners,
    stats(r),
    matrix(r),
    cellSections(r, o, ids),
    perClass(r),
    gallery(r, o, ids),
    problems(r),
  ].join('\n');
}

/** The self-contained report file: styles inline, pictures as files beside it, no script, no network. */
export function renderAuditPage(r: AuditReport, imageUrl: (file: string) => string = relativeUrl): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>CNN Lens audit${r.partial ? ' (partial)' : ''}: ${escapeHtml(r.folder)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 1.2em 2em; color: #1f2328; background: #fff; }
@media (prefers-color-scheme: dark) { body { color: #e6edf3; background: #0d1117; } }
${AUDIT_CSS}
</style>
</head>
<body>
${renderAuditBody(r, { imageUrl })}
</body>
</html>
`;
}

/** Shared by the report file and the panel (the panel adds VS Code's theme colours in webview/audit.css). */
export const AUDIT_CSS = `
h1 { font-size: 1.3em; margin: 0 0 0.2em; word-break: break-all; }
h2 { font-size: 1.1em; margin: 1.4em 0 0.4em; }
h3 { font-size: 1em; margin: 0.4em 0; }
.muted { opacity: 0.75; }
.banner { padding: 0.4em 0.7em; border-left: 4px solid #d29922; background: rgba(210, 153, 34, 0.12); }
.banner.partial { border-left-color: #cf222e; background: rgba(207, 34, 46, 0.12); font-weight: 600; }
.stats { display: flex; flex-wrap: wrap; gap: 1.5em; margin: 0.8em 0; }
.stat { display: flex; flex-direction: column; }
.stat b { font-size: 1.6em; font-variant-numeric: tabular-nums; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
.matrix td, .matrix th { border: 1px solid rgba(128, 128, 128, 0.35); padding: 0; text-align: center; min-width: 2.4em; height: 2.2em; }
.matrix th[scope='row'] { text-align: right; padding: 0 0.5em; white-space: nowrap; }
.matrix th.col { vertical-align: bottom; height: 7em; white-space: nowrap; }
.matrix th.col span { writing-mode: vertical-rl; transform: rotate(180deg); padding: 0.3em 0; }
.matrix th.corner { font-weight: normal; opacity: 0.75; font-size: 0.85em; padding: 0 0.4em; }
.matrix td a { display: block; line-height: 2.2em; color: inherit; text-decoration: none; font-weight: 600; }
.matrix td a:hover, .matrix td a:focus { outline: 2px solid #0969da; outline-offset: -2px; }
.matrix td.zero { opacity: 0.35; }
.matrix td.total { opacity: 0.75; padding: 0 0.4em; }
${Array.from({ length: 10 }, (_, i) => `.matrix td.diag.h${i + 1} { background: rgba(46, 160, 67, ${(0.1 + 0.07 * (i + 1)).toFixed(2)}); }\n.matrix td.off.h${i + 1} { background: rgba(218, 54, 51, ${(0.1 + 0.07 * (i + 1)).toFixed(2)}); }`).join('\n')}
.cell { display: none; margin: 0.6em 0; padding: 0.4em 0.8em; border: 1px solid rgba(128, 128, 128, 0.45); border-radius: 4px; }
.cell:target, .cell.shown { display: block; }
.cell-list { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 0.4em 1.2em; }
.cell-list li { display: flex; align-items: center; gap: 0.4em; }
.cell-list img { width: 40px; height: 40px; object-fit: cover; }
.classes td, .classes th { padding: 0.15em 0.8em; text-align: right; border-bottom: 1px solid rgba(128, 128, 128, 0.25); }
.classes th:first-child { text-align: left; }
.gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 1em; }
.card { border: 1px solid rgba(128, 128, 128, 0.4); border-radius: 6px; padding: 0.5em; scroll-margin-top: 1em; }
.card:target { outline: 2px solid #0969da; }
.card p { margin: 0.2em 0; word-break: break-all; }
.figs { display: flex; gap: 0.4em; }
.figs figure { margin: 0; flex: 1; min-width: 0; }
.figs img, .figs .placeholder { width: 100%; aspect-ratio: 1; object-fit: contain; display: block; background: rgba(128, 128, 128, 0.12); }
.figs .placeholder { display: flex; align-items: center; justify-content: center; font-size: 0.85em; opacity: 0.7; }
.figs figcaption { font-size: 0.8em; text-align: center; margin-top: 0.15em; }
.explain { margin-left: 0.4em; font-size: 0.9em; }
`;
