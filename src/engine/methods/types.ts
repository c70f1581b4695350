// What every attribution method receives and returns.
import type * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from '../model/graph';
import type { Network } from '../model/network';
import type { LayerPass, ScoreMode } from './gradients';

export type MethodName = 'saliency' | 'guided-backprop' | 'cam' | 'gradcam' | 'gradcam++' | 'guided-gradcam' | 'smoothgrad' | 'integrated-gradients';

export interface MethodOptions {
  score: ScoreMode;
  /** SmoothGrad: number of noisy samples. */
  samples: number;
  /** SmoothGrad: noise σ as a fraction of the input's value range. */
  noise: number;
  /** Integrated gradients: number of path steps. */
  steps: number;
  seed: number;
  /**
   * Images sent through the network at once by the sampling methods; 0 (the default) chooses from the
   * size of the model's activations: at most 8, and about 128 MB of gradient work (1 for ImageNet-size
   * models). Larger batches are not faster on wasm, only bigger.
   */
  batchSize: number;
}

export const DEFAULT_METHOD_OPTIONS: MethodOptions = { score: 'logit', samples: 25, noise: 0.15, steps: 64, seed: 0, batchSize: 0 };

export interface MethodContext {
  net: Network;
  /** The preprocessed image, [1, H, W, C]. */
  x: tf.Tensor;
  classIndex: number;
  /** Target layer, for the layer methods. */
  layer: GraphNode | null;
  /** Shared forward pass at the target layer (one per image and layer, reused across classes). */
  pass: () => LayerPass;
  /** The all-black image after preprocessing, [1, H, W, C]. */
  baseline: () => tf.Tensor;
  options: MethodOptions;
  /** Called between chunks of work; throws CancelledError to stop. */
  step: (done: number, total: number) => void;
  /**
   * The input gradient for this class when the forward pass that ranked the classes already computed it
   * (methods with `inputGradient`); null otherwise. The caller of this function owns the tensor.
   */
  precomputedGradient?: () => tf.Tensor | null;
}

export interface AttributionMethod {
  name: MethodName;
  title: string;
  paper: string;
  /** Whether the method works on a target layer (else on the input). */
  usesLayer: boolean;
  /** [h, w] at the layer, [H, W] or [H, W, C] at the input. */
  output: 'layer-map' | 'input-map' | 'input-channels';
  /**
   * The map is made from ∂score/∂input at the image itself (plain or through guided ReLUs): explain()
   * then computes it in the forward pass that ranks the classes, and hands it over as precomputedGradient.
   */
  inputGradient?: 'plain' | 'guided';
  /** Returns the map as a tensor without the batch dimension (caller disposes). */
  run(ctx: MethodContext): tf.Tensor;
}
