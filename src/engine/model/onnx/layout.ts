// How ONNX values live inside the engine. The engine's kernels (fused convolutions, folded batch norms,
// our own gradients) are channels-last, so every rank-4 value is kept as NHWC: the ONNX tensor [N, C, H, W]
// transposed by [0, 2, 3, 1]. Values of any other rank are kept in ONNX order. Ops that depend on element
// order (Reshape, Flatten, Transpose, …) go back to ONNX order first, so that they give exactly PyTorch's
// element order.
import * as tf from '@tensorflow/tfjs-core';
import type { Const } from './tensors';

/** ONNX axis of a rank-4 value → its axis in the engine (C moves last). */
const TO_INTERNAL_AXIS = [0, 3, 1, 2];

export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

/** The engine's axis for ONNX axis `axis` of a value of rank `rank`. */
export function internalAxis(axis: number, rank: number): number {
  const a = normAxis(axis, rank);
  return rank === 4 ? TO_INTERNAL_AXIS[a] : a;
}

/** ONNX shape of a value from its engine shape. */
export function onnxShape(internal: number[]): number[] {
  return internal.length === 4 ? [internal[0], internal[3], internal[1], internal[2]] : [...internal];
}

/** Engine shape of a value from its ONNX shape. */
export function internalShape(onnx: number[]): number[] {
  return onnx.length === 4 ? [onnx[0], onnx[2], onnx[3], onnx[1]] : [...onnx];
}

/** An engine tensor in ONNX element order. */
export function toOnnx(t: tf.Tensor): tf.Tensor {
  return t.rank === 4 ? tf.transpose(t, [0, 3, 1, 2]) : t;
}

/** An ONNX-ordered tensor in the engine's layout. */
export function fromOnnx(t: tf.Tensor): tf.Tensor {
  return t.rank === 4 ? tf.transpose(t, [0, 2, 3, 1]) : t;
}

/** A constant as an engine tensor of rank `rank` (ONNX broadcasting: leading 1s added), float32. */
export function constTensor(c: Const, rank = c.shape.length): tf.Tensor {
  let shape = c.shape;
  while (shape.length > rank && shape[0] === 1) shape = shape.slice(1);
  if (shape.length > rank) throw new Error(`a constant of shape [${c.shape.join(', ')}] does not broadcast to rank ${rank}`);
  const full = [...new Array(rank - shape.length).fill(1), ...shape];
  return tf.tidy(() => fromOnnx(tf.tensor(Float32Array.from(c.data), full, 'float32')));
}
