// What every attribution method receives and returns.
import type * as tf from '@tensorflow/tfjs-core';
import type { GraphNode } from '../model/graph';
import type { Network } from '../model/network';
import type { LayerPass, ScoreMode } from './gradients';

import { methodInfo, usesLayer, type MethodId } from '../../shared/methods';

export type MethodName = MethodId;

/** How SmoothGrad combines the noisy gradients g_i: mean of max_c |g_i|, max_c mean g_i², or max_c var g_i. */
export type SmoothMode = 'mean' | 'square' | 'var';

export interface MethodOptions {
  score: ScoreMode;
  /** SmoothGrad: noisy samples; RISE: random masks. 0: the method's own default (25, 2000). */
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
  /** SmoothGrad: how the noisy gradients are combined. */
  smooth: SmoothMode;
  /** ReLU'd CAMs: false keeps the negative part of the map (`--no-relu`). */
  relu: boolean;
  /** Score-CAM: keep the N channels of largest activation variance (Faster Score-CAM); 0: all. */
  maxChannels: number;
  /** Occlusion: patch side and stride in input pixels; 0: ⌈min(H, W)/8⌉ and ⌈patch/2⌉. */
  patch: number;
  stride: number;
  /** RISE: cells per side of the coarse mask grid. */
  grid: number;
}

export const DEFAULT_METHOD_OPTIONS: MethodOptions = {
  score: 'logit', samples: 0, noise: 0.15, steps: 64, seed: 0, batchSize: 0, smooth: 'mean', relu: true, maxChannels: 0, patch: 0, stride: 0, grid: 7,
};

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
  /** From the registry (src/shared/methods.ts). */
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
  inputGradient?: 'plain' | 'guided' | 'deconv';
  /**
   * The map is made from ∂score/∂A at the target layer: explain()'s layer pass computes the first class's
   * with the logits that rank the classes (LayerPass.gradient), and layerGradient hands it over.
   */
  layerGradient?: boolean;
  /** Returns the map as a tensor without the batch dimension (caller disposes). */
  run(ctx: MethodContext): tf.Tensor;
}

/** A method's engine part: how it runs; its names and needs come from the registry. */
export function defineMethod(name: MethodName, impl: Pick<AttributionMethod, 'run' | 'inputGradient' | 'layerGradient'>): AttributionMethod {
  const info = methodInfo(name);
  return { name, title: info.title, paper: info.paper, usesLayer: usesLayer(info), output: info.output, ...impl };
}
