import assert from 'node:assert/strict';
import { PNG } from 'pngjs';
import { encodePng } from '../../../src/engine/image/png';
import { decodeImage } from '../../../src/engine/image/decode';
import { rng } from './helpers';

describe('image/png', () => {
  it('encodes RGBA that pngjs and our decoder read back unchanged', () => {
    const r = rng(5);
    for (const [w, h] of [[1, 1], [7, 3], [64, 33]]) {
      const data = Uint8ClampedArray.from({ length: w * h * 4 }, () => Math.floor(r() * 256));
      const buf = encodePng({ width: w, height: h, data });
      assert.deepEqual(Array.from(buf.subarray(0, 8)), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      const back = PNG.sync.read(buf);
      assert.deepEqual([back.width, back.height], [w, h]);
      assert.deepEqual(Array.from(back.data), Array.from(data));
      assert.deepEqual(Array.from(decodeImage(buf, 'x.png').data), Array.from(data));
    }
  });

  it('encodes a view into a larger buffer and refuses a wrong length', () => {
    const big = new Uint8ClampedArray(20).map((_, i) => i * 10);
    const view = big.subarray(4, 12); // 2x1
    assert.deepEqual(Array.from(PNG.sync.read(encodePng({ width: 2, height: 1, data: view })).data), Array.from(view));
    assert.throws(() => encodePng({ width: 3, height: 1, data: view }), /8 bytes for a 3x1 RGBA image/);
  });
});
