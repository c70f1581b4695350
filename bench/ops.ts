// The benchmarked operations. Attribution methods go through explain() exactly as the CLI and the
// extension call it (so each includes ranking the classes); the feature-visualization steps are the
// engine's own dream() and maximize() asked for one step.
import * as tf from '@tensorflow/tfjs-core';
import { explain } from '../src/engine/explain';
import type { LoadedModel } from '../src/engine/model/loadModel';
import type { MethodName, MethodOptions } from '../src/engine/methods';
import { dream, maximize } from '../src/engine/vis';

export const OP_NAMES = [
  'forward', 'gradcam', 'gradcam++', 'xgradcam', 'layercam', 'hirescam', 'eigencam', 'saliency', 'input-x-gradient', 'guided-backprop', 'deconvnet',
  'smoothgrad', 'integrated-gradients', 'ablationcam', 'scorecam-64', 'scorecam', 'occlusion', 'rise', 'deepdream-step', 'actmax-step',
] as const;
export type OpName = (typeof OP_NAMES)[number];

export const OP_TITLES: Record<OpName, string> = {
  forward: 'forward',
  gradcam: 'Grad-CAM',
  'gradcam++': 'Grad-CAM++',
  xgradcam: 'XGrad-CAM',
  layercam: 'LayerCAM',
  hirescam: 'HiResCAM',
  eigencam: 'Eigen-CAM',
  saliency: 'saliency',
  'input-x-gradient': 'input × gradient',
  'guided-backprop': 'guided backprop',
  deconvnet: 'deconvnet',
  ablationcam: 'Ablation-CAM',
  'scorecam-64': 'Score-CAM (64 channels)',
  scorecam: 'Score-CAM (all channels)',
  occlusion: 'occlusion (patch 28, stride 14)',
  rise: 'RISE (2000 masks)',
  smoothgrad: 'SmoothGrad (25)',
  'integrated-gradients': 'integrated gradients (64)',
  'deepdream-step': 'DeepDream step',
  'actmax-step': 'activation-max step',
};

/** The sampling methods: one run is many gradients, so they get fewer repetitions. */
export const HEAVY_OPS: ReadonlySet<OpName> = new Set(['smoothgrad', 'integrated-gradients', 'ablationcam', 'scorecam-64', 'scorecam', 'occlusion', 'rise']);

/**
 * Perturbation runs that take minutes on the larger models run only on the model of their target (issue 13):
 * full Score-CAM is 512–2048 forward passes, RISE 2000.
 */
export const ONLY_ON: Partial<Record<OpName, readonly string[]>> = {
  scorecam: ['vgg16'],
  'scorecam-64': ['mobilenetv2'],
  occlusion: ['mobilenetv2'],
  rise: ['mobilenetv2'],
  ablationcam: ['mobilenetv2', 'vgg16'],
};

export interface OpSetup {
  /** Runs the operation once, to completion (results read back to JS). */
  run: () => void;
  /** What exactly is timed, when it is not obvious from the name. */
  note?: string;
}

/** A deterministic test image in the model's input space: smooth colour ramps plus seeded noise, in [-1, 1]. */
export function benchInput(model: LoadedModel): tf.Tensor4D {
  const { height: H, width: W, channels: C } = model.inputSize;
  const d = new Float32Array(H * W * C);
  let s = 12345;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      for (let c = 0; c < C; c++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        const ramp = c === 0 ? x / W : c === 1 ? y / H : (x + y) / (W + H);
        d[(y * W + x) * C + c] = Math.max(-1, Math.min(1, 2 * ramp - 1 + 0.2 * ((s >>> 8) / 16777216 - 0.5)));
      }
    }
  }
  return tf.tensor4d(d, [1, H, W, C]);
}

export function setupOp(op: OpName, model: LoadedModel, x: tf.Tensor, classIndex: number, options: Partial<MethodOptions> = {}): OpSetup {
  const net = model.network!;
  const method = (m: MethodName): OpSetup => ({ run: () => void explain(model, x, { method: m, classes: [classIndex], options }) });
  switch (op) {
    case 'forward':
      return {
        run: () => {
          const logits = net.logits(x);
          logits.dataSync();
          logits.dispose();
        },
      };
    case 'gradcam':
    case 'gradcam++':
    case 'xgradcam':
    case 'layercam':
    case 'hirescam':
    case 'eigencam':
    case 'saliency':
    case 'input-x-gradient':
    case 'guided-backprop':
    case 'deconvnet':
    case 'ablationcam':
    case 'scorecam':
    case 'rise':
      return method(op);
    case 'scorecam-64':
      return { run: () => void explain(model, x, { method: 'scorecam', classes: [classIndex], options: { ...options, maxChannels: 64 } }) };
    case 'occlusion':
      return { run: () => void explain(model, x, { method: 'occlusion', classes: [classIndex], options: { ...options, patch: 28, stride: 14 } }) };
    case 'smoothgrad':
      return method('smoothgrad');
    case 'integrated-gradients':
      return method('integrated-gradients');
    case 'deepdream-step': {
      const { height } = model.inputSize;
      return {
        note: `dream() with one octave of one step at ${height} px (with its setup and final evaluation)`,
        run: () => void dream(model, x, { octaves: 1, steps: 1, size: height }),
      };
    }
    case 'actmax-step': {
      const layer = net.defaultLayer()!;
      return {
        note: `maximize() of channel 0 at ${layer.path}, one step at its default size (with its setup and final evaluation)`,
        run: () => void maximize(model, { layer: layer.path, channel: 0, steps: 1 }),
      };
    }
  }
}
