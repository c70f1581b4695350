// Seeded random weights for the benchmark models: every weight comes from one mulberry32 stream, so the
// same build order gives the same model on every machine and backend. Kernels are He-uniform (fan-in
// from the kernel's shape) so activations keep their scale through deep ReLU stacks; batch-norm
// statistics are near identity with a little spread so that folding them is not a no-op.
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { makeRng } from '../../src/engine/random';

type Init = ReturnType<typeof tfl.initializers.zeros>;

export interface SeededInits {
  /** Conv2D / Dense kernels: [kh, kw, in, out] or [in, out]. */
  kernel: Init;
  /** DepthwiseConv2D kernels [kh, kw, in, multiplier]: fan-in kh·kw. */
  depthwise: Init;
  bias: Init;
  gamma: Init;
  beta: Init;
  movingMean: Init;
  movingVariance: Init;
}

function uniform(rng: () => number, n: number, lo: number, hi: number): Float32Array {
  const out = new Float32Array(n);
  const span = hi - lo;
  for (let i = 0; i < n; i++) out[i] = lo + span * rng();
  return out;
}

/** An initializer object tfjs-layers accepts (an Initializer instance) whose values come from `fill`. */
function initializer(fill: (shape: number[]) => Float32Array): Init {
  const init = tfl.initializers.zeros();
  (init as unknown as { apply: (shape: number[]) => tf.Tensor }).apply = (shape: number[]) => tf.tensor(fill(shape), shape, 'float32');
  return init;
}

export function seededInits(seed: number): SeededInits {
  const rng = makeRng(seed);
  const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const heUniform = (fanIn: number, shape: number[]) => {
    const a = Math.sqrt(6 / Math.max(1, fanIn));
    return uniform(rng, size(shape), -a, a);
  };
  return {
    kernel: initializer((s) => heUniform(s.length === 4 ? s[0] * s[1] * s[2] : s[0], s)),
    depthwise: initializer((s) => heUniform(s[0] * s[1], s)),
    bias: initializer((s) => uniform(rng, size(s), -0.05, 0.05)),
    gamma: initializer((s) => uniform(rng, size(s), 0.8, 1.2)),
    beta: initializer((s) => uniform(rng, size(s), -0.1, 0.1)),
    movingMean: initializer((s) => uniform(rng, size(s), -0.1, 0.1)),
    movingVariance: initializer((s) => uniform(rng, size(s), 0.8, 1.2)),
  };
}

/** Number of float32 weights of a model. */
export function countParams(model: tfl.LayersModel): number {
  return model.weights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}
