// Keras' Normalization preprocessing layer, which TensorFlow.js lacks, as a tfjs layer registered under the
// same class name so that Keras topologies naming it load unchanged.
//   y = (x - mean) / max(sqrt(variance), 1e-7)       (invert: y = mean + x * max(sqrt(variance), 1e-7))
// The statistics come either from the config (`mean` / `variance` given to the constructor) or, after
// `adapt()`, from the weights file (non-trainable weights "mean" and "variance").
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

/** Keras' backend.epsilon(). */
const EPSILON = 1e-7;

type AxisArg = number | number[] | null | undefined;

interface NormalizationArgs {
  axis?: AxisArg;
  mean?: number | number[] | null;
  variance?: number | number[] | null;
  invert?: boolean;
  name?: string;
  trainable?: boolean;
  dtype?: tf.DataType;
  inputShape?: (number | null)[];
  batchInputShape?: (number | null)[];
}

export class KerasNormalization extends tfl.layers.Layer {
  static className = 'Normalization';
  private readonly axisArg: AxisArg;
  private readonly meanArg: number | number[] | null;
  private readonly varianceArg: number | number[] | null;
  private readonly invert: boolean;
  private broadcastShape: number[] = [];
  private meanWeight: tfl.LayerVariable | null = null;
  private varianceWeight: tfl.LayerVariable | null = null;

  constructor(args: NormalizationArgs) {
    super(args as any);
    this.axisArg = args.axis === undefined ? -1 : args.axis;
    this.meanArg = args.mean ?? null;
    this.varianceArg = args.variance ?? null;
    this.invert = !!args.invert;
    if ((this.meanArg == null) !== (this.varianceArg == null)) throw new Error(`Normalization layer '${this.name}': mean and variance must be given together`);
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as (number | null)[];
    const rank = shape.length;
    const axes = this.axisArg == null ? [] : (Array.isArray(this.axisArg) ? this.axisArg : [this.axisArg]).map((a) => (a < 0 ? a + rank : a));
    for (const a of axes) {
      if (a <= 0 || a >= rank || shape[a] == null) throw new Error(`Normalization layer '${this.name}': axis ${a} does not fit input shape [${shape}]`);
    }
    this.broadcastShape = shape.map((d, i) => (axes.includes(i) ? (d as number) : 1));
    const weightShape = axes.map((a) => shape[a] as number);
    if (this.meanArg == null) {
      this.meanWeight = this.addWeight('mean', weightShape, 'float32', tfl.initializers.zeros(), undefined, false);
      this.varianceWeight = this.addWeight('variance', weightShape, 'float32', tfl.initializers.ones(), undefined, false);
    }
    this.built = true;
  }

  private stat(given: number | number[] | null, weight: tfl.LayerVariable | null): tf.Tensor {
    const t = weight ? weight.read() : tf.tensor(given as number | number[], undefined, 'float32');
    const size = this.broadcastShape.reduce((a, b) => a * b, 1);
    return t.size === size ? tf.reshape(t, this.broadcastShape) : tf.broadcastTo(t, this.broadcastShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = tf.cast(Array.isArray(inputs) ? inputs[0] : inputs, 'float32');
      const mean = this.stat(this.meanArg, this.meanWeight);
      const variance = this.stat(this.varianceArg, this.varianceWeight);
      const std = tf.maximum(tf.sqrt(variance), EPSILON);
      return this.invert ? tf.add(mean, tf.mul(x, std)) : tf.div(tf.sub(x, mean), std);
    });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), axis: this.axisArg ?? null, mean: this.meanArg, variance: this.varianceArg, invert: this.invert };
  }
}

tf.serialization.registerClass(KerasNormalization);
