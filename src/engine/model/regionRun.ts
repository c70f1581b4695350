// Forward passes of an image changed inside one rectangle, computing only what the change reaches.
//
// Occlusion runs the network on hundreds of copies of one image, each with one small patch changed. A
// convolution's output at a position depends only on its input in a window around it, so in each layer
// only the positions whose receptive field meets the patch differ from the unchanged image's pass: a
// rectangle that grows layer by layer until a global layer (pooling, dense) makes everything depend on
// everything. This runs each layer on that rectangle only — for a batch of patches at once, each with its
// own rectangle of one common size — and takes every other position from one full pass of the unchanged
// image (the baseline).
//
// A layer's rectangle is cut from its input as a window with the layer's padding already in place: the
// changed values where the input's own rectangle covers it, the baseline's elsewhere, the padding value
// (0, or −∞ for max pooling) outside the map; all of it one gather from [baseline; pad row; changed
// values]. The layer then runs with 'valid' padding on the window (OpContext.windowed). Layers whose
// geometry is not known here (anything but convolutions, pooling with a known window, zero padding,
// cropping and per-position layers) get whole maps and run as in a plain pass (the rules and the rectangles:
// ./regionGeometry.ts). The logits are exactly a plain pass's, up to float rounding of the same sums.
import * as tf from '@tensorflow/tfjs-core';
import type { ValueRef } from './graph';
import type { OpContext } from './layerOps/common';
import { outputRect, sameRect, spatial, stepGeometry, wholeRect, type Geometry, type Rect, type Window } from './regionGeometry';
import { applyStep, nextTensorId, type Network, type Step } from './network';
import { countUses, RunValues } from './runValues';

/** The changed values of one batch, each freed after its last reader (as in a plain pass, ./runValues.ts). */
class ChangedValues {
  private readonly tensors: RunValues;
  private readonly rects = new Map<number, Rect | null>();

  constructor(uses: Map<number, number>, kept: ReadonlySet<number>, firstNewId: number) {
    this.tensors = new RunValues(new Map(uses), kept, firstNewId);
  }

  get(id: number): Changed | undefined {
    const t = this.tensors.get(id);
    return t ? { t, rect: this.rects.get(id) ?? null } : undefined;
  }

  set(id: number, c: Changed): void {
    this.rects.set(id, c.rect);
    this.tensors.set(id, c.t);
  }

  read(id: number): void {
    this.tensors.read(id);
  }
}

/** A changed value: for each patch of the batch, a rectangle of one common size [h, w] at (oy[p], ox[p]), or the whole non-spatial value. */
interface Changed {
  t: tf.Tensor;
  /** null for values that are not [batch, H, W, C] maps (or that global layers made): the tensor holds all of it. */
  rect: Rect | null;
}

/**
 * Runs a network on copies of one image, each changed inside a rectangle, layer by layer on the part the
 * change reaches. Create it once per image (it runs and keeps the image's plain pass), then call
 * `logits` per batch of rectangles; dispose() when done.
 */
export class RegionRunner {
  private readonly steps: Step[];
  private readonly geometry: Geometry[];
  private readonly baseline = new Map<number, tf.Tensor>();
  private readonly firstOwnId: number;
  /** Baselines as [H·W, C] rows (shares the baseline's data). */
  private readonly flat = new Map<number, tf.Tensor2D>();
  private readonly padRows = new Map<string, tf.Tensor2D>();
  /** Readers per value id among the steps. */
  private readonly uses: Map<number, number>;

  /** null when the model's input is not an [H, W, C] image the layers read as such (channels-first models). */
  static create(net: Network, x: tf.Tensor4D): RegionRunner | null {
    if (net.inputLayout !== 'NHWC' || net.channelsFirstLayer || !spatial(net.graph.input.shape)) return null;
    return new RegionRunner(net, x);
  }

  private constructor(private readonly net: Network, x: tf.Tensor4D) {
    this.steps = net.forwardSteps();
    this.geometry = this.steps.map(stepGeometry);
    this.uses = countUses(this.steps.map((st) => st.reads));
    this.firstOwnId = nextTensorId();
    tf.tidy(() => {
      for (const [id, t] of net.run(x, { keepValues: true }).values!) this.baseline.set(id, tf.keep(t));
    });
  }

  /**
   * A plain pass's work for one image (multiply-adds of convolutions, elements of other layers) and the share
   * of it left for one patch of size [h, w] at (y, x): below 1 when the rectangles save something.
   */
  work(h: number, w: number, y: number, x: number): { full: number; share: number } {
    let full = 0;
    let part = 0;
    this.propagate(1, { oy: Int32Array.of(y), ox: Int32Array.of(x), h, w }, (step, rect, i) => {
      const out = step.node.outputs[0].shape;
      const all = (out.slice(1) as number[]).reduce((a, b) => a * (b ?? 1), 1) * this.workPerPosition(step, this.geometry[i]);
      full += all;
      part += rect ? (all * rect.h * rect.w) / ((out[1] as number) * (out[2] as number)) : all;
    });
    return { full, share: full > 0 ? part / full : 1 };
  }

  private workPerPosition(step: Step, g: Geometry): number {
    if (g.kind !== 'window' || g.w.moveOnly) return 1;
    const cin = (step.reads[0].shape[3] as number) ?? 1;
    const depthwise = (step.chain?.conv ?? step.conv ?? step.node).className !== 'Conv2D';
    return g.w.k[0] * g.w.k[1] * (depthwise ? 1 : cin);
  }

  /**
   * Walks the steps with each step's output rectangle for n patches whose input rectangle is `input`
   * (null: the whole value), calling visit for each step that depends on the input.
   */
  private propagate(n: number, input: Rect, visit: (step: Step, rect: Rect | null, index: number) => void): void {
    const rects = new Map<number, Rect | null>([[this.net.graph.input.id, input]]);
    this.steps.forEach((step, i) => {
      const changedReads = step.reads.filter((r) => rects.has(r.id));
      if (changedReads.length === 0) return;
      const rect = outputRect(step, this.geometry[i], changedReads.map((r) => [r, rects.get(r.id)!] as const), n);
      for (const r of step.node.outputs) rects.set(r.id, rect);
      visit(step, rect, i);
    });
  }

  /**
   * Logits [n, classes] of the image with, for patch p, the rectangle [ys[p], ys[p] + h) × [xs[p], xs[p] + w)
   * taken from `fill` ([1, H, W, C], e.g. the black image after preprocessing). Call inside tf.tidy.
   */
  logits(fill: tf.Tensor4D, ys: ArrayLike<number>, xs: ArrayLike<number>, h: number, w: number): tf.Tensor {
    const n = ys.length;
    const inputId = this.net.graph.input.id;
    const patch: Rect = { oy: Int32Array.from(ys), ox: Int32Array.from(xs), h, w };
    const [, H, W, C] = fill.shape;
    const changed = new ChangedValues(this.uses, new Set([this.net.logitsRef.id]), nextTensorId());
    changed.set(inputId, { t: this.gather(tf.reshape(fill, [H * W, C]), null, null, patch, [H, W], 0), rect: patch });
    const ctx: OpContext = this.net.forwardContext();
    this.propagate(n, patch, (step, rect, i) => {
      const g = this.geometry[i];
      const outShape = step.node.outputs[0].shape;
      ctx.skipActivation = step.node.index === this.net.logitsNode;
      ctx.windowed = false;
      let outs: tf.Tensor[];
      if (rect && g.kind === 'window') {
        const win = this.windowOf(rect, g.w);
        const x = this.assemble(step.reads[0], changed, win, g.w.padValue);
        if (g.w.moveOnly) outs = [x];
        else {
          ctx.windowed = true;
          outs = applyStep(step, [x], ctx);
          if (g.w.insideMean) outs = [tf.mul(outs[0], this.insideMeanScale(rect, g.w, g.w.insideMean))];
        }
      } else {
        // Per-position layers read each input over the output's rectangle; other layers read whole values.
        const target = (ref: ValueRef): Rect | null => {
          if (!spatial(ref.shape)) return null;
          if (rect && ref.shape[1] === outShape[1] && ref.shape[2] === outShape[2]) return rect;
          if (rect) return null; // a broadcast input (1×1 map) of a per-position layer
          return wholeRect(n, ref.shape[1], ref.shape[2]);
        };
        outs = applyStep(step, step.reads.map((ref) => {
          const t = target(ref);
          return t ? this.assemble(ref, changed, t, 0) : this.whole(ref, changed, n);
        }), ctx);
      }
      const expect = rect ? [n, rect.h, rect.w] : null;
      if (expect && !expect.every((d, j) => outs[0].shape[j] === d)) {
        throw new Error(`internal: ${step.node.path} gave [${outs[0].shape}] for a region of [${expect}]`);
      }
      step.node.outputs.forEach((r, j) => changed.set(r.id, { t: outs[j], rect: spatial(r.shape) ? rect ?? wholeRect(n, r.shape[1], r.shape[2]) : null }));
      for (const r of step.reads) changed.read(r.id);
    });
    const z = changed.get(this.net.logitsRef.id)?.t ?? tf.tile(this.baseline.get(this.net.logitsRef.id)!, [n, 1]);
    return this.net.classLogits(z);
  }

  /** [n, h, w, 1]: taps / taps inside the [inH, inW] map, per output position of each patch's rectangle. */
  private insideMeanScale(rect: Rect, w: Window, { inH, inW }: { inH: number; inW: number }): tf.Tensor {
    const inside = (o: number, axis: 0 | 1, size: number) => {
      const first = o * w.s[axis] - w.before[axis];
      return Math.min(first + w.k[axis], size) - Math.max(first, 0);
    };
    const n = rect.oy.length;
    const scale = new Float32Array(n * rect.h * rect.w);
    for (let p = 0, q = 0; p < n; p++) {
      for (let i = 0; i < rect.h; i++) {
        const rows = inside(rect.oy[p] + i, 0, inH);
        for (let j = 0; j < rect.w; j++, q++) scale[q] = (w.k[0] * w.k[1]) / (rows * inside(rect.ox[p] + j, 1, inW));
      }
    }
    return tf.tensor4d(scale, [n, rect.h, rect.w, 1]);
  }

  /** The input window a window step reads for output rectangles `rect`. */
  private windowOf(rect: Rect, w: Window): Rect {
    const span = (axis: 0 | 1, size: number) => (size - 1) * w.s[axis] + (w.k[axis] - 1) * w.d[axis] + 1;
    const oy = rect.oy.map((o) => o * w.s[0] - w.before[0]);
    const ox = rect.ox.map((o) => o * w.s[1] - w.before[1]);
    return { oy, ox, h: span(0, rect.h), w: span(1, rect.w) };
  }

  /** A non-rectangle value whole, per patch: the changed tensor, or the baseline repeated n times. */
  private whole(ref: ValueRef, changed: ChangedValues, n: number): tf.Tensor {
    const c = changed.get(ref.id);
    if (c) return c.t;
    const b = this.baseline.get(ref.id)!;
    return tf.tile(b, [n, ...b.shape.slice(1).map(() => 1)]);
  }

  /** Value `ref` over `target` ([n, h, w, C]): its changed values where it has them, the baseline elsewhere, padValue outside the map. */
  private assemble(ref: ValueRef, changed: ChangedValues, target: Rect, padValue: number): tf.Tensor {
    const c = changed.get(ref.id);
    if (c?.rect && sameRect(c.rect, target)) return c.t;
    const [, H, W] = ref.shape as number[];
    return this.gather(this.flatBaseline(ref.id), c?.t ?? null, c?.rect ?? null, target, [H, W], padValue);
  }

  private flatBaseline(id: number): tf.Tensor2D {
    let f = this.flat.get(id);
    if (!f) {
      const b = this.baseline.get(id)!;
      f = tf.keep(tf.reshape(b, [-1, b.shape[3] as number])) as tf.Tensor2D;
      this.flat.set(id, f);
    }
    return f;
  }

  private padRow(c: number, value: number): tf.Tensor2D {
    const key = `${c}:${value}`;
    let r = this.padRows.get(key);
    if (!r) {
      r = tf.keep(tf.fill([1, c], value)) as tf.Tensor2D;
      this.padRows.set(key, r);
    }
    return r;
  }

  /**
   * [n, target.h, target.w, C] gathered, per patch, from the changed values (rect `have` of `changed`), the
   * baseline rows `base` ([H·W, C]) and a row of padValue outside the [H, W] map.
   */
  private gather(base: tf.Tensor2D, changed: tf.Tensor | null, have: Rect | null, target: Rect, [H, W]: [number, number], padValue: number): tf.Tensor {
    const n = target.oy.length;
    const C = base.shape[1];
    const idx = new Int32Array(n * target.h * target.w);
    // Row layout of the source: changed values first, then the pad row, then the baseline (left out when unused).
    const nChanged = changed && have ? n * have.h * have.w : 0;
    const padAt = nChanged;
    let usesBase = false;
    let usesPad = false;
    let k = 0;
    for (let p = 0; p < n; p++) {
      for (let i = 0; i < target.h; i++) {
        const Y = target.oy[p] + i;
        for (let j = 0; j < target.w; j++, k++) {
          const X = target.ox[p] + j;
          if (Y < 0 || Y >= H || X < 0 || X >= W) {
            idx[k] = padAt;
            usesPad = true;
          } else if (have && Y >= have.oy[p] && Y < have.oy[p] + have.h && X >= have.ox[p] && X < have.ox[p] + have.w) {
            idx[k] = (p * have.h + (Y - have.oy[p])) * have.w + (X - have.ox[p]);
          } else {
            idx[k] = -1 - (Y * W + X);
            usesBase = true;
          }
        }
      }
    }
    const baseAt = nChanged + (usesPad || usesBase ? 1 : 0);
    for (let q = 0; q < idx.length; q++) if (idx[q] < 0) idx[q] = baseAt - 1 - idx[q];
    const parts: tf.Tensor[] = [];
    if (nChanged) parts.push(tf.reshape(changed!, [nChanged, C]));
    if (usesPad || usesBase) parts.push(this.padRow(C, padValue));
    if (usesBase) parts.push(base);
    const src = parts.length === 1 ? parts[0] : tf.concat(parts, 0);
    return tf.reshape(tf.gather(src, tf.tensor1d(idx, 'int32')), [n, target.h, target.w, C]);
  }

  dispose(): void {
    for (const t of this.padRows.values()) t.dispose();
    for (const t of this.flat.values()) t.dispose();
    for (const t of new Set(this.baseline.values())) if (t.id >= this.firstOwnId && !t.isDisposed) t.dispose();
    this.padRows.clear();
    this.flat.clear();
    this.baseline.clear();
  }
}
