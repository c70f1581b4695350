// The model browser's page: the model summary, the layer tree (tree.ts) and the selected layer's details
// (details.ts, tiles.ts). Host side: src/extension/modelBrowser.ts. Messages: ToModelBrowser / FromModelBrowser.
import './common/toolkit';
import './modelBrowser.css';
import type { FromModelBrowser, LayerNode, ModelBrowserState, ModelSummaryView, ToModelBrowser } from '../src/shared/protocol';
import { shapeText } from '../src/shared/format';
import { byId, h } from './common/dom';
import { host } from './common/vscodeApi';
import { showDetails, showLayerImage } from './modelBrowser/details';
import { LayerTree } from './modelBrowser/tree';

const vscode = host<FromModelBrowser, ModelBrowserState>();
let state: ModelBrowserState = vscode.getState() ?? { expanded: [], selected: null };
let summary: ModelSummaryView | null = null;

const fmt = (n: number) => n.toLocaleString('en-US');

function save(): void {
  vscode.setState(state);
}

const tree = new LayerTree(h('div', { id: 'layers', class: 'tree', 'aria-label': 'Layers (↑/↓ move, → expands, ← collapses, Enter chooses)' }), {
  onSelect(l: LayerNode) {
    state = { ...state, selected: l.path };
    save();
    vscode.post({ type: 'selectLayer', path: l.path });
    showDetails(l, summary, (m) => vscode.post(m));
  },
  onExpandedChange(expanded) {
    state = { ...state, expanded };
    save();
  },
});

function build(): void {
  byId('app').replaceChildren(
    h('header', {}, h('div', { class: 'title', id: 'title' }, 'Model'), h('div', { class: 'muted', id: 'subtitle' })),
    h('div', { class: 'status-line' },
      h('div', { id: 'busy', class: 'busy', hidden: true, role: 'status' }, h('vscode-progress-ring'), h('span', { id: 'busy-message' })),
      h('div', { id: 'error', class: 'error', hidden: true, role: 'alert' }, h('span', { id: 'error-message' }),
        h('vscode-button', { appearance: 'secondary', onclick: () => vscode.post({ type: 'retry' }) }, 'Retry'),
        h('vscode-button', { appearance: 'secondary', onclick: () => vscode.post({ type: 'openAsText' }) }, 'Open as text'))),
    h('section', { id: 'summary', class: 'summary', hidden: true, 'aria-label': 'Model summary' }),
    h('main', { id: 'main', hidden: true },
      h('section', { class: 'tree-pane', 'aria-label': 'Layers' },
        h('div', { class: 'tree-head row', 'aria-hidden': 'true' }, h('span', {}, 'Layer'), h('span', {}, 'Type'), h('span', {}, 'Output shape'), h('span', { class: 'num' }, 'Parameters')),
        tree.element,
        h('p', { class: 'legend muted' }, h('span', { class: 'mark' }, '◆'), ' a spatial layer: a target for Grad-CAM and the other layer methods'),
      ),
      h('section', { id: 'details', class: 'details', 'aria-label': 'Selected layer', 'aria-live': 'polite' }),
    ),
  );
}

function summaryTable(s: ModelSummaryView, backend: string | null): HTMLElement {
  const rows: [string, string][] = [
    ['Format', s.format],
    ['Input', `${shapeText([s.input.height, s.input.width, s.input.channels])}, ${s.inputLayout}`],
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

function find(ls: LayerNode[], p: string): LayerNode | null {
  for (const l of ls) {
    if (l.path === p) return l;
    const c = l.children && find(l.children, p);
    if (c) return c;
  }
  return null;
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
  tree.show(s.layers, state.expanded, state.selected);
  byId('error').hidden = true;
  const sel = state.selected ? find(s.layers, state.selected) : null;
  if (sel) tree.select(sel.path);
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
      if (state.selected === m.path) showLayerImage(m);
      return;
  }
});

build();
vscode.post({ type: 'ready' });
