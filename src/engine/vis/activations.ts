// Feature maps of one layer for one image.
import * as tf from '@tensorflow/tfjs-core';
import { tidyRead } from '../tidyRead';
import type { LoadedModel } from '../model/loadModel';
import { requireSpatial, resolveNode, visNetwork } from './common';

export interface LayerActivations {
  /** Qualified path of the layer. */
  layer: string;
  /** [h, w, C], channels last. */
  data: Float32Array;
  shape: [number, number, number];
}

/** The output of `layer` for the model input x [1, H, W, C] (not disposed). */
export function layerActivations(model: LoadedModel, x: tf.Tensor, layer: string): LayerActivations {
  const net = visNetwork(model, 'activations');
  const node = resolveNode(net, layer, 'activations');
  requireSpatial(node, 'activations');
  const { data, shape } = tidyRead(() => {
    const a = net.run(x, { taps: [node.index], logits: false }).taps.get(node.index)!;
    const first = tf.slice(a, [0, 0, 0, 0], [1, a.shape[1] as number, a.shape[2] as number, a.shape[3] as number]);
    return { data: first.dataSync() as Float32Array, shape: [a.shape[1], a.shape[2], a.shape[3]] as [number, number, number] };
  });
  return { layer: node.path, data: Float32Array.from(data), shape };
}
