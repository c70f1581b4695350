// Executes a ModelGraph: forward passes with taps, logits before a final softmax, and layer outputs
// replaced by tensors we differentiate with respect to (gradients at a layer).
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { fileError, LensError } from '../errors';
import { ancestorsOf, buildGraph, findNode, type GraphNode, type ModelGraph, type ValueRef } from './graph';
import { toInputLayout, type InputLayout } from './inputLayout';
import { countUses, peakLiveFloats, RunValues } from './runValues';
import { defaultTarget, type DefaultTarget } from './targetLayer';
import { activationName, applyConvBatchNorm, applyNode, foldableActivation, foldableIntoBatchNorm, foldablePadding, foldBatchNorms, foldPaddings, fuseEpilogues, prepareConvGradients, prepareFoldedGradients, recordingGradient, type OpContext } from './layerOps';

/** How the model turns logits into its output. */
export type OutputActivation = 'softmax' | 'sigmoid' | 'linear';

export interface RunOptions {
  /** Node indices whose output 0 is returned in `taps`. */
  taps?: number[];
  /** Replace these nodes' output 0 by the given tensors (e.g. a layer's activation under tf.grad). */
  replace?: Map<number, tf.Tensor>;
  /**
   * Values (by ValueRef id) of an earlier run on the same input. A node none of whose inputs depends on
   * a replaced node takes its value from here instead of being computed again.
   */
  cache?: Map<number, tf.Tensor>;
  /** Guided-backpropagation ReLUs. */
  guided?: boolean;
  /** Deconvnet ReLUs (they pass back the positive gradient whatever their input). */
  deconv?: boolean;
  /** Compute the logits (model output 0 before its final softmax/sigmoid). Default true. */
  logits?: boolean;
  /**
   * Return every computed value (to serve as `cache` later), paddings included: with it no ZeroPadding2D is
   * folded into the convolution after it (the region runner of occlusion reads each layer's output).
   */
  keepValues?: boolean;
  /**
   * Return these values (by ValueRef id) in `values`, freeing every other value after its last reader as a
   * plain pass does: what a later run replacing a layer reads from its cache (tailInputs).
   */
  keep?: number[];
}

export interface RunResult {
  /** [batch, classes] (or the output's shape) before the final softmax/sigmoid. */
  logits: tf.Tensor | null;
  taps: Map<number, tf.Tensor>;
  values: Map<number, tf.Tensor> | null;
}

/** A tfjs layers model prepared for explanation: flat graph, logits, folded constants. */
export class Network {
  readonly graph: ModelGraph;
  /** The value holding the logits of output 0. */
  readonly logitsRef: ValueRef;
  /** The node whose activation is skipped to read logits (-1 when none). */
  readonly logitsNode: number;
  readonly outputActivation: OutputActivation;
  /**
   * Output 0 is one sigmoid unit (a binary classifier: p = P(class 1)). Its logit z is given as two classes,
   * [−z, z]: the model's sigmoid then yields [1 − p, p], class 1 is explained by z and class 0 by −z.
   */
  readonly binarySigmoid: boolean;
  /** How the model's input holds an image; run() takes NHWC batches and converts (set by the loader). */
  inputLayout: InputLayout = 'NHWC';
  /** The model file, named by errors about the model's layers (set by the loader). */
  file = '';
  private readonly prepared = new Map<number, tf.Tensor[]>();
  private readonly neededCache = new Map<string, Set<number>>();
  /** Nodes whose gradient constants are made, and the scopes prepareGradients has made (−1: every layer). */
  private readonly preparedNodes = new Set<number>();
  private readonly preparedScopes = new Set<number>();
  private peakFloats: number | undefined;
  private cachedDefault: DefaultTarget | null | undefined;
  /** Convolution index → the batch norm it can be folded into (layerOps.foldableIntoBatchNorm). */
  private readonly foldable = new Map<number, number>();
  /** Batch norm index → the ReLU after it that can join the folded kernel, and its kind. */
  private readonly foldableAct = new Map<number, { node: number; activation: 'relu' | 'relu6' }>();
  /** Convolution index → the ZeroPadding2D before it whose zeros it can pad itself (foldablePadding). */
  private readonly foldablePad = new Map<number, { pad: GraphNode; zeros: [[number, number], [number, number]] }>();

  /**
   * The first layer that keeps its feature maps channels first (Keras data_format "channels_first": [channels, h, w]),
   * or null. tfjs-layers runs such layers (prediction and input gradients are right), but the layer methods read a
   * layer's output as [h, w, channels], so they refuse these models rather than draw maps of the wrong axes.
   */
  readonly channelsFirstLayer: string | null;

  constructor(readonly model: tfl.LayersModel) {
    this.graph = buildGraph(model);
    this.channelsFirstLayer = this.graph.nodes.find((n) => (n.layer as unknown as { dataFormat?: string }).dataFormat === 'channelsFirst')?.path ?? null;
    const out = this.graph.outputs[0];
    let logitsRef = out;
    let logitsNode = -1;
    let act: OutputActivation = 'linear';
    const producer = out.producer >= 0 ? this.graph.nodes[out.producer] : null;
    if (producer) {
      const layer = producer.layer as any;
      const cfgAxis = layer.getConfig?.().axis;
      // tfjs-layers' Softmax defaults to axis 1 (Keras: -1); both are the class axis of a [batch, classes] output.
      if (producer.className === 'Softmax' && (cfgAxis === undefined || cfgAxis === -1 || cfgAxis === out.shape.length - 1)) {
        logitsRef = producer.inputs[0];
        act = 'softmax';
      } else if (producer.className === 'Activation' || ['Dense', 'Conv2D'].includes(producer.className)) {
        const a = activationName(layer);
        if (a === 'softmax' || a === 'sigmoid') {
          act = a;
          if (producer.className === 'Activation') logitsRef = producer.inputs[0];
          else logitsNode = producer.index;
        }
      }
    }
    this.logitsRef = logitsRef;
    this.logitsNode = logitsNode;
    this.outputActivation = act;
    this.binarySigmoid = act === 'sigmoid' && logitsRef.shape.length === 2 && logitsRef.shape[1] === 1;
    const outputIds = new Set(this.graph.outputs.map((r) => r.id));
    for (const node of this.graph.nodes) {
      const bn = node.consumers.length === 1 ? this.graph.nodes[node.consumers[0]] : null;
      if (bn && node.index !== logitsNode && !outputIds.has(node.outputs[0]?.id) && foldableIntoBatchNorm(node, bn)) {
        this.foldable.set(node.index, bn.index);
        const act = bn.consumers.length === 1 ? this.graph.nodes[bn.consumers[0]] : null;
        const kind = act && act.index !== logitsNode && !outputIds.has(bn.outputs[0].id) ? foldableActivation(bn, act) : null;
        if (act && kind) this.foldableAct.set(bn.index, { node: act.index, activation: kind });
      }
      const conv = node.consumers.length === 1 ? this.graph.nodes[node.consumers[0]] : null;
      const zeros = conv && !outputIds.has(node.outputs[0]?.id) ? foldablePadding(node, conv) : null;
      if (conv && zeros) this.foldablePad.set(conv.index, { pad: node, zeros });
    }
  }

  get inputShape(): (number | null)[] {
    return this.graph.input.shape;
  }

  /** Why layer methods cannot read this model's feature maps, or null (see channelsFirstLayer). */
  layerMapsProblem(): string | null {
    if (!this.channelsFirstLayer) return null;
    return `layer '${this.channelsFirstLayer}' keeps its feature maps channels first (Keras data_format "channels_first"); the layer methods read [h, w, channels] maps, so only prediction and the input-gradient methods apply`;
  }

  findLayer(name: string): GraphNode {
    const problem = this.layerMapsProblem();
    if (problem) throw this.file ? fileError(this.file, problem) : new LensError(problem);
    try {
      return findNode(this.graph, name);
    } catch (e) {
      throw this.file && e instanceof LensError ? fileError(this.file, e.message) : e;
    }
  }

  defaultLayer(): GraphNode | null {
    return this.defaultTarget()?.node ?? null;
  }

  /** The default target layer and why it is the default (./targetLayer.ts); none for a channels-first model. */
  defaultTarget(): DefaultTarget | null {
    if (this.channelsFirstLayer) return null;
    if (this.cachedDefault === undefined) this.cachedDefault = defaultTarget(this.graph);
    return this.cachedDefault;
  }

  /** Probabilities from logits, the way the model's own output layer makes them. */
  probabilities(logits: tf.Tensor): tf.Tensor {
    if (this.outputActivation === 'sigmoid') return tf.sigmoid(logits);
    return tf.softmax(logits);
  }

  private needed(targets: number[]): Set<number> {
    const key = targets.join(',');
    let s = this.neededCache.get(key);
    if (!s) {
      s = ancestorsOf(this.graph, targets);
      this.neededCache.set(key, s);
    }
    return s;
  }

  /**
   * The nodes a run replacing `replace` must compute for `targets`: a replaced node's inputs are not needed
   * for it, and a value the cache holds (of a node that does not depend on a replaced one) is read from there,
   * so its producer is not needed for it either. A layer gradient then re-runs only the layers after the layer.
   */
  private neededAround(targets: number[], replace: Map<number, tf.Tensor>, cache?: Map<number, tf.Tensor>): Set<number> {
    const downstream = this.downstreamOf([...replace.keys()]);
    return ancestorsOf(this.graph, targets, (i, r) => !replace.has(i) && !(cache?.has(r.id) && !downstream.has(r.producer)));
  }

  /** The nodes that depend on any of `nodes`, themselves included. */
  private downstreamOf(nodes: number[]): Set<number> {
    const out = new Set<number>(nodes);
    for (const n of this.graph.nodes) if (!out.has(n.index) && n.inputs.some((r) => r.producer >= 0 && out.has(r.producer))) out.add(n.index);
    return out;
  }

  /**
   * The values a run replacing `node`'s output reads from its cache: the node's outputs, the model input and
   * every value a node after `node` reads from a node that does not depend on it (a residual branch).
   */
  tailInputs(node: number): number[] {
    const downstream = this.downstreamOf([node]);
    const needed = this.needed([this.logitsRef.producer]);
    const ids = new Set<number>([this.graph.input.id, ...this.graph.nodes[node].outputs.map((r) => r.id)]);
    for (const n of this.graph.nodes) {
      if (n.index === node || !downstream.has(n.index) || !needed.has(n.index)) continue;
      for (const r of n.inputs) if (!downstream.has(r.producer)) ids.add(r.id);
    }
    return [...ids];
  }

  /**
   * Runs the graph on x ([batch, H, W, C], already preprocessed; converted to the model's input layout). Only the nodes needed for the
   * requested taps and logits are computed. Call inside tf.tidy or a gradient function.
   */
  run(x: tf.Tensor, opts: RunOptions = {}): RunResult {
    const wantLogits = opts.logits !== false;
    const taps = opts.taps ?? [];
    const targets = [...taps];
    if (wantLogits && this.logitsRef.producer >= 0) targets.push(this.logitsRef.producer);
    const needed = opts.replace ? this.neededAround(targets, opts.replace, opts.cache) : this.needed(targets);
    const tainted = new Set<number>();
    const ctx: OpContext = { guided: opts.guided === true, deconv: opts.deconv === true, skipActivation: false, prepared: this.prepared };
    // Normally done by the caller before tf.grad (prepareGradients); made here as a fallback.
    if (recordingGradient() && !this.preparedScopes.has(-1)) this.prepareNodes(this.graph.nodes.filter((n) => needed.has(n.index) && !opts.replace?.has(n.index)));
    const { folded, withAct, pads, skipped } = this.foldPlan(needed, taps, opts.replace, !opts.keepValues);
    // The layer a step runs: a folded batch norm (or its ReLU) runs its convolution.
    const runs = (node: GraphNode) => withAct.get(node.index)?.conv ?? folded.get(node.index) ?? node;
    // What each computed node reads: that layer's input, or the padding's input when its padding is folded in.
    const reads = (node: GraphNode) => (pads.get(runs(node).index)?.pad ?? runs(node)).inputs;
    // A plain forward pass frees each value after its last reader (./runValues.ts); a gradient's tape, a
    // cached or replaced run and keepValues need them all.
    const release = !opts.keepValues && !opts.cache && !opts.replace && !recordingGradient();
    const kept = new Set([this.graph.input.id, ...taps.map((t) => this.graph.nodes[t].outputs[0].id), ...(wantLogits ? [this.logitsRef.id] : []), ...(opts.keep ?? [])]);
    const uses = release ? countUses(this.graph.nodes.filter((n) => needed.has(n.index) && !skipped.has(n.index)).map(reads)) : null;
    const input = toInputLayout(x, this.inputLayout);
    const values = new RunValues(uses, kept, release ? nextTensorId() : Infinity);
    values.set(this.graph.input.id, input);
    for (const node of this.graph.nodes) {
      if (!needed.has(node.index)) continue;
      if (skipped.has(node.index)) {
        // Computed as part of its batch norm: only whether it depends on a replaced layer carries on.
        if (node.inputs.some((r) => tainted.has(r.id))) tainted.add(node.outputs[0].id);
        continue;
      }
      const replacement = opts.replace?.get(node.index);
      if (replacement) {
        values.set(node.outputs[0].id, replacement);
        tainted.add(node.outputs[0].id);
        continue;
      }
      const dependsOnReplacement = node.inputs.some((r) => tainted.has(r.id));
      if (opts.cache && !dependsOnReplacement && node.outputs.every((r) => opts.cache!.has(r.id))) {
        for (const r of node.outputs) values.set(r.id, opts.cache.get(r.id)!);
        continue;
      }
      const ins = reads(node).map((r) => {
        // A value of a node the run skipped (neededAround) comes from the cache.
        const v = values.get(r.id) ?? (tainted.has(r.id) ? undefined : opts.cache?.get(r.id));
        if (!v) throw new Error(`internal: value for ${node.path} input missing`);
        return v;
      });
      ctx.skipActivation = wantLogits && node.index === this.logitsNode;
      ctx.foldedPad = pads.get(runs(node).index)?.zeros;
      const outs = applyStep({ node, reads: reads(node), chain: withAct.get(node.index), conv: folded.get(node.index) }, ins, ctx);
      node.outputs.forEach((r, i) => {
        values.set(r.id, outs[i]);
        if (dependsOnReplacement) tainted.add(r.id);
      });
      for (const r of reads(node)) values.read(r.id);
    }
    const tapMap = new Map<number, tf.Tensor>();
    for (const t of taps) tapMap.set(t, values.get(this.graph.nodes[t].outputs[0].id)!);
    const z = wantLogits ? values.get(this.logitsRef.id) ?? null : null;
    return {
      logits: z && this.classLogits(z),
      taps: tapMap,
      values: opts.keepValues ? values.map : opts.keep ? new Map(opts.keep.filter((id) => values.get(id)).map((id) => [id, values.get(id)!])) : null,
    };
  }

  /** The explained logits from the value at logitsRef: a binary sigmoid's z as two classes [−z, z]. */
  classLogits(z: tf.Tensor): tf.Tensor {
    return this.binarySigmoid ? tf.concat([tf.neg(z), z], 1) : z;
  }

  /** The op context of a plain forward pass (the network's prepared constants). */
  forwardContext(): OpContext {
    return { guided: false, skipActivation: false, prepared: this.prepared };
  }

  /**
   * Which convolutions run folded into their batch norm in a pass (batch norm index → convolution) and which
   * with the ReLU after it too (ReLU index → convolution, batch norm and activation); `skipped` are the nodes
   * those compute. A tapped or replaced node is never folded away.
   */
  private foldPlan(needed: Set<number>, taps: number[], replace?: Map<number, tf.Tensor>, foldPads = false): { folded: Map<number, GraphNode>; withAct: Map<number, FoldedChain>; pads: Map<number, FoldedPad>; skipped: Set<number> } {
    const folded = new Map<number, GraphNode>();
    const withAct = new Map<number, FoldedChain>();
    const pads = new Map<number, FoldedPad>();
    const skipped = new Set<number>();
    if (foldPads && foldPaddings()) {
      for (const [conv, p] of this.foldablePad) {
        if (!needed.has(conv) || !needed.has(p.pad.index) || taps.includes(p.pad.index) || replace?.has(p.pad.index) || replace?.has(conv)) continue;
        pads.set(conv, p);
        skipped.add(p.pad.index);
      }
    }
    if (!foldBatchNorms() || this.foldable.size === 0) return { folded, withAct, pads, skipped };
    for (const [conv, bn] of this.foldable) {
      if (!needed.has(bn) || taps.includes(conv) || replace?.has(conv) || replace?.has(bn)) continue;
      const act = fuseEpilogues() ? this.foldableAct.get(bn) : undefined;
      if (act && needed.has(act.node) && !taps.includes(bn) && !replace?.has(act.node)) {
        withAct.set(act.node, { conv: this.graph.nodes[conv], bn: this.graph.nodes[bn], activation: act.activation });
        skipped.add(bn);
      } else folded.set(bn, this.graph.nodes[conv]);
      skipped.add(conv);
    }
    return { folded, withAct, pads, skipped };
  }

  /**
   * The steps of a plain forward pass to the logits, in graph order, each computing one node's outputs
   * from `reads` (a folded batch norm or its ReLU reads its convolution's input). Run each with
   * applyStep, with skipActivation set for the step of logitsNode. Paddings stay steps of their own (the
   * region runner of occlusion cuts windows at each layer's geometry).
   */
  forwardSteps(): Step[] {
    const needed = this.needed([this.logitsRef.producer]);
    const { folded, withAct, skipped } = this.foldPlan(needed, []);
    return this.graph.nodes
      .filter((n) => needed.has(n.index) && !skipped.has(n.index))
      .map((node) => {
        const chain = withAct.get(node.index);
        const conv = folded.get(node.index);
        return { node, reads: (chain?.conv ?? conv ?? node).inputs, chain, conv };
      });
  }

  /**
   * Makes the gradient constants (flipped kernels, folded batch norms) of the layers a gradient goes through,
   * at once: every layer, or with `after`, the layers after that one (a gradient at a layer runs only those:
   * Grad-CAM at ResNet-50's last block needs none of its 53 convolutions' kernels, which made its first call
   * make and pack 100 MB). Call it before tf.grad: made inside one, every temporary of the preparation is
   * recorded on the gradient's tape and lives until the gradient is done (InceptionV3: 83 MB of kernels left a
   * 376 MB high-water mark in wasm memory, which never shrinks).
   */
  prepareGradients(after?: number): void {
    const scope = after ?? -1;
    if (this.preparedScopes.has(scope) || this.preparedScopes.has(-1)) return;
    this.preparedScopes.add(scope);
    const downstream = after === undefined ? null : this.downstreamOf([after]);
    this.prepareNodes(downstream ? this.graph.nodes.filter((n) => n.index !== after && downstream.has(n.index)) : this.graph.nodes);
  }

  /** The gradient constants of those of `nodes` not made yet (prepareGradients). */
  private prepareNodes(nodes: GraphNode[]): void {
    const todo = nodes.filter((n) => !this.preparedNodes.has(n.index));
    if (todo.length === 0) return;
    for (const n of todo) this.preparedNodes.add(n.index);
    const ctx: OpContext = { guided: false, skipActivation: false, prepared: this.prepared };
    const fold = foldBatchNorms() && this.foldable.size > 0;
    const inTodo = new Set(todo.map((n) => n.index));
    tf.tidy(() => {
      prepareConvGradients(fold ? todo.filter((n) => !this.foldable.has(n.index)) : todo, ctx);
      if (fold) for (const [conv, bn] of this.foldable) if (inTodo.has(conv) || inTodo.has(bn)) prepareFoldedGradients(this.graph.nodes[conv], this.graph.nodes[bn], ctx);
    });
  }

  /**
   * Floats alive at the peak of a plain forward pass to the logits, per image (each value is freed after its
   * last reader): what a batch of perturbed inputs costs in memory.
   */
  forwardPeakFloatsPerImage(): number {
    this.peakFloats ??= peakLiveFloats(this.graph, this.needed([this.logitsRef.producer]), new Set([this.graph.input.id, this.logitsRef.id]));
    return this.peakFloats;
  }

  /** Logits for a batch, outside any gradient. */
  logits(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.run(x).logits!);
  }

  dispose(): void {
    for (const ts of this.prepared.values()) ts.forEach((t) => t.dispose());
    this.prepared.clear();
    const weights = this.model.weights;
    this.model.dispose();
    // tfjs-layers' dispose misses the last weights of a Sequential nested in a functional model (Teachable
    // Machine models: the dense head, 3 tensors per load): free whatever it left.
    for (const w of weights) {
      const v = (w as unknown as { val?: tf.Tensor }).val;
      if (v && !v.isDisposed) v.dispose();
    }
  }
}

/** The id the next tensor will get: tensors with smaller ids already exist (ids only grow). */
export function nextTensorId(): number {
  const mark = tf.scalar(0);
  mark.dispose();
  return mark.id + 1;
}

/** A ZeroPadding2D whose zeros the convolution after it pads itself: [top, bottom], [left, right]. */
export interface FoldedPad {
  pad: GraphNode;
  zeros: [[number, number], [number, number]];
}

/** A convolution, its batch norm and the ReLU after them, run as one kernel (the step of the ReLU). */
export interface FoldedChain {
  conv: GraphNode;
  bn: GraphNode;
  activation: 'relu' | 'relu6';
}

/** One computation of a forward pass: `node`'s outputs from the values `reads`. */
export interface Step {
  node: GraphNode;
  reads: ValueRef[];
  /** Set when node is a ReLU computed with its convolution and batch norm. */
  chain?: FoldedChain;
  /** Set when node is a batch norm computed with its (folded) convolution. */
  conv?: GraphNode;
}

/** Runs one step on its inputs (the values of step.reads). */
export function applyStep(step: Step, ins: tf.Tensor[], ctx: OpContext): tf.Tensor[] {
  if (step.chain) return [applyConvBatchNorm(step.chain.conv, step.chain.bn, ins[0], ctx, step.chain.activation)];
  if (step.conv) return [applyConvBatchNorm(step.conv, step.node, ins[0], ctx)];
  return applyNode(step.node, ins, ctx);
}
