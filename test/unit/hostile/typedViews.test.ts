// Typed-array views over bytes whose size a file declares: a view longer than its buffer is a RangeError
// ("Invalid typed array length: 4") that says nothing about the file. The loaders check sizes before these
// helpers run; the helpers check again, so a missed path gives a sentence instead.
import { strict as assert } from 'node:assert';
import { applyOrientation } from '../../../src/engine/image/jpegInfo';
import { checkFiniteWeights } from '../../../src/engine/model/topology';

describe('typed-array views over declared sizes', () => {
  it('the NaN/Inf scan of float32 weights names the weight whose bytes are missing', () => {
    // 'a' takes bytes 0..8, 'b' (4 values) would need 8..24 of a 16-byte buffer.
    const data = new Float32Array([1, 2, 3, 4]).buffer;
    const specs = [
      { name: 'a', shape: [2], dtype: 'float32' },
      { name: 'b', shape: [2, 2], dtype: 'float32' },
    ];
    const err = checkFiniteWeights('/m/model.json', specs, data);
    assert.ok(err, 'a problem is reported');
    assert.equal(err.name, 'LensError');
    assert.equal(err.message, "/m/model.json: weight 'b' needs bytes 8..24 of the weight data, which holds 16");
    // and the scan itself still works where the bytes are there
    assert.equal(checkFiniteWeights('/m/model.json', specs.slice(0, 1), data), null);
    assert.match(checkFiniteWeights('/m/model.json', specs.slice(0, 1), new Float32Array([1, NaN]).buffer)?.message ?? '', /weight 'a' holds NaN values/);
  });

  it('EXIF orientation refuses pixels that do not fill the declared size, and rotates those that do', () => {
    assert.throws(() => applyOrientation(new Uint8ClampedArray(8), 2, 2, 6), /the decoded pixels \(8 bytes\) do not fill a 2×2 image/);
    // Orientation 6 (rotate 90° clockwise) of a 2×1 image [p, q] is the 1×2 image [p; q].
    const px = Uint8ClampedArray.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const r = applyOrientation(px, 2, 1, 6);
    assert.deepEqual([r.width, r.height, ...r.data], [1, 2, 1, 2, 3, 4, 5, 6, 7, 8]);
  });
});
