// What an operator's converter sees: its node, attributes and inputs, and the ways to produce outputs
// (a Keras layer, an OnnxLayer, a folded constant or an alias of an input).
import type { LayerRegionRule } from '../regionGeometry';
import type * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { LayerKind } from '../../../shared/protocol';
import type { OpFn } from './onnxLayer';
import type { OnnxAttribute, OnnxNode, OnnxTensorProto } from './schema';
import type { Const } from './tensors';

/** A value computed from the image: its symbolic tensor and its value for a 1-image sample (engine layout). */
export interface Live {
  kind: 'live';
  sym: tfl.SymbolicTensor;
  sample: tf.Tensor;
  /** For a [N, C, 1, 1] value: the same values as [N, C] (a global pooling's own output), which Flatten reuses. */
  flat?: Live;
}

export interface ConstVal {
  kind: 'const';
  c: Const;
}

export type Val = Live | ConstVal;

export class Attrs {
  private readonly byName = new Map<string, OnnxAttribute>();
  constructor(list: OnnxAttribute[] | undefined) {
    for (const a of list ?? []) if (typeof a.name === 'string') this.byName.set(a.name, a);
  }
  has(name: string): boolean {
    return this.byName.has(name);
  }
  i(name: string, d: number): number {
    // proto3 leaves a 0 out of the file: an attribute that is present without its value holds 0.
    const a = this.byName.get(name);
    return a ? Number(a.i ?? 0) : d;
  }
  f(name: string, d: number): number {
    const a = this.byName.get(name);
    return a ? Number(a.f ?? 0) : d;
  }
  ints(name: string): number[] | undefined {
    const a = this.byName.get(name);
    return a?.ints ? a.ints.map(Number) : undefined;
  }
  floats(name: string): number[] | undefined {
    const a = this.byName.get(name);
    return a?.floats ? a.floats.map(Number) : undefined;
  }
  s(name: string, d: string): string {
    const a = this.byName.get(name);
    return a?.s ? Buffer.from(a.s).toString('utf8') : d;
  }
  t(name: string): OnnxTensorProto | undefined {
    return this.byName.get(name)?.t;
  }
}

export interface CustomSpec {
  /** Class shown for the layer; default 'Onnx' + op type. */
  className?: string;
  kind: LayerKind;
  consts?: tf.Tensor[];
  fn: OpFn;
  kernelIndex?: number;
  /** How its output positions depend on its input positions, for occlusion's region runner (none: unknown). */
  region?: LayerRegionRule;
}

export interface NodeCtx {
  file: string;
  node: OnnxNode;
  op: string;
  /** The node's name as the engine shows it. */
  name: string;
  opset: number;
  /** The batch size the file's input fixes (convert.ts ImageInput.fixedBatch), or null. */
  fixedBatch: number | null;
  attrs: Attrs;
  inputs: (Val | null)[];
  /** Throws the one-line error for this node. */
  fail(problem: string): never;
  /** Input k as a value computed from the image (fails on a constant or a missing input). */
  live(k: number): Live;
  /** Input k as a constant, or null when it is absent; fails when it depends on the image. */
  konst(k: number, what: string): Const | null;
  /** Applies a Keras layer to `inputs` (its weights, if any, given by its initializers: givenWeights.ts). */
  keras(layer: tfl.layers.Layer, inputs: Live[]): Live[];
  /** Applies an OnnxLayer; `suffix` names a helper layer ('<name>_pad'). */
  custom(spec: CustomSpec, inputs: Live[], suffix?: string): Live[];
  /** The name for a helper layer of this node. */
  layerName(suffix?: string): string;
}

export type OpConverter = (ctx: NodeCtx) => Val[];
