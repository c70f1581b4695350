// The Explain panel's page: the image, the top classes, and the chosen class's heatmap, with the method,
// layer, colormap, opacity and layout controls. The host (src/extension/explainPanel.ts) computes;
// this page shows and asks. Messages: src/shared/protocol.ts (ToExplainView / FromExplainView).
import './common/toolkit';
import './explain.css';
import type { ExplainPanelState, ExplainViewOptions, FromExplainView, FromTrustView, HeatmapView, Prediction, ToExplainView, ToTrustView } from '../src/shared/protocol';
import { byId, h, percent, setDropdown } from './common/dom';
import { host } from './common/vscodeApi';
import { mountTrust, onTrustMessage } from './trust/trustView';

type Init = Extract<ToExplainView, { type: 'init' }>;
type Dropdown = HTMLElement & { value: string };

const vscode = host<FromExplainView | FromTrustView, ExplainPanelState>();
let init: Init | null = null;
let state: ExplainPanelState | null = vscode.getState() ?? null;
let heatmapUrl: string | null = null;
let current: HeatmapView | null = null;
let topClass: number | null = null;

const TOP_K = 5;

function options(): ExplainViewOptions {
  return state!.options;
}

/** Applies a change: remembered in the webview state, sent to the host. */
/** True while the page itself sets control values (their change events are not the user's). */
let settingControls = false;

function fromCode(f: () => void): void {
  settingControls = true;
  try {
    f();
  } finally {
    settingControls = false;
  }
}

function change(o: Partial<ExplainViewOptions>): void {
  if (!state || settingControls) return;
  // Controls also fire change events when the page sets their value: only real changes go on.
  // The class on show when none was chosen is the top one: choosing it again changes nothing.
  const cur = { ...state.options, classIndex: state.options.classIndex ?? current?.classIndex ?? topClass } as unknown as Record<string, unknown>;
  const diff = Object.fromEntries(Object.entries(o).filter(([k, v]) => cur[k] !== v)) as Partial<ExplainViewOptions>;
  if (Object.keys(diff).length === 0) return;
  o = diff;
  state = { ...state, options: { ...state.options, ...o } };
  vscode.setState(state);
  vscode.post({ type: 'setOptions', options: o });
  applyView();
}

/** The value a radio group's change event stands for (the toolkit's group fires it, also when set from code). */
function chosenRadio(e: Event): string | null {
  const group = e.currentTarget as HTMLElement & { value?: string };
  return group.value ?? null;
}

function label(text: string, control: HTMLElement, id: string): HTMLElement {
  control.id = id;
  control.setAttribute('aria-label', text);
  return h('div', { class: 'control' }, h('label', { for: id }, text), control);
}

function build(): void {
  const app = byId('app');
  const method = h('vscode-dropdown', { onchange: (e) => change({ method: (e.target as Dropdown).value }) });
  const layer = h('vscode-dropdown', { onchange: (e) => change({ layer: (e.target as Dropdown).value || null }) });
  const colormap = h('vscode-dropdown', { onchange: (e) => change({ colormap: (e.target as Dropdown).value }) });
  const preprocess = h('vscode-dropdown', { onchange: (e) => change({ preprocess: (e.target as Dropdown).value }) });
  const opacity = h('input', { type: 'range', min: 0, max: 100, step: 5, value: 50, oninput: (e) => change({ opacity: Number((e.target as HTMLInputElement).value) / 100 }) });
  const layout = h(
    'vscode-radio-group',
    {
      orientation: 'horizontal',
      onchange: (e) => {
        const v = chosenRadio(e);
        if (v !== null) change({ layout: v === 'side-by-side' ? 'side-by-side' : 'overlay' });
      },
    },
    h('label', { slot: 'label' }, 'View'),
    h('vscode-radio', { value: 'overlay', id: 'layout-overlay' }, 'Overlay'),
    h('vscode-radio', { value: 'side-by-side', id: 'layout-side' }, 'Side by side'),
  );
  layout.id = 'layout';
  app.replaceChildren(
    h('header', {},
      h('div', { class: 'title' }, h('span', { id: 'image-name' }), h('span', { class: 'sep' }, ' · '), h('span', { id: 'model-name' }),
        h('vscode-button', { id: 'change-model', appearance: 'icon', title: 'Use another model', 'aria-label': 'Use another model', onclick: () => vscode.post({ type: 'selectModel' }) }, '⇄')),
      h('div', { id: 'model-info', class: 'muted' }),
    ),
    h('section', { class: 'toolbar', 'aria-label': 'Explanation options' },
      label('Method', method, 'method'),
      label('Layer', layer, 'layer'),
      label('Colormap', colormap, 'colormap'),
      label('Preprocessing', preprocess, 'preprocess'),
      h('div', { class: 'control' }, h('label', { for: 'opacity' }, 'Opacity ', h('span', { id: 'opacity-value' })), Object.assign(opacity, { id: 'opacity' })),
      h('div', { class: 'control' }, layout),
      h('div', { class: 'control buttons' },
        h('vscode-button', { id: 'save-png', appearance: 'secondary', onclick: () => vscode.post({ type: 'save', format: 'png' }) }, 'Save PNG…'),
        h('vscode-button', { id: 'save-npy', appearance: 'secondary', onclick: () => vscode.post({ type: 'save', format: 'npy' }) }, 'Save .npy…'),
      ),
    ),
    h('div', { id: 'busy', class: 'busy', hidden: true, role: 'status', 'aria-live': 'polite' },
      h('vscode-progress-ring'), h('span', { id: 'busy-message' }), h('div', { class: 'bar' }, h('div', { id: 'busy-bar' })),
      h('vscode-button', { id: 'cancel', appearance: 'secondary', onclick: () => vscode.post({ type: 'cancel' }) }, 'Cancel'),
    ),
    h('div', { id: 'error', class: 'error', hidden: true, role: 'alert' }, h('span', { id: 'error-message' }),
      h('vscode-button', { id: 'retry', appearance: 'secondary', onclick: () => vscode.post({ type: 'retry' }) }, 'Retry')),
    h('main', {},
      h('section', { class: 'classes', 'aria-label': 'Predicted classes' },
        h('h2', {}, 'Top classes'),
        h('vscode-radio-group', { id: 'classes', orientation: 'vertical', onchange: (e) => {
          const v = chosenRadio(e);
          if (v !== null && v !== '') change({ classIndex: Number(v) });
        } }),
        h('div', { class: 'control' }, h('label', { for: 'other-class' }, 'Any class'),
          h('vscode-dropdown', { id: 'other-class', 'aria-label': 'Any class', onchange: (e) => {
            const v = (e.target as Dropdown).value;
            if (v !== '') change({ classIndex: Number(v) });
          } })),
      ),
      h('section', { class: 'figures', 'aria-label': 'Image and heatmap' },
        h('div', { id: 'stack', class: 'stack' },
          h('img', { id: 'image', alt: 'the image' }),
          h('img', { id: 'heatmap', alt: 'heatmap', hidden: true }),
        ),
        h('div', { id: 'side', class: 'stack', hidden: true }, h('img', { id: 'heatmap-alone', alt: 'heatmap alone' })),
        h('p', { id: 'caption', class: 'caption' }),
      ),
    ),
  );
}

function applyView(): void {
  if (!state) return;
  const o = options();
  const side = o.layout === 'side-by-side';
  byId('opacity-value').textContent = `${Math.round(o.opacity * 100)}%`;
  const heat = byId<HTMLImageElement>('heatmap');
  heat.style.opacity = String(o.opacity);
  heat.hidden = side || !heatmapUrl;
  byId('side').hidden = !side || !heatmapUrl;
  const methodInfo = init?.model.methods.find((m) => m.name === o.method);
  (byId('layer') as HTMLElement & { disabled: boolean }).disabled = !methodInfo?.usesLayer;
  fromCode(() => {
    (byId('layout') as Dropdown).value = o.layout;
    const c = o.classIndex ?? current?.classIndex ?? topClass;
    if (c !== null && c !== undefined) {
      (byId('classes') as Dropdown).value = String(c);
      const other = byId<Dropdown>('other-class');
      if (other.value !== String(c)) other.value = String(c);
    }
    for (const id of ['method', 'colormap', 'preprocess'] as const) {
      const d = byId<Dropdown>(id);
      if (d.childElementCount && d.value !== o[id]) d.value = o[id];
    }
    const layer = byId<Dropdown>('layer');
    if (layer.childElementCount && layer.value !== (o.layer ?? '')) layer.value = o.layer ?? '';
    const opacity = byId<HTMLInputElement>('opacity');
    if (opacity.value !== String(Math.round(o.opacity * 100))) opacity.value = String(Math.round(o.opacity * 100));
  });
}

function onInit(m: Init): void {
  init = m;
  state = m.state;
  vscode.setState(state);
  const o = options();
  byId('image-name').textContent = m.imageName;
  byId('model-name').textContent = m.modelName;
  const b = m.model;
  byId('model-info').textContent = b.format
    ? `${b.format} · input ${b.inputSize.height}×${b.inputSize.width}×${b.inputSize.channels} · ${b.labels.length} classes · preprocessing ${b.defaultPreprocess} (${b.preprocessReason})`
    : 'Loading the model…';
  byId<HTMLImageElement>('image').src = m.imageUri;
  setDropdown(byId<Dropdown>('method'), b.methods.map((x) => ({ value: x.name, label: x.title, title: x.paper })), o.method);
  setDropdown(
    byId<Dropdown>('layer'),
    [
      { value: '', label: `Default${b.defaultLayer ? ` (${b.defaultLayer})` : ''}` },
      ...b.spatialLayers.map((l) => ({ value: l.path, label: `${l.path}${l.path === b.defaultLayer ? ' (default)' : ''} — ${l.shape.join('×')}` })),
    ],
    o.layer ?? '',
  );
  setDropdown(byId<Dropdown>('colormap'), b.colormaps.map((c) => ({ value: c, label: c })), o.colormap);
  setDropdown(byId<Dropdown>('preprocess'), [{ value: 'auto', label: `auto (${b.defaultPreprocess || 'model default'})` }, ...b.preprocessPresets.map((p) => ({ value: p.name, label: p.name, title: p.description }))], o.preprocess);
  byId<HTMLInputElement>('opacity').value = String(Math.round(o.opacity * 100));
  applyView();
}

function onPredictions(list: Prediction[]): void {
  topClass = list[0]?.index ?? null;
  const radios = byId('classes');
  radios.replaceChildren(
    h('label', { slot: 'label', class: 'sr-only' }, 'Top classes'),
    ...list.slice(0, TOP_K).map((p) =>
      h('vscode-radio', { value: String(p.index), id: `class-${p.index}`, 'data-probability': p.probability },
        h('span', { class: 'class-label' }, p.label),
        h('span', { class: 'prob' }, percent(p.probability)),
        h('span', { class: 'prob-bar', 'aria-hidden': 'true' }, h('span', { class: 'prob-fill', 'data-p': p.probability })),
      ),
    ),
  );
  // Widths through the CSSOM (the CSP allows no inline style attributes).
  for (const el of Array.from(radios.querySelectorAll<HTMLElement>('.prob-fill'))) el.style.width = `${Math.max(1, Number(el.dataset.p) * 100)}%`;
  setDropdown(byId<Dropdown>('other-class'), list.map((p) => ({ value: String(p.index), label: `${p.label} (${percent(p.probability)})` })), String(options().classIndex ?? list[0]?.index ?? ''));
  applyView();
}

function onHeatmap(v: HeatmapView): void {
  current = v;
  if (heatmapUrl) URL.revokeObjectURL(heatmapUrl);
  heatmapUrl = URL.createObjectURL(new Blob([v.image.png as BlobPart], { type: 'image/png' }));
  for (const id of ['heatmap', 'heatmap-alone']) {
    const img = byId<HTMLImageElement>(id);
    img.src = heatmapUrl;
    img.dataset.key = v.key;
    img.dataset.classIndex = String(v.classIndex);
    img.dataset.method = v.method;
  }
  const method = init?.model.methods.find((m) => m.name === v.method);
  const layer = v.layer ? ` · layer ${v.layer}${v.layerIsDefault ? ' (default)' : ''}` : '';
  byId('caption').textContent = `${method?.title ?? v.method} for '${v.label}' (${percent(v.probability)})${layer} · map range ${v.min.toPrecision(3)} … ${v.max.toPrecision(3)} · ${Math.round(v.ms)} ms`;
  byId('error').hidden = true;
  applyView();
}

function onBusy(message: string, done?: number, total?: number): void {
  const busy = byId('busy');
  busy.hidden = false;
  byId('busy-message').textContent = message;
  const bar = byId('busy-bar');
  bar.style.width = done !== undefined && total ? `${Math.round((100 * done) / total)}%` : '0%';
  byId('error').hidden = true;
}

window.addEventListener('message', (e: MessageEvent<ToExplainView | ToTrustView>) => {
  // The Compare view and Sanity check (webview/trust/) handle their own messages and watch the panel's.
  if (onTrustMessage(e.data)) return;
  const m = e.data as ToExplainView;
  switch (m.type) {
    case 'init':
      fromCode(() => onInit(m));
      return;
    case 'predictions':
      fromCode(() => onPredictions(m.predictions));
      return;
    case 'options':
      if (state) {
        state = { ...state, options: m.options };
        vscode.setState(state);
        applyView();
      }
      return;
    case 'heatmap':
      onHeatmap(m.heatmap);
      return;
    case 'busy':
      onBusy(m.message, m.done, m.total);
      return;
    case 'idle':
      byId('busy').hidden = true;
      return;
    case 'error':
      byId('error').hidden = false;
      byId('error-message').textContent = m.message;
      return;
    case 'saved':
      byId('caption').dataset.saved = m.file;
      return;
  }
});

build();
mountTrust(byId('app'), {
  post: (m) => vscode.post(m),
  openSingle: (method, classIndex) => change({ method, classIndex }),
  saveView: (compare) => {
    if (state) vscode.setState((state = { ...state, compare }));
  },
}, state?.compare);
if (state) applyView();
vscode.post({ type: 'ready' });
