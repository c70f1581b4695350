// The one rule for reading an image input from a model's declared input shape (src/engine/model/inputLayout.ts),
// over the layouts real exports have, and the conversion of NHWC image batches into them.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/engine/backend';
import { imageInputLayout, toInputLayout } from '../../../src/engine/model/inputLayout';

describe('model input layouts', () => {
  before(async () => {
    await initBackend('auto');
  });

  const cases: [(number | null)[], string, number, number, number][] = [
    [[null, 224, 224, 3], 'NHWC', 224, 224, 3],
    [[null, 28, 28, 1], 'NHWC', 28, 28, 1],
    [[-1, 32, 32, 4], 'NHWC', 32, 32, 4],
    [[1, 3, 32, 32], 'NCHW', 32, 32, 3], // PyTorch → ONNX → TF → tfjs
    [[-1, 3, 224, 160], 'NCHW', 224, 160, 3],
    [[1, 1, 28, 28], 'NCHW', 28, 28, 1], // grayscale channels first
    [[null, 3, 32, 3], 'NHWC', 3, 32, 3], // both readings fit: channels last wins
    [[null, 1, 28, 1], 'NHWC', 1, 28, 1],
    [[null, 28, 28], 'HW', 28, 28, 1], // a Keras MLP with Flatten first
    [[32, 28, 28], 'HW', 28, 28, 1],
    [[null, 784], 'FLAT', 28, 28, 1], // an MNIST MLP fed x.view(-1, 784)
    [[-1, 4096], 'FLAT', 64, 64, 1],
    [[1, 64], 'FLAT', 8, 8, 1], // scikit-learn's 8×8 digits
  ];
  for (const [shape, layout, h, w, c] of cases) {
    it(`${JSON.stringify(shape)} is ${layout} ${h}×${w}×${c}`, () => {
      assert.deepEqual(imageInputLayout(shape, 'm.json'), { layout, height: h, width: w, channels: c });
    });
  }

  it('refuses shapes that are not images, naming the file and the shape', () => {
    assert.throws(() => imageInputLayout([null, 10, 20, 30], 'm.json'), /^LensError: m\.json: input shape \[null,10,20,30\] is not an image: its last axis has 30 channels/);
    assert.throws(() => imageInputLayout([null, 4, 20, 30], 'm.json'), /is not an image/); // 4 channels first: not a layout exports use
    assert.throws(() => imageInputLayout([null, 785], 'm.json'), /m\.json: input shape \[null,785\] is not an image batch/);
    assert.throws(() => imageInputLayout([null, 49], 'm.json'), /is not an image batch/); // 7×7: more likely 49 features
    assert.throws(() => imageInputLayout([null, null], 'm.json'), /is not an image batch/);
    assert.throws(() => imageInputLayout([null, 2, 3, 4, 5], 'm.json'), /is not an image batch/);
    assert.throws(() => imageInputLayout([null, null, null, 3], 'm.json'), /unknown height, width/);
    assert.throws(() => imageInputLayout([-1, 3, -1, -1], 'm.json'), /unknown height, width/);
    assert.throws(() => imageInputLayout([null, 9000, 9000, 3], 'm.json'), /over the 8192×8192 limit/);
  });

  it('converts NHWC batches to each layout element by element', () => {
    const [B, H, W, C] = [2, 3, 5, 3];
    const data = Float32Array.from({ length: B * H * W * C }, (_, i) => i);
    const x = tf.tensor4d(data, [B, H, W, C]);
    const nchw = toInputLayout(x, 'NCHW');
    assert.deepEqual(nchw.shape, [B, C, H, W]);
    const got = nchw.dataSync();
    for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
      assert.equal(got[((b * C + c) * H + h) * W + w], data[((b * H + h) * W + w) * C + c]);
    }
    const gray = tf.tensor4d(Float32Array.from({ length: H * W }, (_, i) => i), [1, H, W, 1]);
    const hw = toInputLayout(gray, 'HW');
    assert.deepEqual(hw.shape, [1, H, W]);
    assert.deepEqual(Array.from(hw.dataSync()), Array.from(gray.dataSync()));
    const flat = toInputLayout(gray, 'FLAT');
    assert.deepEqual(flat.shape, [1, H * W]);
    const g = gray.dataSync();
    const f = flat.dataSync();
    for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) assert.equal(f[h * W + w], g[h * W + w]); // row by row
    assert.equal(toInputLayout(x, 'NHWC'), x);
    tf.dispose([x, nchw, gray, hw, flat]);
  });
});
