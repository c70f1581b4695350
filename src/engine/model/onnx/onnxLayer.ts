// One tfjs layer for ONNX operators that have no Keras layer (Reshape, Transpose, Div, HardSwish, …): it
// runs a function of its inputs (channels-last tensors, see layout.ts) and its constants, which it holds
// as non-trainable weights so that parameter counts, disposal and the model browser see them.
import type * as tf from '@tensorflow/tfjs-core';
import type { serialization } from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import type { LayerKind } from '../../../shared/protocol';
import type { LayerRegionRule } from '../regionGeometry';
import { givenWeights } from './givenWeights';

export type OpFn = (inputs: tf.Tensor[], consts: tf.Tensor[]) => tf.Tensor[];

export interface OnnxLayerSpec {
  name: string;
  /** Shown as the layer's class, e.g. 'OnnxReshape'. */
  className: string;
  /** The layer's kind (layerKinds.ts reads it from the class name: 'Onnx' + the op type). */
  kind: LayerKind;
  /** Output shapes without the batch dimension. */
  outShapes: number[][];
  consts: tf.Tensor[];
  fn: OpFn;
  /** Set for convolutions that have no Keras layer (grouped): the kernel in Keras layout, for `filters`. */
  kernelIndex?: number;
  region?: LayerRegionRule;
}

export class OnnxLayer extends tfl.layers.Layer {
  static className = 'OnnxOp';
  private readonly spec: OnnxLayerSpec;

  constructor(spec: OnnxLayerSpec) {
    super({ name: spec.name, trainable: false });
    this.spec = spec;
  }

  override build(): void {
    this.spec.consts.forEach((c, i) => this.addWeight(`c${i}`, c.shape, 'float32', givenWeights(c), undefined, false));
    this.built = true;
  }

  /** The kernel of a grouped convolution ([kh, kw, in/groups, out]), like a Conv2D layer's. */
  get kernel(): tfl.LayerVariable | undefined {
    return this.spec.kernelIndex === undefined ? undefined : (this.weights[this.spec.kernelIndex] as unknown as tfl.LayerVariable);
  }

  /** How output positions depend on input positions (model/regionRun.ts), when the converter said. */
  get region(): LayerRegionRule | undefined {
    return this.spec.region;
  }

  override computeOutputShape(): tfl.Shape | tfl.Shape[] {
    const shapes = this.spec.outShapes.map((s) => [null, ...s]);
    return shapes.length === 1 ? shapes[0] : shapes;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor | tf.Tensor[] {
    const xs = Array.isArray(inputs) ? inputs : [inputs];
    const out = this.spec.fn(xs, this.weights.map((w) => w.read()));
    return out.length === 1 ? out[0] : out;
  }

  override getClassName(): string {
    return this.spec.className;
  }

  override getConfig(): serialization.ConfigDict {
    return { ...super.getConfig(), onnxOp: this.spec.className };
  }
}
