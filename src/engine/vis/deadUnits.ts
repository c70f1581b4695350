// Telling a dead or input-independent unit from a visualization that worked. A ReLU channel whose
// pre-activation is negative for every input (a "dead ReLU") stays 0 whatever the optimization does, and a
// channel whose kernel is all zero is a constant: gradient ascent then ends on its starting noise, and without
// a word the user sees "mean activation 0.000" and a gray tile. After the run the unit is read on the result
// and on probe images far apart (black, white, mid-gray, uniform noise); if it is 0 on all of them it is dead,
// if it is the same nonzero value on all of them it does not depend on the input.
import * as tf from '@tensorflow/tfjs-core';
import type { Network } from '../model/network';
import type { Objective } from './objectives';
import { pixelsToModel } from './optimize';
import type { InputSpace } from './space';

interface ProbeSpec {
  net: Network;
  space: InputSpace;
  objective: Objective;
  modelSize?: [number, number] | null;
  param: { height: number; width: number; channels: number };
}

/** Below this a mean activation counts as 0 (float32 noise of an exact zero is far smaller). */
const ZERO = 1e-7;

function probeImages(h: number, w: number, c: number): tf.Tensor4D[] {
  // Noise from a fixed integer hash, so the probe does not depend on any random state.
  const noise = new Float32Array(h * w * c);
  for (let i = 0; i < noise.length; i++) noise[i] = ((Math.imul(i + 1, 2654435761) >>> 0) % 1000) / 999;
  return [tf.zeros([1, h, w, c]), tf.ones([1, h, w, c]), tf.fill([1, h, w, c], 0.5), tf.tensor4d(noise, [1, h, w, c])];
}

/** The objective's value for each probe image (pixels in [0, 1]). */
export function probeValues(spec: ProbeSpec): number[] {
  const { height: h, width: w, channels: c } = spec.param;
  return tf.tidy(() =>
    probeImages(h, w, c).map((pix) => {
      const x = pixelsToModel(spec.space, spec.modelSize, pix);
      const run = spec.net.run(x, { taps: spec.objective.taps, logits: spec.objective.logits });
      return spec.objective.score(run, x).dataSync()[0];
    }),
  );
}

/**
 * `{dead, flat, note}` for a unit whose value is 0 (dead) or one constant (flat) on the optimized image and
 * every probe; null when it responds to the image. `label` names it ("channel 5 of conv3").
 */
export function degenerateUnit(spec: ProbeSpec, value: number, label: string, beforeRelu: boolean): { dead: boolean; flat: boolean; note: string } | null {
  const values = [value, ...probeValues(spec)];
  const largest = Math.max(...values.map(Math.abs));
  if (largest <= ZERO) {
    const tried = beforeRelu ? ' (its pre-activation was optimized too and never turned positive)' : '';
    return { dead: true, flat: false, note: `${label} does not activate for any input tried: a dead unit${tried}; the image shows nothing it responds to` };
  }
  const spread = Math.max(...values) - Math.min(...values);
  if (spread <= 1e-6 * Math.max(1, largest)) {
    return { dead: false, flat: true, note: `${label} has the same value (${+value.toPrecision(3)}) for every input tried: it does not depend on the image, so there is nothing to visualize` };
  }
  return null;
}
