// The explain panel's options bar: method, target layer, colormap, preprocessing, opacity, view
// (overlay / side by side) and the save buttons. Controls keep fixed widths so nothing jumps when a
// value or a label changes.
import { layerChoices } from '../../src/shared/format';
import { h, setDropdown } from '../common/dom';
import { layerPicker } from './layerPicker';
import { fillMethods, methodPicker } from './methodPicker';
import { change, chosenRadio, type Dropdown, onRefresh, options, view, vscode } from './view';

function control(text: string, el: HTMLElement, id: string): HTMLElement {
  el.id = id;
  el.setAttribute('aria-label', text);
  return h('div', { class: `control control-${id}` }, h('label', { for: id }, text), el);
}

const layers = layerPicker('layer', (path) => change({ layer: path }));
let methodEl: HTMLElement;

export function toolbar(): HTMLElement {
  methodEl = methodPicker();
  const colormap = h('vscode-dropdown', { onchange: (e) => change({ colormap: (e.target as Dropdown).value }) });
  const preprocess = h('vscode-dropdown', { onchange: (e) => change({ preprocess: (e.target as Dropdown).value }) });
  const opacity = h('input', { type: 'range', min: 0, max: 100, step: 5, value: 50, oninput: (e) => change({ opacity: Number((e.target as HTMLInputElement).value) / 100 }) });
  const layout = h(
    'vscode-radio-group',
    {
      id: 'layout',
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
  onRefresh(() => {
    const o = options();
    const failed = view.failed;
    byIdIn('opacity-value').textContent = `${Math.round(o.opacity * 100)}%`;
    const methodInfo = view.init?.model.methods.find((m) => m.name === o.method);
    layers.setValue(o.layer);
    layers.setDisabled(failed || !methodInfo?.usesLayer, failed ? 'No model loaded' : `${methodInfo?.title ?? o.method} works on the input, not on a layer`);
    (layout as Dropdown).value = o.layout;
    for (const [d, v] of [[colormap, o.colormap], [preprocess, o.preprocess]] as const) {
      const dd = d as Dropdown;
      if (dd.childElementCount && dd.value !== v) dd.value = v;
      dd.disabled = failed;
    }
    const range = opacity as HTMLInputElement;
    if (range.value !== String(Math.round(o.opacity * 100))) range.value = String(Math.round(o.opacity * 100));
    // Nothing to save until a heatmap is on show (and never after the model failed to load).
    for (const id of ['save-png', 'save-npy']) (document.getElementById(id) as Dropdown | null)!.disabled = failed || !view.current;
  });
  fill = () => {
    const b = view.init!.model;
    const o = options();
    fillMethods(methodEl);
    // Every layer: the spatial ones are targets (marked ◆), the others are listed disabled with the reason.
    const { prefix, choices } = layerChoices(
      [
        ...b.spatialLayers.map((l) => ({ path: l.path, className: l.className, shape: l.shape, explainable: true })),
        ...b.otherLayers.map((l) => ({ path: l.path, className: l.className, shape: l.shape, explainable: false })),
      ],
      b.defaultLayer,
    );
    layers.setChoices(choices, prefix, o.layer);
    setDropdown(colormap as Dropdown, b.colormaps.map((c) => ({ value: c, label: c })), o.colormap);
    setDropdown(preprocess as Dropdown, [{ value: 'auto', label: `auto (${b.defaultPreprocess || 'model default'})` }, ...b.preprocessPresets.map((p) => ({ value: p.name, label: p.name, title: p.description }))], o.preprocess);
  };
  return h('section', { class: 'toolbar', 'aria-label': 'Explanation options' },
    h('div', { class: 'control control-method' }, h('label', { for: 'method' }, 'Method'), methodEl),
    h('div', { class: 'control control-layer' }, h('label', { for: 'layer' }, 'Layer'), layers.element),
    control('Colormap', colormap, 'colormap'),
    control('Preprocessing', preprocess, 'preprocess'),
    h('div', { class: 'control control-opacity' }, h('label', { for: 'opacity' }, 'Opacity ', h('span', { id: 'opacity-value' })), Object.assign(opacity, { id: 'opacity' })),
    h('div', { class: 'control control-layout' }, layout),
    h('div', { class: 'control buttons' },
      h('vscode-button', { id: 'save-png', appearance: 'secondary', disabled: true, onclick: () => vscode.post({ type: 'save', format: 'png' }) }, 'Save PNG…'),
      h('vscode-button', { id: 'save-npy', appearance: 'secondary', disabled: true, onclick: () => vscode.post({ type: 'save', format: 'npy' }) }, 'Save .npy…'),
    ),
  );
}

let fill: () => void = () => undefined;

/** Fills the controls with the model's methods, layers, colormaps and presets (on init). */
export function fillToolbar(): void {
  fill();
}

function byIdIn(id: string): HTMLElement {
  return document.getElementById(id)!;
}
