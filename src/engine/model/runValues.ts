// The values of one Network.run, and — in plain forward passes — each value freed after its last reader.
//
// A forward pass inside tf.tidy holds every layer output until the tidy ends: for a batch of 16
// MobileNetV2 inputs that is about 380 MB of wasm memory (which wasm never gives back), where the values
// alive at any one time are a fraction of it. The perturbation methods (occlusion, RISE, Score-CAM) size
// their batches by memory, so holding everything also kept their batches small.
import type * as tf from '@tensorflow/tfjs-core';
import type { GraphNode, ModelGraph } from './graph';

export class RunValues {
  readonly map = new Map<number, tf.Tensor>();
  /** How many values hold each tensor object (a layer may return its input itself). */
  private readonly holders = new Map<tf.Tensor, number>();

  /**
   * @param uses readers left per value id, or null to keep every value (gradients, cached or replaced runs)
   * @param kept value ids never freed here (the input, taps, logits: the caller's)
   * @param firstNewId tensors with a smaller id existed before the run (the model's constants, the caller's
   *   input): never disposed here, whatever value they stand for
   */
  constructor(
    private readonly uses: Map<number, number> | null,
    private readonly kept: ReadonlySet<number>,
    private readonly firstNewId: number,
  ) {}

  get(id: number): tf.Tensor | undefined {
    return this.map.get(id);
  }

  set(id: number, t: tf.Tensor): void {
    this.map.set(id, t);
    this.holders.set(t, (this.holders.get(t) ?? 0) + 1);
    // An output nobody reads is freed at once.
    if (this.uses && !this.kept.has(id) && !this.uses.get(id)) this.free(id);
  }

  /** A reader of `id` is done with it. */
  read(id: number): void {
    if (!this.uses || this.kept.has(id)) return;
    const left = (this.uses.get(id) ?? 0) - 1;
    this.uses.set(id, left);
    if (left <= 0) this.free(id);
  }

  private free(id: number): void {
    const t = this.map.get(id);
    if (!t) return;
    this.map.delete(id);
    const h = (this.holders.get(t) ?? 1) - 1;
    if (h > 0) {
      this.holders.set(t, h);
      return;
    }
    this.holders.delete(t);
    if (t.id >= this.firstNewId) t.dispose();
  }
}

/** Readers per value id among `readers` (each node's input refs, in order; a node reading a value twice counts twice). */
export function countUses(readers: Iterable<readonly { id: number }[]>): Map<number, number> {
  const uses = new Map<number, number>();
  for (const refs of readers) for (const r of refs) uses.set(r.id, (uses.get(r.id) ?? 0) + 1);
  return uses;
}

/**
 * Floats alive at the peak of a forward pass of one image when each value is freed after its last reader
 * (the nodes in `needed`, in graph order; unknown sizes as the input's size with 64 channels).
 */
export function peakLiveFloats(graph: ModelGraph, needed: Set<number>, kept: ReadonlySet<number>): number {
  const pixels = (graph.input.shape[1] ?? 1) * (graph.input.shape[2] ?? 1);
  const size = (shape: (number | null)[]) => (shape.slice(1).some((d) => d == null) ? pixels * 64 : shape.slice(1).reduce((a: number, b) => a * (b as number), 1));
  const nodes: GraphNode[] = graph.nodes.filter((n) => needed.has(n.index));
  const uses = countUses(nodes.map((n) => n.inputs));
  let live = size(graph.input.shape);
  let peak = live;
  for (const node of nodes) {
    for (const r of node.outputs) live += size(r.shape);
    peak = Math.max(peak, live);
    for (const r of node.inputs) {
      const left = (uses.get(r.id) ?? 0) - 1;
      uses.set(r.id, left);
      if (left === 0 && !kept.has(r.id)) live -= size(r.shape);
    }
    for (const r of node.outputs) if (!uses.get(r.id) && !kept.has(r.id)) live -= size(r.shape);
  }
  return peak;
}
