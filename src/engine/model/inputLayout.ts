// How a model's input tensor holds an image, read from its declared input shape, and the one conversion from
// the engine's image batches ([batch, H, W, C], channels last) to that layout. Every format's front end reads
// its input shape through imageInputLayout (tfjs layers and graph models, Keras files, ONNX), so the rule is
// the same everywhere:
//   [b, H, W, C] with C in {1, 3, 4}                 channels last (NHWC), the TensorFlow/Keras default
//   [b, C, H, W] with C in {1, 3} and W not in {1, 3, 4}   channels first (NCHW): PyTorch, and PyTorch models
//                                                    exported through ONNX → TensorFlow → TensorFlow.js
//   [b, H, W]                                        one grayscale channel without a channel axis (a Keras MLP
//                                                    whose first layer is Flatten, e.g. MNIST at [None, 28, 28])
//   [b, s²] with s ≥ 8                               a square grayscale image flattened row by row (an MLP fed
//                                                    x.view(-1, 784) in PyTorch or x.reshape(-1, 784) in tfjs)
// Where both 4-D readings fit ([1, 3, 32, 3]) channels last wins: it is what TensorFlow models use.
import * as tf from '@tensorflow/tfjs-core';
import { fileError } from '../errors';

export type InputLayout = 'NHWC' | 'NCHW' | 'HW' | 'FLAT';

export interface ImageInput {
  layout: InputLayout;
  height: number;
  width: number;
  /** 1 (grayscale), 3 (RGB) or 4 (RGBA); 1 for the HW and FLAT layouts. */
  channels: number;
}

/** Smallest side of a flattened square image ([b, s²]): shorter vectors are more likely features than pixels. */
const MIN_FLAT_SIDE = 8;

/** Largest model input side we run (an image classifier's input is rarely over 1024). */
export const MAX_INPUT_SIDE = 8192;

const IMAGE_CHANNELS = [1, 3, 4];

/** Words for a layout in `info` and messages. */
export function describeLayout(layout: InputLayout): string {
  if (layout === 'NCHW') return 'channels first (NCHW)';
  if (layout === 'HW') return 'no channel axis (one grayscale channel)';
  if (layout === 'FLAT') return 'flattened (a square grayscale image, row by row)';
  return 'channels last (NHWC)';
}

const known = (d: number | null | undefined): d is number => typeof d === 'number' && d > 0;

/**
 * The layout and image size of a model input shape (batch first; null or -1 for an unknown size).
 * Throws one line naming `file` when the shape is not an image batch.
 */
export function imageInputLayout(shape: readonly (number | null)[] | undefined | null, file: string): ImageInput {
  const dims = shape?.map((d) => (d === -1 ? null : d));
  const shown = JSON.stringify(shape);
  const side = dims?.length === 2 && known(dims[1]) ? Math.sqrt(dims[1]) : 0;
  const flatSquare = Number.isInteger(side) && side >= MIN_FLAT_SIDE && side <= MAX_INPUT_SIDE;
  if (!dims || (dims.length !== 4 && dims.length !== 3 && !flatSquare)) {
    throw fileError(file, `input shape ${shown} is not an image batch ([batch, height, width, channels], [batch, channels, height, width], [batch, height, width] or [batch, s²] for a flattened square grayscale image)`);
  }
  let out: ImageInput;
  if (dims.length === 2) {
    out = { layout: 'FLAT', height: side, width: side, channels: 1 };
  } else if (dims.length === 3) {
    out = { layout: 'HW', height: dims[1] as number, width: dims[2] as number, channels: 1 };
  } else {
    const [, a, b, c] = dims;
    const nhwc = known(c) && IMAGE_CHANNELS.includes(c);
    const nchw = !nhwc && known(a) && (a === 1 || a === 3) && known(c) && known(b);
    if (nchw) out = { layout: 'NCHW', height: b as number, width: c as number, channels: a as number };
    else out = { layout: 'NHWC', height: a as number, width: b as number, channels: c as number };
  }
  const { height: h, width: w, channels: ch } = out;
  if (!h || !w || !ch) throw fileError(file, `input shape ${shown} has an unknown height, width or channel count`);
  // Found by fuzzing: a negative or fractional size passed the checks below and reached tfjs as a RangeError.
  if (![h, w, ch].every((d) => Number.isSafeInteger(d) && d > 0)) throw fileError(file, `input shape ${shown} has a size that is not a positive whole number`);
  if (h > MAX_INPUT_SIDE || w > MAX_INPUT_SIDE) throw fileError(file, `input size ${h}×${w} is over the ${MAX_INPUT_SIDE}×${MAX_INPUT_SIDE} limit`);
  if (out.layout === 'NHWC' && !IMAGE_CHANNELS.includes(ch)) {
    throw fileError(file, `input shape ${shown} is not an image: its last axis has ${ch} channels and its second is not 1 or 3 either (expected 1 grayscale, 3 RGB or 4 RGBA channels, last or first)`);
  }
  return out;
}

/** An image batch [batch, H, W, C] in the model's layout (differentiable: gradients flow back through it). */
export function toInputLayout(x: tf.Tensor, layout: InputLayout): tf.Tensor {
  if (layout === 'NCHW') return tf.transpose(x, [0, 3, 1, 2]);
  if (layout === 'HW') return tf.reshape(x, x.shape.slice(0, 3));
  if (layout === 'FLAT') return tf.reshape(x, [x.shape[0], -1]);
  return x;
}
