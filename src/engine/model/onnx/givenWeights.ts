// Layers built with their real weights. tfjs-layers makes a layer's weights when it is first applied, from its
// initializers, and setWeights then replaces them: with the 'zeros' initializer a converted VGG first held a
// zero tensor the size of each weight (411 MB for VGG-11's first classifier layer) beside the real one, and
// the wasm heap never shrinks. An initializer that hands over the weight tensor itself allocates nothing: the
// layer's variable takes the tensor's data (tfjs-layers disposes the initial value after making the variable,
// which only drops this tensor's reference).
import type * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

type Init = ReturnType<typeof tfl.initializers.zeros>;

/** An initializer (for one weight) whose value is `t`; it must be asked for t's shape, once. */
export function givenWeights(t: tf.Tensor): Init {
  const init = tfl.initializers.zeros();
  let used = false;
  (init as unknown as { apply: (shape: number[]) => tf.Tensor }).apply = (shape: number[]) => {
    if (used) throw new Error('internal: a given weight was asked for twice');
    if (shape.length !== t.shape.length || shape.some((d, i) => d !== t.shape[i])) throw new Error(`internal: weights of shape [${t.shape.join(', ')}] given for a weight of shape [${shape.join(', ')}]`);
    used = true;
    return t;
  };
  return init;
}
