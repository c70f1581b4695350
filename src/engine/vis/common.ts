// Small pieces shared by the feature-visualization techniques: step caps, layer checks, input sizes.
import * as tf from '@tensorflow/tfjs-core';
import { LensError } from '../errors';
import type { RgbaImage } from '../image/decode';
import { resizeBilinear } from '../image/resize';
import { ancestorsOf, type GraphNode } from '../model/graph';
import type { LoadedModel } from '../model/loadModel';
import type { Network } from '../model/network';
import { requireNetwork } from '../explain';
import { fromModelSpace, imageToPixels, type InputSpace } from './space';

/** The model's network, or a one-line error for graph models (no layers to read or differentiate). */
export function visNetwork(model: LoadedModel, what: string): Network {
  return requireNetwork(model, what);
}

/** CNN_LENS_MAX_STEPS caps every optimization (tests and quick looks); unset means no cap. */
export function capSteps(steps: number): number {
  const cap = Number(process.env.CNN_LENS_MAX_STEPS);
  const n = Math.max(1, Math.round(steps));
  return Number.isFinite(cap) && cap >= 1 ? Math.min(n, Math.floor(cap)) : n;
}

export function resolveNode(net: Network, layer: string | undefined, what: string): GraphNode {
  if (!layer) throw new LensError(`${what} needs a layer (--layer); run \`cnn-lens info MODEL\` to list them`);
  return net.findLayer(layer);
}

/** Channels of a node's output (its last axis). */
export function channelCount(node: GraphNode): number {
  const s = node.outputs[0].shape;
  return (s[s.length - 1] as number) ?? 0;
}

export function requireSpatial(node: GraphNode, what: string): void {
  const s = node.outputs[0].shape;
  if (s.length !== 4) throw new LensError(`${what} needs a layer with a 4-D [batch, h, w, channels] output; '${node.path}' has shape ${JSON.stringify(s)}`);
}

export function checkChannel(node: GraphNode, k: number): void {
  const n = channelCount(node);
  if (!Number.isInteger(k) || k < 0 || k >= n) throw new LensError(`channel ${k} is out of range: layer '${node.path}' has ${n} channels (0–${n - 1})`);
}

/**
 * Layers whose output does not depend on a fixed input size: with only these between the input and the
 * targets, the network runs at any image size (a Flatten or Reshape ties it to the trained size).
 */
const SIZE_FREE = new Set([
  'InputLayer', 'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Conv2DTranspose', 'BatchNormalization', 'LayerNormalization',
  'Activation', 'ReLU', 'LeakyReLU', 'ELU', 'PReLU', 'Softmax', 'ThresholdedReLU',
  'Add', 'Multiply', 'Subtract', 'Average', 'Maximum', 'Minimum', 'Concatenate',
  'ZeroPadding2D', 'MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'UpSampling2D',
  'Dropout', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout', 'ActivityRegularization', 'Rescaling',
]);

/** Whether the targets can be computed at another input size. Dense is fine after global pooling only. */
export function runsAtAnySize(net: Network, targets: number[]): boolean {
  for (const i of ancestorsOf(net.graph, targets)) {
    const node = net.graph.nodes[i];
    if (SIZE_FREE.has(node.className)) continue;
    if (node.className === 'Dense' && node.inputs[0].shape.length === 2) continue;
    return false;
  }
  return true;
}

/** The node computing the logits (for class objectives). */
export function logitsTargets(net: Network): number[] {
  return net.logitsRef.producer >= 0 ? [net.logitsRef.producer] : [];
}

/** An input image as pixels in [0, 1] at height×width: an RGBA image, or a model-space tensor [1, H, W, C]. */
export function inputPixels(input: RgbaImage | tf.Tensor, space: InputSpace, height: number, width: number): Float32Array {
  if (!(input instanceof tf.Tensor)) return imageToPixels(input, height, width, space.channels);
  const t = input as tf.Tensor;
  if (t.rank !== 4 || t.shape[0] !== 1 || t.shape[3] !== space.channels) {
    throw new LensError(`the input image tensor has shape ${JSON.stringify(t.shape)}; expected [1, h, w, ${space.channels}]`);
  }
  const [, h, w, c] = t.shape;
  const pix = fromModelSpace(space, t.dataSync() as Float32Array);
  return resizeBilinear(pix, h, w, c, height, width);
}

/** Size (h, w) of an input as given. */
export function inputSize(input: RgbaImage | tf.Tensor): [number, number] {
  if (input instanceof tf.Tensor) return [input.shape[1] as number, input.shape[2] as number];
  return [input.height, input.width];
}

/** Elapsed milliseconds since t0, rounded. */
export function since(t0: number): number {
  return Math.round(performance.now() - t0);
}
