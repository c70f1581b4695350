// Filter and feature-map tiles: a grid of cells at least 96 px wide (the details pane grows with the
// panel), each a button; a click (or Enter) shows the tile large with its channel and value range.
// ←/→ step through the tiles in the large view, Escape closes it.
import type { LayerTile } from '../../src/shared/protocol';
import { h } from '../common/dom';

const urls: string[] = [];

function num(v: number): string {
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(2) : Number(v.toPrecision(3)).toString();
}

export function tileGrid(tiles: LayerTile[], what: string): HTMLElement {
  for (const u of urls.splice(0)) URL.revokeObjectURL(u);
  const srcs = tiles.map((t) => {
    const u = URL.createObjectURL(new Blob([t.png as BlobPart], { type: 'image/png' }));
    urls.push(u);
    return u;
  });
  const grid = h('div', { class: 'tile-grid', role: 'list', 'aria-label': what });
  const open = (i: number) => grid.parentElement?.append(largeView(tiles, srcs, i, (j) => (grid.children[j] as HTMLElement | undefined)?.focus()));
  grid.append(
    ...tiles.map((t, i) =>
      h('button', { class: 'tile', type: 'button', role: 'listitem', 'data-index': i, title: `${t.label}: values ${num(t.min)} … ${num(t.max)} (click to enlarge)`, onclick: () => open(i) },
        h('img', { src: srcs[i], alt: t.label }),
        h('span', { class: 'tile-label' }, t.label),
      ),
    ),
  );
  return grid;
}

function largeView(tiles: LayerTile[], srcs: string[], start: number, onClose: (i: number) => void): HTMLElement {
  let i = start;
  document.getElementById('tile-large')?.remove();
  const img = h('img', { id: 'tile-large-image', alt: '' });
  const caption = h('p', { id: 'tile-large-caption' });
  const close = () => {
    view.remove();
    onClose(i);
  };
  const show = () => {
    const t = tiles[i];
    img.setAttribute('src', srcs[i]);
    img.setAttribute('alt', t.label);
    caption.textContent = `${t.label} · values ${num(t.min)} … ${num(t.max)} · ${i + 1} of ${tiles.length}`;
  };
  const view = h('div', { id: 'tile-large', class: 'tile-large', role: 'dialog', 'aria-modal': 'true', 'aria-label': 'Tile, enlarged', tabindex: -1 },
    h('div', { class: 'tile-large-bar' },
      h('vscode-button', { appearance: 'icon', 'aria-label': 'Previous tile', title: 'Previous (←)', onclick: () => ((i = Math.max(0, i - 1)), show()) }, '‹'),
      h('vscode-button', { appearance: 'icon', 'aria-label': 'Next tile', title: 'Next (→)', onclick: () => ((i = Math.min(tiles.length - 1, i + 1)), show()) }, '›'),
      h('vscode-button', { id: 'tile-large-close', appearance: 'secondary', onclick: close }, 'Close'),
    ),
    img,
    caption,
  );
  view.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') close();
    else if (e.key === 'ArrowLeft') i = Math.max(0, i - 1);
    else if (e.key === 'ArrowRight') i = Math.min(tiles.length - 1, i + 1);
    else return;
    e.preventDefault();
    if (view.isConnected) show();
  });
  show();
  queueMicrotask(() => view.focus());
  return view;
}
