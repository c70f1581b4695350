// What the model itself says about its pixels: a Rescaling or Normalization layer at its input scales them
// itself. Keras image_dataset_from_directory tutorials put `Rescaling(1./255)` first and train on 0–255
// images; feeding such a model x/255 scales twice and it predicts near-uniformly. Which range goes in follows
// from the layer: the one it maps to about [0, 1] or [−1, 1] (Rescaling(1/255): raw; Rescaling(2, −1): x/255;
// a Normalization whose stored means are pixel values: raw).
import type { PreprocessPreset } from '../image/preprocess';
import type { GraphNode } from './graph';
import type { Network } from './network';

/** Layers that pass pixels on unchanged in scale (augmentation layers become linear Activations). */
const PASS_THROUGH = new Set(['Resizing', 'CenterCrop', 'Dropout', 'GaussianNoise', 'GaussianDropout', 'SpatialDropout2D']);

function passesScaleOn(node: GraphNode): boolean {
  if (PASS_THROUGH.has(node.className)) return true;
  if (node.className === 'Activation') return (node.layer as unknown as { getConfig(): Record<string, unknown> }).getConfig().activation === 'linear';
  return false;
}

const cfgOf = (node: GraphNode) => (node.layer as unknown as { getConfig(): Record<string, unknown> }).getConfig();

/** Largest |value| the layer outputs for inputs in [0, top]. */
function rescaledTop(node: GraphNode, top: number): number {
  const cfg = cfgOf(node);
  const scale = Number(cfg.scale);
  const offset = Number(cfg.offset ?? 0);
  return Math.max(Math.abs(offset), Math.abs(top * scale + offset));
}

function meanOfMeans(node: GraphNode): number | null {
  const cfg = cfgOf(node);
  const given = cfg.mean;
  let values: number[] | null = Array.isArray(given) ? given.map(Number) : typeof given === 'number' ? [given] : null;
  if (!values) {
    const w = (node.layer as unknown as { getWeights(): { dataSync(): ArrayLike<number> }[] }).getWeights()[0];
    values = w ? Array.from(w.dataSync()) : null;
  }
  if (!values || values.length === 0) return null;
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function describe(node: GraphNode): string {
  if (node.className === 'Rescaling') {
    const cfg = cfgOf(node);
    const scale = Number(cfg.scale);
    const offset = Number(cfg.offset ?? 0);
    const s = Math.abs(scale - 1 / 255) < 1e-6 ? '1/255' : Math.abs(scale - 1 / 127.5) < 1e-6 ? '1/127.5' : String(+scale.toPrecision(4));
    return `Rescaling ×${s}${offset ? ` ${offset > 0 ? '+' : '−'} ${Math.abs(offset)}` : ''} at '${node.path}'`;
  }
  return `Normalization at '${node.path}'`;
}

/** The pixel range a scaling layer expects: raw 0–255, or x/255; null when neither fits. */
function expected(node: GraphNode): PreprocessPreset | null {
  if (node.className === 'Rescaling') {
    if (rescaledTop(node, 255) <= 3) return 'raw';
    if (rescaledTop(node, 1) <= 3) return 'unit';
    return null;
  }
  const m = meanOfMeans(node);
  if (m === null) return null;
  return m > 2 ? 'raw' : 'unit';
}

/** The scaling layer the model's input goes through first, and the pixel range it expects; null if none. */
export function ownInputScaling(net: Network): { node: GraphNode; preset: PreprocessPreset; reason: string } | null {
  let frontier = [net.graph.input.id];
  for (let depth = 0; depth < 8 && frontier.length === 1; depth++) {
    const id = frontier[0];
    const next = net.graph.nodes.filter((n) => n.inputs.some((r) => r.id === id));
    if (next.length !== 1) return null;
    const node = next[0];
    if (node.className === 'Rescaling' || node.className === 'Normalization') {
      const preset = expected(node);
      if (!preset) return null;
      return { node, preset, reason: `the model scales its own input (${describe(node)}): ${preset === 'raw' ? 'raw 0–255 pixels go in' : 'pixels in 0..1 go in'}` };
    }
    if (!passesScaleOn(node)) return null;
    frontier = [node.outputs[0].id];
  }
  return null;
}
