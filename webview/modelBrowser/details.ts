// The selected layer's details: its facts, what can be done with it (filter weights, feature maps for
// an image, visualize filters or the class), and the picture that produced (tiles, see tiles.ts).
import type { FromModelBrowser, LayerAction, LayerNode, ModelSummaryView, ToModelBrowser } from '../../src/shared/protocol';
import { shapeText } from '../../src/shared/format';
import { byId, h } from '../common/dom';
import { tileGrid } from './tiles';

const fmt = (n: number) => n.toLocaleString('en-US');

export function showDetails(l: LayerNode, summary: ModelSummaryView | null, post: (m: FromModelBrowser) => void): void {
  const facts: [string, string][] = [
    ['Path', l.path],
    ['Type', l.className],
    ['Output shape', shapeText(l.outputShape?.slice(1))],
    ['Parameters', fmt(l.params)],
  ];
  if (l.children) facts.push(['Layers', String(l.children.length)]);
  if (l.kernelShape) facts.push(['Kernel', shapeText(l.kernelShape)]);
  if (l.activation) facts.push(['Activation', l.activation]);
  if (l.spatial) facts.push(['Explainable', `yes: a target for Grad-CAM and the other layer methods${summary?.defaultLayer === l.path ? ' (the default)' : ''}`]);
  const act = (action: LayerAction) => () => post({ type: 'layerAction', path: l.path, action });
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
    h('figure', { id: 'layer-figure', hidden: true }, h('div', { id: 'layer-tiles' }), h('img', { id: 'layer-image', alt: '', hidden: true }), h('figcaption', { id: 'layer-caption' })),
  );
  // Conv layers show their filters at once: the cheapest look inside.
  if (hasFilters) act('weights')();
}

let layerImageUrl: string | null = null;

export function showLayerImage(m: Extract<ToModelBrowser, { type: 'layerImage' }>): void {
  if (layerImageUrl) URL.revokeObjectURL(layerImageUrl);
  layerImageUrl = URL.createObjectURL(new Blob([m.image.png as BlobPart], { type: 'image/png' }));
  // The composite stays in the page (tests and "copy image" read it); the tiles are what one looks at.
  const img = byId<HTMLImageElement>('layer-image');
  img.src = layerImageUrl;
  img.alt = m.description;
  img.dataset.what = m.what;
  const tiles = byId('layer-tiles');
  if (m.tiles?.length) {
    img.hidden = true;
    tiles.replaceChildren(tileGrid(m.tiles, m.description));
  } else {
    img.hidden = false;
    tiles.replaceChildren();
  }
  byId('layer-caption').textContent = m.description + (m.tiles?.length ? ' · click a tile to enlarge it' : '');
  byId('layer-figure').hidden = false;
}
