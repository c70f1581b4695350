// The model browser's page: the model summary and the layer tree (nested models as expandable groups).
// Host side: src/extension/modelBrowser.ts. Messages: ToModelBrowser / FromModelBrowser.
import './common/toolkit';
import './modelBrowser.css';
import type { FromModelBrowser, LayerAction, LayerNode, ModelBrowserState, ModelSummaryView, ToModelBrowser } from '../src/shared/protocol';
import { byId, h } from './common/dom';
import { host } from './common/vscodeApi';

const vscode = host<FromModelBrowser, ModelBrowserState>();
let state: ModelBrowserState = vscode.getState() ?? { expanded: [], selected: null };
let summary: ModelSummaryView | null = null;

const fmt = (n: number) => n.toLocaleString('en-US');
const shape = (s: (number | null)[] | null) => (s ? `[${s.map((d) => (d === null ? '?' : d)).join(', ')}]` : '—');

function save(): void {
  vscode.setState(state);
}

function build(): void {
  byId('app').replaceChildren(
    h('header', {}, h('div', { class: 'title', id: 'title' }, 'Model'), h('div', { class: 'muted', id: 'subtitle' })),
    h('div', { id: 'busy', class: 'busy', hidden: true, role: 'status' }, h('vscode-progress-ring'), h('span', { id: 'busy-message' })),
    h('div', { id: 'error', class: 'error', hidden: true, role: 'alert' }, h('span', { id: 'error-message' }),
      h('vscode-button', { appearance: 'secondary', onclick: () => vscode.post({ type: 'retry' }) }, 'Retry'),
      h('vscode-button', { appearance: 'secondary', onclick: () => vscode.post({ type: 'openAsText' }) }, 'Open as text')),
    h('section', { id: 'summary', class: 'summary', hidden: true, 'aria-label': 'Model summary' }),
    h('main', { id: 'main', hidden: true },
      h('section', { class: 'tree-pane', 'aria-label': 'Layers' },
        h('div', { class: 'tree-head row' }, h('span', {}, 'Layer'), h('span', {}, 'Type'), h('span', {}, 'Output shape'), h('span', { class: 'num' }, 'Parameters')),
        h('div', { id: 'layers', class: 'tree', role: 'tree', 'aria-label': 'Layers (arrow keys move, Enter chooses)', onkeydown: (e) => onTreeKey(e as KeyboardEvent) }),
        h('p', { class: 'legend muted' }, h('span', { class: 'mark' }, '◆'), ' a spatial layer: a target for Grad-CAM and the other layer methods'),
      ),
      h('section', { id: 'details', class: 'details', 'aria-label': 'Selected layer', 'aria-live': 'polite' }),
    ),
  );
}

function summaryTable(s: ModelSummaryView, backend: string | null): HTMLElement {
  const rows: [string, string][] = [
    ['Format', s.format],
    ['Input', `${s.input.height}×${s.input.width}×${s.input.channels}, ${s.inputLayout}`],
    ['Output', `${s.numClasses} classes · ${s.outputActivation}`],
    ['Labels', s.labels ? `${s.labels.slice(0, 6).join(', ')}${s.labels.length > 6 ? ', …' : ''} (${s.labelsSource})` : 'none (class indices)'],
    ['Parameters', `${fmt(s.params.total)} (${fmt(s.params.trainable)} trainable) · ${(s.weightBytes / 2 ** 20).toFixed(2)} MB of weights`],
    ['Layers', `${s.layerCount}`],
    ['Preprocessing', `${s.defaultPreprocess} — ${s.preprocessReason}`],
    ['Default target layer', s.defaultLayer ? `${s.defaultLayer} (${s.defaultLayerReason})` : 'none: no layer has a spatial output (input-gradient methods apply)'],
    ['Engine backend', backend ?? '—'],
  ];
  return h('dl', { class: 'facts' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', { 'data-fact': k }, v)]));
}

function selectLayer(l: LayerNode): void {
  state = { ...state, selected: l.path };
  save();
  vscode.post({ type: 'selectLayer', path: l.path });
  for (const el of Array.from(document.querySelectorAll('.row.selected'))) el.classList.remove('selected');
  document.querySelector(`[data-path="${CSS.escape(l.path)}"]`)?.classList.add('selected');
  const facts: [string, string][] = [
    ['Path', l.path],
    ['Type', l.className],
    ['Output shape', shape(l.outputShape)],
    ['Parameters', fmt(l.params)],
  ];
  if (l.kernelShape) facts.push(['Kernel', shape(l.kernelShape)]);
  if (l.activation) facts.push(['Activation', l.activation]);
  if (l.spatial) facts.push(['Explainable', `yes: a target for Grad-CAM and the other layer methods${summary?.defaultLayer === l.path ? ' (the default)' : ''}`]);
  const act = (action: LayerAction) => () => vscode.post({ type: 'layerAction', path: l.path, action });
  const hasFilters = !!l.kernelShape && /Conv2D$/.test(l.className);
  const isOutput = l.kind === 'dense' && !!summary && Number(l.outputShape?.at(-1)) === summary.numClasses;
  const buttons = [
    hasFilters ? h('vscode-button', { id: 'show-weights', appearance: 'secondary', onclick: act('weights') }, 'Filter weights') : null,
    l.spatial ? h('vscode-button', { id: 'show-activations', appearance: 'secondary', onclick: act('activations') }, 'Feature maps for an image…') : null,
    l.spatial ? h('vscode-button', { id: 'visualize-filters', appearance: 'secondary', onclick: act('visualizeFilters') }, 'Visualize filters…') : null,
    isOutput ? h('vscode-button', { id: 'visualize-class', appearance: 'secondary', onclick: act('visualizeClass') }, 'Visualize class…') : null,
  ].filter((b): b is HTMLElement => b !== null);
  byId('details').replaceChildren(
    h('h2', {}, l.name),
    h('dl', { class: 'facts' }, ...facts.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    h('div', { class: 'actions', hidden: buttons.length === 0 }, ...buttons),
    h('figure', { id: 'layer-figure', hidden: true }, h('img', { id: 'layer-image', alt: '' }), h('figcaption', { id: 'layer-caption' })),
  );
  // Conv layers show their filters at once: the cheapest look inside.
  if (hasFilters) act('weights')();
}

let layerImageUrl: string | null = null;

function onLayerImage(m: Extract<ToModelBrowser, { type: 'layerImage' }>): void {
  if (state.selected !== m.path) return;
  if (layerImageUrl) URL.revokeObjectURL(layerImageUrl);
  layerImageUrl = URL.createObjectURL(new Blob([m.image.png as BlobPart], { type: 'image/png' }));
  const img = byId<HTMLImageElement>('layer-image');
  img.src = layerImageUrl;
  img.alt = m.description;
  img.dataset.what = m.what;
  // Small tiles are drawn at twice their size, crisp.
  img.style.width = `${Math.min(m.image.width * (m.image.width < 200 ? 2 : 1), 420)}px`;
  byId('layer-caption').textContent = m.description;
  byId('layer-figure').hidden = false;
}

function layerRow(l: LayerNode, depth: number): HTMLElement {
  const cells = [
    h('span', { class: 'name', title: l.path }, l.name),
    h('span', { class: 'cls', title: l.className }, l.className),
    h('span', { class: 'shape' }, shape(l.outputShape)),
    h('span', { class: 'num' }, fmt(l.params)),
  ];
  if (l.children) {
    const details = h('details', { class: 'group', 'data-path': l.path, open: state.expanded.includes(l.path) },
      h('summary', { class: `row kind-container depth-${Math.min(depth, 8)}`, role: 'treeitem', 'aria-label': `${l.name} (${l.className}, ${l.children.length} layers)` }, ...cells),
      ...l.children.map((c) => layerRow(c, depth + 1)),
    );
    details.addEventListener('toggle', () => {
      const set = new Set(state.expanded);
      if ((details as HTMLDetailsElement).open) set.add(l.path);
      else set.delete(l.path);
      state = { ...state, expanded: [...set] };
      save();
    });
    return details;
  }
  const row = h('div', {
    class: `row layer kind-${l.kind} depth-${Math.min(depth, 8)}${l.spatial ? ' spatial' : ''}`,
    role: 'treeitem',
    tabindex: 0,
    'data-path': l.path,
    'data-kind': l.kind,
    onclick: () => selectLayer(l),
    onkeydown: (e) => {
      const k = (e as KeyboardEvent).key;
      if (k === 'Enter' || k === ' ') {
        e.preventDefault();
        selectLayer(l);
      }
    },
  }, ...cells);
  return row;
}

/** Arrow keys move between the visible rows of the tree (layers and group headers); Home/End jump. */
function onTreeKey(e: KeyboardEvent): void {
  if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(e.key)) return;
  const rows = Array.from(document.querySelectorAll<HTMLElement>('#layers .row.layer, #layers summary')).filter((r) => r.offsetParent !== null);
  const i = rows.indexOf(document.activeElement as HTMLElement);
  const next = e.key === 'Home' ? 0 : e.key === 'End' ? rows.length - 1 : e.key === 'ArrowDown' ? Math.min(rows.length - 1, i + 1) : Math.max(0, i - 1);
  if (rows[next]) {
    e.preventDefault();
    rows[next].focus();
  }
}

function onSummary(s: ModelSummaryView, backend: string | null, fileName: string): void {
  summary = s;
  byId('title').textContent = fileName;
  byId('subtitle').textContent = `${s.format} · ${fmt(s.params.total)} parameters · ${s.layerCount} layers`;
  const sum = byId('summary');
  sum.replaceChildren(summaryTable(s, backend));
  sum.hidden = false;
  byId('main').hidden = false;
  // Top-level containers start expanded the first time, so the layers are in view.
  if (state.expanded.length === 0) state = { ...state, expanded: s.layers.filter((l) => l.children).map((l) => l.path) };
  byId('layers').replaceChildren(...s.layers.map((l) => layerRow(l, 0)));
  byId('error').hidden = true;
  const find = (ls: LayerNode[]): LayerNode | null => {
    for (const l of ls) {
      if (l.path === state.selected) return l;
      const c = l.children && find(l.children);
      if (c) return c;
    }
    return null;
  };
  const sel = state.selected ? find(s.layers) : null;
  if (sel) selectLayer(sel);
  else byId('details').replaceChildren(h('p', { class: 'muted' }, 'Choose a layer to see its details.'));
  save();
}

window.addEventListener('message', (e: MessageEvent<ToModelBrowser>) => {
  const m = e.data;
  switch (m.type) {
    case 'summary':
      onSummary(m.summary, m.backend, m.fileName);
      return;
    case 'busy':
      byId('busy').hidden = false;
      byId('busy-message').textContent = m.message;
      return;
    case 'idle':
      byId('busy').hidden = true;
      return;
    case 'error':
      byId('error').hidden = false;
      byId('error-message').textContent = m.message;
      return;
    case 'layerImage':
      onLayerImage(m);
      return;
  }
});

build();
vscode.post({ type: 'ready' });
