// The default target layer of the layer methods (Grad-CAM and its family), for any format's graph.
//
// Searching back from the output: the last layer whose output is spatial (h and w ≥ 2) and that computes
// features — a convolution, a normalization, an activation or a merge (Add, Concatenate, Multiply). Pooling,
// dropout, padding, reshaping and identity layers after the last convolution block are skipped: on an
// ordinary Keras CNN the last spatial layer is a MaxPooling or Dropout at 3×3 or 4×4, where Grad-CAM is coarse
// and often zero everywhere, while the convolution before it gives the map (Chollet's VGG16 example explains
// block5_conv3, not the pooling after it). A residual net ends its last block with Add and an activation,
// which is chosen; a global-average-pooling model gets the layer feeding the pooling, which CAM uses.
// Softmax is an output, never a target.
import { KIND_WORDS, layerKind } from './layerKinds';
import type { GraphNode, ModelGraph } from './graph';

export interface DefaultTarget {
  node: GraphNode;
  /** Why this layer, in one sentence for `info` and the explain panel. */
  reason: string;
}

const FEATURE_KINDS = new Set(['conv', 'norm', 'activation', 'merge']);

function spatialSize(node: GraphNode): [number, number] | null {
  const s = node.outputs[0]?.shape;
  if (!s || s.length !== 4) return null;
  const h = s[1] ?? 2;
  const w = s[2] ?? 2;
  return h >= 2 && w >= 2 ? [h, w] : null;
}

function isFeatureLayer(node: GraphNode): boolean {
  const kind = layerKind(node.className);
  if (!FEATURE_KINDS.has(kind)) return false;
  if (node.className === 'Softmax') return false;
  // A linear Activation is an identity (what augmentation layers become at inference).
  if (node.className === 'Activation') {
    const a = (node.layer as unknown as { getConfig?: () => Record<string, unknown> })?.getConfig?.().activation;
    if (a === 'linear' || a === 'softmax') return false;
  }
  return true;
}

export function defaultTarget(graph: ModelGraph): DefaultTarget | null {
  const skipped: GraphNode[] = [];
  let lastSpatial: GraphNode | null = null;
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const node = graph.nodes[i];
    const size = spatialSize(node);
    if (!size) continue;
    lastSpatial ??= node;
    if (isFeatureLayer(node)) {
      const what = KIND_WORDS[layerKind(node.className)];
      const after = skipped.length ? `; ${skipped.reverse().map((n) => n.path).join(', ')} after it only ${skipped.length === 1 ? 'pools, drops or reshapes' : 'pool, drop or reshape'} it` : '';
      return { node, reason: `the last spatial layer that computes features (${what}, ${size[0]}×${size[1]})${after}` };
    }
    skipped.push(node);
  }
  if (lastSpatial) {
    const size = spatialSize(lastSpatial)!;
    return { node: lastSpatial, reason: `the last layer with a spatial output (${size[0]}×${size[1]}); no convolution, normalization, activation or merge layer has one` };
  }
  return null;
}
