// The image and its heatmap: over the image (overlay) or beside it (side by side), always fitted to the
// panel's width and height; the colour legend (the colormap from the map's minimum to its maximum); a
// note when the image was changed on its way into the model; the caption of the map on show.
import { colormapValue, isColormapName } from '../../src/engine/image/colormap';
import { percent } from '../../src/shared/format';
import type { HeatmapView } from '../../src/shared/protocol';
import { byId, h } from '../common/dom';
import { onRefresh, options, view } from './view';

let heatmapUrl: string | null = null;

export function figureSection(): HTMLElement {
  onRefresh(() => {
    const o = options();
    const side = o.layout === 'side-by-side';
    const have = !!heatmapUrl && !view.failed;
    const heat = byId<HTMLImageElement>('heatmap');
    heat.style.opacity = String(o.opacity);
    heat.hidden = side || !have;
    byId('side').hidden = !side || !have;
    byId('pair').classList.toggle('side-by-side', side && have);
    byId('legend').hidden = !have;
    // After a load error only the image stays: no map, caption or note of another model.
    byId('caption').hidden = view.failed || !view.current;
    if (view.failed) byId('input-note').hidden = true;
  });
  return h('section', { class: 'figures', 'aria-label': 'Image and heatmap' },
    h('div', { id: 'pair', class: 'pair' },
      h('div', { id: 'stack', class: 'stack' },
        h('img', { id: 'image', alt: 'the image' }),
        h('img', { id: 'heatmap', alt: 'heatmap', hidden: true }),
      ),
      h('div', { id: 'side', class: 'stack', hidden: true }, h('img', { id: 'heatmap-alone', alt: 'heatmap alone' })),
    ),
    h('div', { id: 'legend', class: 'legend', hidden: true, 'aria-label': 'Colour scale' },
      h('span', { id: 'legend-min', class: 'legend-value' }),
      h('span', { id: 'legend-bar', class: 'legend-bar', 'aria-hidden': 'true' }),
      h('span', { id: 'legend-max', class: 'legend-value' }),
      h('span', { id: 'legend-note', class: 'muted' }),
    ),
    h('p', { id: 'input-note', class: 'input-note', hidden: true }),
    h('p', { id: 'empty-note', class: 'input-note', role: 'status', hidden: true }),
    h('p', { id: 'caption', class: 'caption' }),
  );
}

/**
 * The height the figures may take: from where they start to the bottom of the panel, less the legend and
 * caption. Measured (the options bar wraps differently at each width), kept in --avail-h for the CSS.
 */
export function fitToPanel(): void {
  const pair = document.getElementById('pair');
  if (!pair) return;
  const top = pair.getBoundingClientRect().top + window.scrollY;
  const avail = Math.max(160, window.innerHeight - top - 72);
  document.documentElement.style.setProperty('--avail-h', `${avail}px`);
}

export function watchPanelSize(): void {
  const observer = new ResizeObserver(() => fitToPanel());
  for (const el of Array.from(document.querySelectorAll('header, .toolbar, .status-line'))) observer.observe(el);
  window.addEventListener('resize', fitToPanel);
  fitToPanel();
}

export function showImage(uri: string): void {
  const img = byId<HTMLImageElement>('image');
  // No broken-image icon: an image that cannot be shown is hidden and said so in words.
  img.onerror = () => {
    img.hidden = true;
    showInputNote('The image cannot be shown here (the engine may still read it).');
  };
  img.onload = () => {
    img.hidden = false;
    // Both boxes take the image's aspect ratio; CSS fits them to the panel's width and height.
    const ar = img.naturalWidth / Math.max(1, img.naturalHeight);
    for (const id of ['stack', 'side']) byId(id).style.setProperty('--ar', String(ar));
  };
  img.src = uri;
}

/** A new model in this panel: nothing of the old one's maps stays on show. */
export function clearFigures(): void {
  view.current = null;
  if (heatmapUrl) URL.revokeObjectURL(heatmapUrl);
  heatmapUrl = null;
  byId('caption').textContent = '';
  byId('empty-note').hidden = true;
  showInputNote(null);
}

export function showInputNote(note: string | null): void {
  const el = byId('input-note');
  el.hidden = !note;
  el.textContent = note ? `Input: ${note}` : '';
}

function gradient(colormap: string): string {
  if (!isColormapName(colormap)) return 'linear-gradient(to right, black, white)';
  const stops = Array.from({ length: 11 }, (_, i) => {
    const [r, g, b] = colormapValue(colormap, i / 10);
    return `rgb(${Math.round(r * 255)}, ${Math.round(g * 255)}, ${Math.round(b * 255)}) ${i * 10}%`;
  });
  return `linear-gradient(to right, ${stops.join(', ')})`;
}

function num(v: number): string {
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : Number(v.toPrecision(3)).toString();
}

export function showHeatmap(v: HeatmapView): void {
  view.current = v;
  if (heatmapUrl) URL.revokeObjectURL(heatmapUrl);
  heatmapUrl = URL.createObjectURL(new Blob([v.image.png as BlobPart], { type: 'image/png' }));
  for (const id of ['heatmap', 'heatmap-alone']) {
    const img = byId<HTMLImageElement>(id);
    img.src = heatmapUrl;
    img.dataset.key = v.key;
    img.dataset.classIndex = String(v.classIndex);
    img.dataset.method = v.method;
  }
  const bar = byId('legend-bar');
  const signed = v.kind === 'input-channels';
  bar.style.background = signed ? 'linear-gradient(to right, rgb(0, 0, 0), rgb(128, 128, 128), rgb(255, 255, 255))' : gradient(v.colormap);
  byId('legend-min').textContent = num(v.min);
  byId('legend-max').textContent = num(v.max);
  byId('legend-note').textContent = signed ? 'per-channel gradient drawn as colour (grey = 0)' : v.kind === 'input-map' ? 'colours clipped at the 99.5th percentile' : '';
  const method = view.init?.model.methods.find((m) => m.name === v.method);
  const layer = v.layer ? ` · layer ${v.layer}${v.layerIsDefault ? ' (default)' : ''}` : '';
  byId('caption').textContent = `${method?.title ?? v.method} for '${v.label}' (${percent(v.probability)})${layer} · ${Math.round(v.ms)} ms`;
  const note = byId('empty-note');
  note.hidden = !v.empty;
  note.textContent = v.empty ?? '';
  for (const id of ['stack', 'side']) byId(id).classList.remove('stale');
}

/**
 * A request failed: the map on show belongs to the previous request. It is dimmed and its caption says
 * so, so that it is never read as the failed method's result.
 */
export function markStale(failed: string): void {
  if (!view.current) return;
  for (const id of ['stack', 'side']) byId(id).classList.add('stale');
  const method = view.init?.model.methods.find((m) => m.name === view.current!.method);
  const layer = view.current.layer ? ` · layer ${view.current.layer}` : '';
  byId('caption').textContent = `Previous map, not ${failed}: ${method?.title ?? view.current.method} for '${view.current.label}'${layer}`;
}
