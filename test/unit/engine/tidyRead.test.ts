// tidyRead (src/engine/tidyRead.ts): a tidy that hands back data without walking it. tf.tidy reads every
// property of what its function returns (every element of a typed array), which a getter can see.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../../../src/engine/backend';
import { tidyRead } from '../../../src/engine/tidyRead';

describe('tidyRead', function () {
  before(async () => {
    await initBackend((process.env.CNN_LENS_BACKEND as 'wasm' | 'cpu' | undefined) ?? 'auto');
  });

  it('returns what f returns, frees the tensors f made, and reads none of the result', () => {
    const before = tf.memory().numTensors;
    const data = tidyRead(() => tf.mul(tf.tensor1d([1, 2, 3]), 2).dataSync() as Float32Array);
    assert.deepEqual(Array.from(data), [2, 4, 6]);
    assert.equal(tf.memory().numTensors, before);
    let reads = 0;
    const trap = Object.defineProperty({}, 'values', { enumerable: true, get: () => ++reads });
    assert.equal(tidyRead(() => trap), trap);
    assert.equal(reads, 0, 'tidyRead read the result');
    // What it avoids: tf.tidy reads every property of the result.
    tf.tidy(() => trap as unknown as tf.TensorContainer);
    assert.ok(reads > 0, 'tf.tidy no longer walks its result: tidyRead may be unnecessary');
  });
});
