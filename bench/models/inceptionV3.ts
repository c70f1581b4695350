// InceptionV3 (Szegedy et al. 2015) as keras.applications builds it: every convolution is conv (no
// bias) → batch norm without scale → ReLU; a stem of five convolutions and two max pools, mixed0–mixed10
// (35×35, 17×17 with factorized 7×7, 8×8 with split 1×3/3×1 branches), global average pooling and a
// 1000-way softmax. 23.9 M weights; input 299×299×3.
import * as tfl from '@tensorflow/tfjs-layers';
import { seededInits, type SeededInits } from './seeded';

type T = tfl.SymbolicTensor;

class Builder {
  private n = 0;
  constructor(private readonly init: SeededInits) {}

  /** conv2d_bn of keras.applications.inception_v3. */
  cbn(x: T, filters: number, rows: number, cols: number, padding: 'same' | 'valid' = 'same', strides = 1, name?: string): T {
    const i = this.n++;
    const conv = tfl.layers.conv2d({ filters, kernelSize: [rows, cols], strides, padding, useBias: false, kernelInitializer: this.init.kernel, name: name ? name + '_conv' : `conv2d_${i}` }).apply(x) as T;
    const bn = tfl.layers.batchNormalization({ axis: 3, scale: false, epsilon: 1e-3, betaInitializer: this.init.beta, movingMeanInitializer: this.init.movingMean, movingVarianceInitializer: this.init.movingVariance, name: name ? name + '_bn' : `batch_normalization_${i}` }).apply(conv) as T;
    return tfl.layers.activation({ activation: 'relu', name: name ?? `activation_${i}` }).apply(bn) as T;
  }
}

function concat(xs: T[], name: string): T {
  return tfl.layers.concatenate({ axis: 3, name }).apply(xs) as T;
}

function avgPool3(x: T, name: string): T {
  return tfl.layers.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same', name }).apply(x) as T;
}

function maxPool3s2(x: T, name: string): T {
  return tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, name }).apply(x) as T;
}

export function buildInceptionV3(seed = 3, size = 299, classes = 1000): tfl.LayersModel {
  const init = seededInits(seed);
  const b = new Builder(init);
  const input = tfl.input({ shape: [size, size, 3], name: 'input_1' });
  let x = b.cbn(input, 32, 3, 3, 'valid', 2);
  x = b.cbn(x, 32, 3, 3, 'valid');
  x = b.cbn(x, 64, 3, 3);
  x = maxPool3s2(x, 'max_pooling2d_0');
  x = b.cbn(x, 80, 1, 1, 'valid');
  x = b.cbn(x, 192, 3, 3, 'valid');
  x = maxPool3s2(x, 'max_pooling2d_1');

  // mixed0–2: 35×35×256/288/288
  for (let i = 0; i < 3; i++) {
    const b1 = b.cbn(x, 64, 1, 1);
    const b5 = b.cbn(b.cbn(x, 48, 1, 1), 64, 5, 5);
    const b3 = b.cbn(b.cbn(b.cbn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3);
    const bp = b.cbn(avgPool3(x, `average_pooling2d_${i}`), i === 0 ? 32 : 64, 1, 1);
    x = concat([b1, b5, b3, bp], `mixed${i}`);
  }
  // mixed3: 17×17×768
  {
    const b3 = b.cbn(x, 384, 3, 3, 'valid', 2);
    const bd = b.cbn(b.cbn(b.cbn(x, 64, 1, 1), 96, 3, 3), 96, 3, 3, 'valid', 2);
    const bp = maxPool3s2(x, 'max_pooling2d_2');
    x = concat([b3, bd, bp], 'mixed3');
  }
  // mixed4–7: 17×17×768 with factorized 7×7
  [128, 160, 160, 192].forEach((c, i) => {
    const b1 = b.cbn(x, 192, 1, 1);
    const b7 = b.cbn(b.cbn(b.cbn(x, c, 1, 1), c, 1, 7), 192, 7, 1);
    let bd = b.cbn(x, c, 1, 1);
    bd = b.cbn(bd, c, 7, 1);
    bd = b.cbn(bd, c, 1, 7);
    bd = b.cbn(bd, c, 7, 1);
    bd = b.cbn(bd, 192, 1, 7);
    const bp = b.cbn(avgPool3(x, `average_pooling2d_${3 + i}`), 192, 1, 1);
    x = concat([b1, b7, bd, bp], `mixed${4 + i}`);
  });
  // mixed8: 8×8×1280
  {
    const b3 = b.cbn(b.cbn(x, 192, 1, 1), 320, 3, 3, 'valid', 2);
    let b7 = b.cbn(x, 192, 1, 1);
    b7 = b.cbn(b7, 192, 1, 7);
    b7 = b.cbn(b7, 192, 7, 1);
    b7 = b.cbn(b7, 192, 3, 3, 'valid', 2);
    const bp = maxPool3s2(x, 'max_pooling2d_3');
    x = concat([b3, b7, bp], 'mixed8');
  }
  // mixed9–10: 8×8×2048
  for (let i = 0; i < 2; i++) {
    const b1 = b.cbn(x, 320, 1, 1);
    const b3 = b.cbn(x, 384, 1, 1);
    const b3s = concat([b.cbn(b3, 384, 1, 3), b.cbn(b3, 384, 3, 1)], `mixed9_${i}`);
    let bd = b.cbn(x, 448, 1, 1);
    bd = b.cbn(bd, 384, 3, 3);
    const bds = concat([b.cbn(bd, 384, 1, 3), b.cbn(bd, 384, 3, 1)], `concatenate_${i}`);
    const bp = b.cbn(avgPool3(x, `average_pooling2d_${7 + i}`), 192, 1, 1);
    x = concat([b1, b3s, bds, bp], `mixed${9 + i}`);
  }
  x = tfl.layers.globalAveragePooling2d({ name: 'avg_pool' }).apply(x) as T;
  x = tfl.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: init.kernel, biasInitializer: init.bias, name: 'predictions' }).apply(x) as T;
  return tfl.model({ inputs: input, outputs: x, name: 'inception_v3' });
}
