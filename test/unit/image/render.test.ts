import assert from 'node:assert/strict';
import { colormapLut } from '../../../src/engine/image/colormap';
import type { RgbaImage } from '../../../src/engine/image/decode';
import { fitText, hasGlyph, textWidth } from '../../../src/engine/image/font';
import {
  absPercentile, channelAbsMax, featureMapGrid, featureMapTiles, heatmapImage, heatmapOverlay, normalizeMap, renderSignedOrRgb, scaleChannel, tileGrid,
} from '../../../src/engine/image/render';

function px(img: RgbaImage, x: number, y: number): number[] {
  const o = (y * img.width + x) * 4;
  return Array.from(img.data.subarray(o, o + 4));
}

function lutAt(name: 'viridis' | 'jet' | 'gray', i: number): number[] {
  const l = colormapLut(name);
  return [l[i * 3], l[i * 3 + 1], l[i * 3 + 2]];
}

function solid(w: number, h: number, c: number[]): RgbaImage {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) data.set(c, i * 4);
  return { width: w, height: h, data };
}

describe('image/render', () => {
  it('normalizes min..max to 0..1; constant, NaN and empty ranges give 0 (the low colour), never NaN', () => {
    assert.deepEqual(Array.from(normalizeMap(Float32Array.from([2, 4, 6]))), [0, 0.5, 1]);
    assert.deepEqual(Array.from(normalizeMap(Float32Array.from([5, 5, 5]))), [0, 0, 0]);
    assert.deepEqual(Array.from(normalizeMap(Float32Array.from([1e6, 1e6 * (1 + 1e-8), 1e6]))), [0, 0, 0], 'float noise on a constant');
    assert.deepEqual(Array.from(normalizeMap(Float32Array.from([0, NaN, 2]))), [0, 0, 1]);
    assert.deepEqual(Array.from(normalizeMap(Float32Array.from([0, 5, 20]), [0, 10])), [0, 0.5, 1], 'range clamps');
    assert.deepEqual(Array.from(normalizeMap(Float32Array.from([1, 2]), [3, 3])), [0, 0]);
    assert.deepEqual(Array.from(normalizeMap(Float32Array.from([1e-9, 3e-9]))), [0, 1], 'tiny but real contrast is kept');
  });

  it('overlays: alpha 0 is the image, alpha 1 is the colormap; the hot corner gets the top colour', () => {
    const base = solid(8, 8, [10, 20, 30, 255]);
    const map = Float32Array.from([0, 0, 0, 1]); // 2x2, hot bottom-right
    const a0 = heatmapOverlay(map, 2, 2, base, { alpha: 0 });
    assert.deepEqual(Array.from(a0.data), Array.from(base.data));
    const a1 = heatmapOverlay(map, 2, 2, base, { alpha: 1, colormap: 'jet' });
    assert.deepEqual(px(a1, 7, 7).slice(0, 3), lutAt('jet', 255));
    assert.deepEqual(px(a1, 0, 0).slice(0, 3), lutAt('jet', 0));
    const half = heatmapOverlay(map, 2, 2, base); // default alpha 0.5, viridis
    const top = lutAt('viridis', 255);
    assert.deepEqual(px(half, 7, 7), [...[10, 20, 30].map((v, k) => Math.round(0.5 * v + 0.5 * top[k])), 255]);
    // upsampled bilinearly: along the top row the map is 0 everywhere, so the colour is the low end
    assert.deepEqual(px(a1, 4, 0).slice(0, 3), lutAt('jet', 0));
    // a constant map renders all-low rather than failing
    const flat = heatmapOverlay(Float32Array.from([3, 3, 3, 3]), 2, 2, base, { alpha: 1 });
    assert.deepEqual(px(flat, 5, 5).slice(0, 3), lutAt('viridis', 0));
    // transparent parts of the image are shown over white
    const clear = heatmapOverlay(map, 2, 2, solid(2, 2, [0, 0, 0, 0]), { alpha: 0 });
    assert.deepEqual(px(clear, 0, 0), [255, 255, 255, 255]);
    assert.throws(() => heatmapOverlay(map, 2, 3, base), /4 values, expected 2x3 = 6/);
  });

  it('heatmapImage draws the map alone at the size asked for', () => {
    const img = heatmapImage(Float32Array.from([0, 1]), 1, 2, { outW: 10, outH: 3, colormap: 'gray' });
    assert.deepEqual([img.width, img.height], [10, 3]);
    assert.deepEqual(px(img, 0, 1), [0, 0, 0, 255]);
    assert.deepEqual(px(img, 9, 1), [255, 255, 255, 255]);
    // x = 4: sample (4.5) * 2/10 - 0.5 = 0.4 -> 0.4 of the way -> round(0.4 * 255) = 102
    assert.deepEqual(px(img, 4, 2), [102, 102, 102, 255]);
  });

  it('renders signed maps around mid-gray and clips at the 99.5th percentile of |v|', () => {
    const zero = renderSignedOrRgb(new Float32Array(12), 2, 2, 3);
    assert.ok(Array.from(zero.data).every((v, i) => (i % 4 === 3 ? v === 255 : v === 128)), 'all mid-gray');
    // 1000 values of +-1 and two huge outliers: the percentile ignores the outliers, so +-1 spans the range.
    const n = 1002;
    const map = new Float32Array(n);
    for (let i = 0; i < 1000; i++) map[i] = i % 2 ? 1 : -1;
    map[1000] = 1e6;
    map[1001] = -1e6;
    assert.equal(absPercentile(map, 99.5), 1);
    const img = renderSignedOrRgb(map, 1, n, 1);
    assert.deepEqual(px(img, 0, 0), [0, 0, 0, 255]);
    assert.deepEqual(px(img, 1, 0), [255, 255, 255, 255]);
    assert.deepEqual(px(img, 1000, 0), [255, 255, 255, 255]);
    // RGB: each channel on its own, the same scale for all
    const rgb = renderSignedOrRgb(Float32Array.from([2, -2, 0, 1, 0, -1]), 1, 2, 3, { clipPercentile: 100 });
    assert.deepEqual(px(rgb, 0, 0), [255, 0, 128, 255]);
    assert.deepEqual(px(rgb, 1, 0), [Math.round(127.5 + 127.5 / 2), 128, Math.round(127.5 - 127.5 / 2), 255]);
    assert.throws(() => renderSignedOrRgb(new Float32Array(4), 1, 2, 2), /2 channels/);
  });

  it('channelAbsMax and scaleChannel', () => {
    assert.deepEqual(Array.from(channelAbsMax(Float32Array.from([1, -3, 2, 0.5]), 1, 2, 2)), [3, 2]);
    const acts = Float32Array.from([0, 0, 10, 0.001, 5, 0.0005]); // 1x3x2
    assert.deepEqual(Array.from(scaleChannel(acts, 1, 3, 2, 0)), [0, 1, 0.5]);
    const ch1 = Array.from(scaleChannel(acts, 1, 3, 2, 1));
    assert.ok(Math.abs(ch1[1] - 1) < 1e-6 && Math.abs(ch1[2] - 0.5) < 1e-3, `each channel on its own: ${ch1}`);
  });

  it('feature-map tiles scale each channel on its own and upscale by nearest neighbour', () => {
    const acts = Float32Array.from([0, 0, 10, 0.001]); // 1x2x2: channel 0 = [0, 10], channel 1 = [0, 0.001]
    const tiles = featureMapTiles(acts, 1, 2, 2, { scale: 3, colormap: 'gray' });
    assert.equal(tiles.length, 2);
    for (const t of tiles) {
      assert.deepEqual([t.width, t.height], [6, 3]);
      assert.deepEqual(px(t, 0, 0), [0, 0, 0, 255]);
      assert.deepEqual(px(t, 2, 2), [0, 0, 0, 255]);
      assert.deepEqual(px(t, 3, 0), [255, 255, 255, 255]);
    }
    assert.equal(featureMapTiles(new Float32Array(7 * 7 * 100), 7, 7, 100).length, 64, 'at most 64 by default');
    assert.equal(featureMapTiles(new Float32Array(7 * 7 * 100), 7, 7, 100)[0].width, 63, 'about 64 pixels');
  });

  it('lays out a labelled grid: sizes, tile positions, background and label ink', () => {
    const tiles = [solid(20, 20, [255, 0, 0, 255]), solid(20, 20, [0, 255, 0, 255]), solid(6, 6, [0, 0, 255, 255])];
    const g = tileGrid(tiles, { cols: 2, pad: 2, labels: ['a1', 'b_2', 'c:3'], background: [0, 0, 0] });
    const labelH = 9 + 3;
    assert.equal(g.width, 2 * 20 + 3 * 2);
    assert.equal(g.height, 2 * (20 + labelH) + 3 * 2);
    assert.deepEqual(px(g, 2, 2), [255, 0, 0, 255]);
    assert.deepEqual(px(g, 21, 21), [255, 0, 0, 255]);
    assert.deepEqual(px(g, 24, 2), [0, 255, 0, 255]);
    assert.deepEqual(px(g, 0, 0), [0, 0, 0, 255]);
    assert.deepEqual(px(g, 22, 10), [0, 0, 0, 255], 'padding between cells');
    // the small tile is centred in its cell (cell at x 2, y 2 + 20 + 12 + 2 = 36; offset (20 - 6) / 2 = 7)
    assert.deepEqual(px(g, 2 + 7, 36 + 7), [0, 0, 255, 255]);
    assert.deepEqual(px(g, 2 + 6, 36 + 6), [0, 0, 0, 255]);
    // the label band under the first tile has light ink on the dark background, and only there
    const inkIn = (x0: number, y0: number, x1: number, y1: number) => {
      let n = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (px(g, x, y)[0] === 235) n++;
      return n;
    };
    assert.ok(inkIn(2, 22, 22, 22 + labelH) > 10, 'label pixels drawn');
    assert.equal(inkIn(0, 0, g.width, 22), 0, 'no ink over the first row of tiles');
    const light = tileGrid(tiles, { labels: ['x'], background: [250, 250, 250] });
    let dark = 0;
    for (let i = 0; i < light.data.length; i += 4) if (light.data[i] === 20 && light.data[i + 1] === 20) dark++;
    assert.ok(dark > 0, 'dark text on a light background');
    // small tiles: cells widen so that a 10-character label fits
    const narrow = tileGrid([solid(8, 8, [9, 9, 9, 255])], { labels: ['conv2d_1:7'], pad: 0 });
    assert.equal(narrow.width, 10 * 6 - 1);
    assert.throws(() => tileGrid([]), /no tiles/);
  });

  it('has glyphs for digits, letters and _-:.#, and shortens labels that do not fit', () => {
    for (const ch of '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-:.#/()[]=+%,') assert.ok(hasGlyph(ch), ch);
    assert.equal(textWidth('abc'), 17);
    assert.equal(textWidth('abc', 2), 34);
    assert.equal(fitText('block_1_expand', 40), 'block…'); // 6 characters of 6 pixels fit in 40 (the last needs no gap)
    assert.ok(textWidth(fitText('block_1_expand', 40)) <= 40);
    assert.equal(fitText('conv1', 40), 'conv1');
  });

  it('featureMapGrid labels tiles by channel index', () => {
    const g = featureMapGrid(new Float32Array(4 * 4 * 3), 4, 4, 3, { cols: 3, pad: 1 });
    assert.equal(g.width, 3 * 64 + 4);
  });
});
