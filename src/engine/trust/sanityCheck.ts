// `cnn-lens sanity` and the panel's Sanity check: the cascading randomization test for one method,
// class and layer, as a SanityRecord plus the normalized maps for the strip.
import type * as tf from '@tensorflow/tfjs-core';
import type { SanityRecord, SanityStage } from '../../shared/trustRecords';
import { explain, predict, requireNetwork, resolveClass, type JobHooks } from '../explain';
import type { PreprocessPreset } from '../image/preprocess';
import { METHODS, type MethodName } from '../methods';
import type { LoadedModel } from '../model/loadModel';
import { cascadingRandomization } from './sanity';

export interface SanityRequest {
  method: MethodName;
  class?: number | string;
  layer?: string;
  preprocess?: PreprocessPreset;
  seed?: number;
  names: { model: string; image: string };
  /** Each stage as soon as it is computed (the panel's strip fills in). */
  onStage?: (stage: SanityStage, map01: Float32Array, index: number, total: number) => void;
  /** The original map, before the first stage. */
  onOriginal?: (map01: Float32Array, layer: string | null) => void;
}

export interface SanityResult {
  record: SanityRecord;
  /** Normalized maps at the input size: the original, then one per stage. */
  maps: Float32Array[];
}

export function sanityCheck(model: LoadedModel, x: tf.Tensor, req: SanityRequest, hooks: JobHooks = {}): SanityResult {
  const net = requireNetwork(model, 'the sanity check');
  const classIndex = req.class !== undefined ? resolveClass(model, req.class) : predict(model, x)[0].index;
  let layer: string | null = null;
  const kind = METHODS[req.method].output;
  const mapOf = () => {
    const r = explain(model, x, { method: req.method, classes: [classIndex], layer: req.layer, preprocess: req.preprocess }, { isCancelled: hooks.isCancelled });
    layer = r.layer;
    return { map: r.explanations[0].map, shape: r.explanations[0].shape, kind };
  };
  const maps: Float32Array[] = [];
  const { stages } = cascadingRandomization(
    net,
    model.inputSize,
    mapOf,
    {
      seed: req.seed,
      onOriginal: (m) => {
        maps.push(m);
        req.onOriginal?.(m, layer);
      },
      onStage: (stage, m, i, n) => {
        maps.push(m);
        req.onStage?.(stage, m, i, n);
      },
    },
    hooks,
  );
  return {
    record: {
      model: req.names.model,
      image: req.names.image,
      method: req.method,
      layer,
      class: { index: classIndex, label: model.labels?.[classIndex] ?? String(classIndex) },
      seed: req.seed ?? 0,
      stages,
    },
    maps,
  };
}
