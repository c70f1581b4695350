// The model-parameter randomization test (Adebayo et al. 2018, "Sanity Checks for Saliency Maps"), in
// its cascading form: from the output layer towards the input, one more weighted layer is re-initialized
// at each stage, the map is computed again and compared with the original one (Spearman and SSIM, both
// maps at the input's size and normalized to [0, 1]). A map that stays alike while the model becomes
// random does not explain the model. The weights are restored afterwards, also on error or cancel.
import * as tf from '@tensorflow/tfjs-core';
import type { SanityStage } from '../../shared/trustRecords';
import { CancelledError } from '../errors';
import type { JobHooks } from '../explain';
import type { GraphNode } from '../model/graph';
import type { Network } from '../model/network';
import { makeRng, normalNoise } from '../random';
import { normalize01, pixelImportance, type MapKind } from './importance';
import { spearman, ssim } from './similarity';

/** Layers with weights the test re-initializes, output layer first. Normalization layers keep theirs. */
export function weightedLayers(net: Network): GraphNode[] {
  const seen = new Set<unknown>();
  const out: GraphNode[] = [];
  for (const node of [...net.graph.nodes].reverse()) {
    if (seen.has(node.layer) || /Normalization/.test(node.className)) continue;
    if (node.layer.getWeights().length === 0) continue;
    seen.add(node.layer);
    out.push(node);
  }
  return out;
}

/** New weights for a layer: each tensor from N(0, σ²) with σ that tensor's own standard deviation. */
function randomWeights(node: GraphNode, rng: () => number): tf.Tensor[] {
  return node.layer.getWeights().map((w) => {
    const data = w.dataSync();
    let mean = 0;
    for (const v of data) mean += v;
    mean /= Math.max(1, data.length);
    let variance = 0;
    for (const v of data) variance += (v - mean) ** 2;
    const std = Math.sqrt(variance / Math.max(1, data.length));
    return tf.tensor(normalNoise(data.length, std, rng), w.shape, 'float32');
  });
}

export interface SanityMap {
  map: Float32Array;
  shape: number[];
  kind: MapKind;
}

export interface SanityOptions {
  seed?: number;
  /** Called with the original map (normalized, at the input size) before the first stage. */
  onOriginal?: (map01: Float32Array) => void;
  /** Called with each stage as soon as it is computed, with its map normalized at the input size. */
  onStage?: (stage: SanityStage, map01: Float32Array, index: number, total: number) => void;
}

/**
 * Runs the cascade. `mapOf` computes the method's map with the network's current weights (a map that
 * ignores the model is allowed: that is what the test exposes). Returns the original map (normalized,
 * H×W) and the stages in the order randomized.
 */
export function cascadingRandomization(net: Network, size: { height: number; width: number }, mapOf: () => SanityMap, opts: SanityOptions = {}, hooks: JobHooks = {}): { original: Float32Array; stages: SanityStage[] } {
  const { height, width } = size;
  const normalized = (m: SanityMap) => normalize01(pixelImportance(m.map, m.shape, m.kind, height, width));
  const layers = weightedLayers(net);
  const total = layers.length + 1;
  const check = () => {
    if (hooks.isCancelled?.()) throw new CancelledError();
  };
  const original = normalized(mapOf());
  opts.onOriginal?.(original);
  hooks.onProgress?.({ done: 1, total, stage: 'original map' });
  const rng = makeRng(opts.seed ?? 0);
  const saved: { node: GraphNode; weights: tf.Tensor[] }[] = [];
  const stages: SanityStage[] = [];
  try {
    layers.forEach((node, i) => {
      check();
      // Clones hold the original values: setWeights assigns new data to the layer's variables.
      saved.push({ node, weights: node.layer.getWeights().map((w) => tf.clone(w)) });
      const fresh = randomWeights(node, rng);
      node.layer.setWeights(fresh);
      fresh.forEach((t) => t.dispose());
      const m = normalized(mapOf());
      const stage: SanityStage = { layer: node.path, spearman: spearman(original, m), ssim: ssim(original, m, height, width) };
      stages.push(stage);
      opts.onStage?.(stage, m, i, layers.length);
      hooks.onProgress?.({ done: i + 2, total, stage: `randomized ${node.path}` });
    });
  } finally {
    for (const { node, weights } of saved.reverse()) {
      node.layer.setWeights(weights);
      weights.forEach((t) => t.dispose());
    }
  }
  return { original, stages };
}
