// Reading tensors' data out of a tidy without tf.tidy walking it.
import * as tf from '@tensorflow/tfjs-core';

/**
 * f() run inside a tidy, for what is not a tensor (data read from tensors): everything f makes is freed and
 * its result is handed back untouched. tf.tidy walks what its function returns to find the tensors to keep,
 * element by element for a typed array: returning a 1000-class row of probabilities took 0.14 ms, a
 * 224 × 224 × 3 image 39 ms and a 112 × 112 × 96 feature map 290 ms.
 */
export function tidyRead<T>(f: () => T): T {
  let out: T | undefined;
  tf.tidy(() => {
    out = f();
  });
  return out as T;
}
