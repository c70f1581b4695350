// MobileNetV2 (Sandler et al. 2018) as Keras builds it (width multiplier α, layer names as in
// keras.applications): a stride-2 3×3 stem, 17 inverted-residual blocks (expand 1×1 → depthwise 3×3 →
// project 1×1, ReLU6, batch norm after every convolution, a residual add when shapes allow), a 1×1
// convolution to 1280 channels, global average pooling and a 1000-way softmax. α = 1: 3.5 M weights.
import * as tfl from '@tensorflow/tfjs-layers';
import { seededInits, type SeededInits } from './seeded';

type T = tfl.SymbolicTensor;

/** Channels rounded to a multiple of 8, never more than 10% below the exact value (the paper's rule). */
function makeDivisible(v: number, divisor = 8): number {
  let n = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (n < 0.9 * v) n += divisor;
  return n;
}

/** Keras pads stride-2 convolutions explicitly: one pixel before and after when the size is even (kernel 3). */
function correctPad(size: number, kernel: number): [[number, number], [number, number]] {
  const adjust = size % 2 === 0 ? 1 : 0;
  const c = Math.floor(kernel / 2);
  return [[c - adjust, c], [c - adjust, c]];
}

function bn(x: T, name: string, init: SeededInits): T {
  return tfl.layers.batchNormalization({ axis: -1, epsilon: 1e-3, momentum: 0.999, name, gammaInitializer: init.gamma, betaInitializer: init.beta, movingMeanInitializer: init.movingMean, movingVarianceInitializer: init.movingVariance }).apply(x) as T;
}

function relu6(x: T, name: string): T {
  return tfl.layers.reLU({ maxValue: 6, name }).apply(x) as T;
}

function invertedResidual(x: T, expansion: number, stride: number, alpha: number, filters: number, blockId: number, init: SeededInits): T {
  const inChannels = x.shape[3] as number;
  const pointwise = makeDivisible(filters * alpha);
  const prefix = blockId ? `block_${blockId}_` : 'expanded_conv_';
  let h = x;
  if (blockId) {
    h = tfl.layers.conv2d({ filters: expansion * inChannels, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: init.kernel, name: prefix + 'expand' }).apply(h) as T;
    h = relu6(bn(h, prefix + 'expand_BN', init), prefix + 'expand_relu');
  }
  if (stride === 2) h = tfl.layers.zeroPadding2d({ padding: correctPad(h.shape[1] as number, 3), name: prefix + 'pad' }).apply(h) as T;
  h = tfl.layers.depthwiseConv2d({ kernelSize: 3, strides: stride, useBias: false, padding: stride === 1 ? 'same' : 'valid', depthwiseInitializer: init.depthwise, name: prefix + 'depthwise' }).apply(h) as T;
  h = relu6(bn(h, prefix + 'depthwise_BN', init), prefix + 'depthwise_relu');
  h = tfl.layers.conv2d({ filters: pointwise, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: init.kernel, name: prefix + 'project' }).apply(h) as T;
  h = bn(h, prefix + 'project_BN', init);
  if (inChannels === pointwise && stride === 1) return tfl.layers.add({ name: prefix + 'add' }).apply([x, h]) as T;
  return h;
}

/** [expansion, channels, repeats, first stride] per stage. */
const STAGES: [number, number, number, number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

export function buildMobileNetV2(seed = 2, size = 224, alpha = 1.0, classes = 1000): tfl.LayersModel {
  const init = seededInits(seed);
  const input = tfl.input({ shape: [size, size, 3], name: 'input_1' });
  let x = tfl.layers.zeroPadding2d({ padding: correctPad(size, 3), name: 'Conv1_pad' }).apply(input) as T;
  x = tfl.layers.conv2d({ filters: makeDivisible(32 * alpha), kernelSize: 3, strides: 2, padding: 'valid', useBias: false, kernelInitializer: init.kernel, name: 'Conv1' }).apply(x) as T;
  x = relu6(bn(x, 'bn_Conv1', init), 'Conv1_relu');
  let blockId = 0;
  for (const [t, c, n, s] of STAGES) {
    for (let i = 0; i < n; i++) x = invertedResidual(x, t, i === 0 ? s : 1, alpha, c, blockId++, init);
  }
  const lastChannels = alpha > 1 ? makeDivisible(1280 * alpha) : 1280;
  x = tfl.layers.conv2d({ filters: lastChannels, kernelSize: 1, useBias: false, kernelInitializer: init.kernel, name: 'Conv_1' }).apply(x) as T;
  x = relu6(bn(x, 'Conv_1_bn', init), 'out_relu');
  x = tfl.layers.globalAveragePooling2d({ name: 'global_average_pooling2d' }).apply(x) as T;
  x = tfl.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: init.kernel, biasInitializer: init.bias, name: 'predictions' }).apply(x) as T;
  return tfl.model({ inputs: input, outputs: x, name: `mobilenetv2_${alpha.toFixed(2)}_${size}` });
}
