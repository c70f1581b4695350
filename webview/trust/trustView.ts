// The explain panel's trust part, in the page: the Single | Compare switch, the Compare grid (top-K
// classes × ticked methods; cells arrive one by one, are clicked to open in the single view, show their
// AUCs after "Score faithfulness" with the best cell of each row framed), "Save grid as PNG…", and the
// Sanity check strip that fills in stage by stage with its verdict. webview/explain.ts mounts it; it
// reads the panel's init/options/predictions messages and handles its own (src/shared/compareProtocol.ts).
import './trust.css';
import { bestInRow, type CompareCellView, type CompareViewState, defaultCompareState, type FromTrustView, MAX_COMPARE_CLASSES, type ToTrustView } from '../../src/shared/compareProtocol';
import type { ExplainViewOptions, MethodBrief, Prediction, ToExplainView } from '../../src/shared/protocol';
import { h, percent } from '../common/dom';
import { host } from '../common/vscodeApi';

export interface TrustMount {
  /** Shows one cell in the single view (method and class chosen there). */
  openSingle(method: string, classIndex: number): void;
  /** Keeps the Compare choices with the panel's state. */
  saveView(view: CompareViewState): void;
}

let mount: (TrustMount & { post(m: FromTrustView): void }) | null = null;
let view: CompareViewState = defaultCompareState();
let methods: MethodBrief[] = [];
let predictions: Prediction[] = [];
let imageUri = '';
let options: ExplainViewOptions | null = null;
const cells = new Map<string, CompareCellView>();
const urls = new Map<string, string>();
const randomScores = new Map<number, { deletion: number; insertion: number }>();

const el = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

function setView(v: Partial<CompareViewState>, send = true): void {
  view = { ...view, ...v };
  mount?.saveView(view);
  if (send) mount?.post({ type: 'compare.setView', view: v });
  render();
}

/** The Single | Compare switch and the Sanity check button, under the panel's header. */
function tabs(): HTMLElement {
  const tab = (id: 'single' | 'compare', text: string) =>
    h('button', { id: `tab-${id}`, class: 'trust-tab', role: 'tab', type: 'button', onclick: () => setView({ tab: id }) }, text);
  return h('nav', { id: 'trust-tabs', class: 'trust-tabs', role: 'tablist', 'aria-label': 'View' },
    tab('single', 'Single'),
    tab('compare', 'Compare'),
    h('span', { class: 'trust-spacer' }),
    h('vscode-button', { id: 'sanity-run', appearance: 'secondary', title: "Randomize the model's layers from the output down and see whether this method's map changes (Adebayo et al. 2018)", onclick: () => mount?.post({ type: 'sanity.run' }) }, 'Sanity check'),
  );
}

function compareSection(): HTMLElement {
  const topK = h('select', { id: 'compare-topk', 'aria-label': 'Classes (rows)', onchange: (e) => setView({ topK: Number((e.target as HTMLSelectElement).value) }) },
    ...Array.from({ length: MAX_COMPARE_CLASSES }, (_, i) => h('option', { value: String(i + 1) }, `top ${i + 1}`)));
  return h('section', { id: 'compare', class: 'compare', 'aria-label': 'Compare methods and classes', hidden: true },
    h('div', { class: 'compare-controls' },
      h('label', { for: 'compare-topk' }, 'Classes ', topK),
      h('fieldset', { id: 'compare-methods', class: 'compare-methods' }, h('legend', {}, 'Methods')),
    ),
    h('div', { class: 'compare-actions' },
      h('vscode-button', { id: 'compare-score', onclick: () => mount?.post({ type: 'compare.score' }), title: 'Deletion and insertion curves of every cell (Petsiuk et al. 2018): lower deletion and higher insertion AUC are better' }, 'Score faithfulness'),
      h('vscode-button', { id: 'compare-save', appearance: 'secondary', onclick: () => mount?.post({ type: 'compare.save' }) }, 'Save grid as PNG…'),
      h('span', { id: 'compare-note', class: 'muted' }),
    ),
    h('div', { id: 'compare-grid', class: 'compare-grid', role: 'grid' }),
  );
}

function statusBar(): HTMLElement {
  return h('div', { id: 'trust-busy', class: 'busy trust-busy', hidden: true, role: 'status', 'aria-live': 'polite' },
    h('vscode-progress-ring'), h('span', { id: 'trust-busy-message' }), h('div', { class: 'bar' }, h('div', { id: 'trust-busy-bar' })),
    h('vscode-button', { id: 'trust-cancel', appearance: 'secondary', onclick: () => mount?.post({ type: 'trust.cancel' }) }, 'Cancel'),
  );
}

function sanitySection(): HTMLElement {
  return h('section', { id: 'sanity', class: 'sanity', hidden: true, 'aria-label': 'Sanity check' },
    h('h2', { id: 'sanity-title' }),
    h('p', { id: 'sanity-verdict', class: 'sanity-verdict' }),
    h('div', { id: 'sanity-strip', class: 'sanity-strip' }),
  );
}

/** Adds the trust part to the page: the switch after the header, the rest after the single view. */
export function mountTrust(app: HTMLElement, m: TrustMount, saved: CompareViewState | undefined): void {
  const page = host<FromTrustView, unknown>();
  mount = { ...m, post: (msg) => page.post(msg) };
  if (saved) view = { ...defaultCompareState(), ...saved };
  const header = app.querySelector('header');
  if (header) header.after(tabs());
  else app.prepend(tabs());
  app.append(statusBar(), h('div', { id: 'trust-error', class: 'error', hidden: true, role: 'alert' }), compareSection(), sanitySection());
  render();
}

function methodTitle(name: string): string {
  return methods.find((x) => x.name === name)?.title ?? name;
}

function cellKey(method: string, classIndex: number): string {
  return `${method}\u0000${classIndex}`;
}

function renderMethods(): void {
  const box = el('compare-methods');
  if (!box) return;
  box.replaceChildren(
    h('legend', {}, 'Methods'),
    ...methods.map((x) => {
      const id = `compare-method-${x.name.replace(/[^A-Za-z0-9-]/g, '_')}`;
      const input = h('input', { type: 'checkbox', id, value: x.name, checked: view.methods.includes(x.name), onchange: (e) => {
        const on = (e.target as HTMLInputElement).checked;
        const next = methods.map((y) => y.name).filter((n) => (n === x.name ? on : view.methods.includes(n)));
        setView({ methods: next });
      } });
      return h('label', { class: 'compare-method', for: id, title: x.paper }, input, ` ${x.title}`);
    }),
  );
}

function renderGrid(): void {
  const grid = el('compare-grid');
  if (!grid) return;
  const cols = methods.filter((x) => view.methods.includes(x.name));
  const rows = predictions.slice(0, view.topK);
  grid.style.gridTemplateColumns = `minmax(8em, max-content) repeat(${Math.max(1, cols.length)}, minmax(120px, 200px))`;
  const children: HTMLElement[] = [h('div', { class: 'compare-corner' })];
  for (const c of cols) children.push(h('div', { class: 'compare-colhead', role: 'columnheader', title: c.paper }, c.title));
  let shownCells = 0;
  for (const p of rows) {
    const r = randomScores.get(p.index);
    children.push(h('div', { class: 'compare-rowhead', role: 'rowheader' },
      h('div', { class: 'compare-class' }, p.label), h('div', { class: 'muted' }, percent(p.probability)),
      r ? h('div', { class: 'muted compare-random', title: 'The same curves for a seeded random map, for context' }, `random: del ${r.deletion.toFixed(3)} · ins ${r.insertion.toFixed(3)}`) : null));
    const rowCells = cols.map((c) => cells.get(cellKey(c.name, p.index)) ?? null);
    const best = bestInRow(rowCells.filter((x): x is CompareCellView => x !== null));
    cols.forEach((c, i) => {
      const cell = rowCells[i];
      if (!cell) {
        children.push(h('div', { class: 'compare-cell pending', role: 'gridcell' }, h('div', { class: 'compare-placeholder' }, '…'), h('div', { class: 'compare-caption muted' }, `${c.title} for '${p.label}'`)));
        return;
      }
      shownCells++;
      const isBest = best === cell;
      const heat = h('img', { class: 'compare-heat', alt: `${c.title} heatmap for ${p.label}`, src: urls.get(cell.key) ?? '' });
      heat.style.opacity = String(options?.opacity ?? 0.5);
      const s = cell.scores;
      children.push(
        h('button', { type: 'button', class: `compare-cell${isBest ? ' best' : ''}`, role: 'gridcell', 'data-method': cell.method, 'data-class-index': String(cell.classIndex), title: `Open ${c.title} for '${p.label}' in the single view`, onclick: () => {
          mount?.openSingle(cell.method, cell.classIndex);
          setView({ tab: 'single' });
        } },
          h('span', { class: 'compare-stack' }, h('img', { class: 'compare-image', alt: '', src: imageUri }), heat),
          h('span', { class: 'compare-caption' },
            `${Math.round(cell.ms)} ms`,
            s ? h('span', { class: 'compare-scores' }, ` · del ${s.deletion.toFixed(3)} · ins ${s.insertion.toFixed(3)}`) : null,
            isBest ? h('span', { class: 'compare-best' }, ' · best') : null),
        ),
      );
    });
  }
  grid.replaceChildren(...children);
  grid.dataset.cells = String(shownCells);
  const note = el('compare-note');
  if (note) {
    const scored = [...cells.values()].some((c) => c.scores);
    note.textContent = rows.length === 0 ? 'Waiting for the predictions…' : cols.length === 0 ? 'Tick at least one method.' : scored ? 'AUCs: deletion (lower is better), insertion (higher is better). Framed: the best cell of its row (highest insertion − deletion).' : 'Click a cell to open it in the single view.';
  }
}

function render(): void {
  const compare = view.tab === 'compare';
  document.body.classList.toggle('compare-mode', compare);
  const section = el('compare');
  if (!section) return;
  section.hidden = !compare;
  for (const id of ['single', 'compare'] as const) {
    const t = el(`tab-${id}`);
    t.setAttribute('aria-selected', String(view.tab === id));
    t.classList.toggle('active', view.tab === id);
  }
  el<HTMLSelectElement>('compare-topk').value = String(view.topK);
  renderMethods();
  renderGrid();
}

function showBusy(message: string, done?: number, total?: number): void {
  el('trust-busy').hidden = false;
  el('trust-busy-message').textContent = message;
  el('trust-busy-bar').style.width = done !== undefined && total ? `${Math.round((100 * done) / total)}%` : '0%';
  el('trust-error').hidden = true;
}

function pngUrl(png: Uint8Array): string {
  return URL.createObjectURL(new Blob([png as BlobPart], { type: 'image/png' }));
}

function sanityStage(m: Extract<ToTrustView, { type: 'sanity.stage' }>): void {
  const strip = el('sanity-strip');
  const caption = m.stage
    ? [h('div', { class: 'sanity-layer', title: m.stage.layer }, `${m.index + 1}. ${m.stage.layer.split('/').pop()}`), h('div', {}, `Spearman ${m.stage.spearman.toFixed(2)}`), h('div', {}, `SSIM ${m.stage.ssim.toFixed(2)}`)]
    : [h('div', { class: 'sanity-layer' }, 'original'), h('div', { class: 'muted' }, 'weights as trained')];
  strip.append(h('figure', { class: 'sanity-stage', 'data-index': String(m.index) }, h('img', { src: pngUrl(m.image.png), alt: m.stage ? `map with ${m.stage.layer} and the layers after it randomized` : 'the original map' }), h('figcaption', {}, ...caption)));
  if (m.index === -1) {
    strip.classList.toggle('many', m.total > 12);
    for (let i = 0; i < m.total; i++) strip.append(h('figure', { class: 'sanity-stage pending', 'data-pending': String(i) }, h('div', { class: 'compare-placeholder' }, '…')));
  } else strip.querySelector(`[data-pending="${m.index}"]`)?.remove();
}

/** Handles the trust messages; watches the panel's own ones for the models, classes and options. Returns true when it was one of ours. */
export function onTrustMessage(m: ToExplainView | ToTrustView): boolean {
  switch (m.type) {
    case 'init':
      methods = m.model.methods;
      imageUri = m.imageUri;
      options = m.state.options;
      if (m.state.compare) view = { ...defaultCompareState(), ...m.state.compare };
      render();
      return false;
    case 'options':
      options = m.options;
      renderGrid();
      return false;
    case 'predictions':
      predictions = m.predictions;
      renderGrid();
      if (view.tab === 'compare') mount?.post({ type: 'compare.compute' });
      return false;
    case 'compare.cell': {
      const k = cellKey(m.cell.method, m.cell.classIndex);
      const old = cells.get(k);
      if (old && urls.has(old.key) && old.image.png !== m.cell.image.png) {
        URL.revokeObjectURL(urls.get(old.key)!);
        urls.delete(old.key);
      }
      if (!urls.has(m.cell.key)) urls.set(m.cell.key, pngUrl(m.cell.image.png));
      cells.set(k, m.cell);
      renderGrid();
      return true;
    }
    case 'compare.random':
      randomScores.set(m.classIndex, m.scores);
      renderGrid();
      return true;
    case 'compare.clear':
      cells.clear();
      for (const u of urls.values()) URL.revokeObjectURL(u);
      urls.clear();
      randomScores.clear();
      renderGrid();
      return true;
    case 'trust.busy':
      showBusy(m.message, m.done, m.total);
      return true;
    case 'trust.idle':
      el('trust-busy').hidden = true;
      return true;
    case 'trust.error':
      el('trust-error').hidden = false;
      el('trust-error').textContent = m.message;
      return true;
    case 'trust.saved':
      el('compare-note').textContent = `Saved ${m.file}`;
      el('compare').dataset.saved = m.file;
      return true;
    case 'sanity.clear':
      el('sanity').hidden = true;
      el('sanity-strip').replaceChildren();
      return true;
    case 'sanity.start':
      el('sanity').hidden = false;
      el('sanity').dataset.done = 'false';
      el('sanity-title').textContent = `Sanity check: ${methodTitle(m.method)} for '${m.label}'`;
      el('sanity-verdict').textContent = "Randomizing the model's weighted layers from the output towards the input…";
      el('sanity-verdict').className = 'sanity-verdict';
      el('sanity-strip').replaceChildren();
      return true;
    case 'sanity.stage':
      sanityStage(m);
      return true;
    case 'sanity.done':
      el('sanity-verdict').textContent = m.sentence;
      el('sanity-verdict').className = `sanity-verdict ${m.passed ? 'passed' : 'failed'}`;
      el('sanity').dataset.done = 'true';
      return true;
    default:
      return false;
  }
}
