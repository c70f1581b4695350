// The panel's title (image · model, with ⇄ to explain the same image with another model) and the
// one-line facts about the model, or what is happening to it.
import { byId, h } from '../common/dom';
import { view, vscode, type Init } from './view';

export function header(): HTMLElement {
  return h('header', {},
    h('div', { class: 'title' }, h('span', { id: 'image-name' }), h('span', { class: 'sep' }, ' · '), h('span', { id: 'model-name' }),
      h('vscode-button', { id: 'change-model', appearance: 'icon', title: 'Explain this image with another model (this panel only)', 'aria-label': 'Use another model in this panel', onclick: () => vscode.post({ type: 'selectModel' }) }, '⇄')),
    h('div', { id: 'model-info', class: 'muted' }),
    h('div', { id: 'layer-reason', class: 'muted' }),
  );
}

export function showHeader(m: Init): void {
  byId('image-name').textContent = m.imageName;
  byId('model-name').textContent = m.modelName;
  showModelInfo();
}

export function showModelInfo(): void {
  const b = view.init?.model;
  if (!b) return;
  byId('model-info').textContent = view.failed
    ? 'The model could not be loaded.'
    : b.format
      ? `${b.format} · input ${b.inputSize.height}×${b.inputSize.width}×${b.inputSize.channels} · ${b.labels.length} classes · preprocessing ${b.defaultPreprocess} (${b.preprocessReason})`
      : 'Loading the model…';
  byId('layer-reason').textContent = !view.failed && b.defaultLayer ? `Default layer ${b.defaultLayer}: ${b.defaultLayerReason ?? ''}` : '';
}
