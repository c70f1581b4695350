// ResNet-50 as torchvision builds it (He et al. 2015, torchvision's "v1.5": the stride of a downsampling
// bottleneck is on its 3×3 convolution): a 7×7 stride-2 stem, a 3×3 stride-2 max pool, 3 + 4 + 6 + 3
// bottlenecks (1×1 → 3×3 → 1×1 ×4, batch norm after every convolution, a 1×1 projection shortcut where the
// shape changes), global average pooling and a 1000-way softmax. 25.6 M weights; input 224×224×3.
// PyTorch pads symmetrically (3 for the stem, 1 for 3×3 convolutions and the pool), which Keras's 'same'
// does not do at stride 2: those paddings are explicit ZeroPadding2D layers, so this model computes what the
// ONNX export of torchvision's resnet50 computes (bench/models/onnx.ts times the two side by side).
import * as tfl from '@tensorflow/tfjs-layers';
import { seededInits, type SeededInits } from './seeded';

type T = tfl.SymbolicTensor;

function bn(x: T, name: string, init: SeededInits): T {
  return tfl.layers.batchNormalization({ axis: -1, epsilon: 1e-5, name, gammaInitializer: init.gamma, betaInitializer: init.beta, movingMeanInitializer: init.movingMean, movingVarianceInitializer: init.movingVariance }).apply(x) as T;
}

function conv(x: T, filters: number, kernel: number, stride: number, name: string, init: SeededInits): T {
  const pad = (kernel - 1) / 2;
  let h = x;
  if (pad > 0 && stride > 1) h = tfl.layers.zeroPadding2d({ padding: pad, name: `${name}_pad` }).apply(h) as T;
  const padding = pad > 0 && stride === 1 ? 'same' : 'valid';
  return tfl.layers.conv2d({ filters, kernelSize: kernel, strides: stride, padding, useBias: false, kernelInitializer: init.kernel, name }).apply(h) as T;
}

function bottleneck(x: T, planes: number, stride: number, name: string, init: SeededInits): T {
  const inChannels = x.shape[3] as number;
  let h = tfl.layers.reLU({ name: `${name}_relu1` }).apply(bn(conv(x, planes, 1, 1, `${name}_conv1`, init), `${name}_bn1`, init)) as T;
  h = tfl.layers.reLU({ name: `${name}_relu2` }).apply(bn(conv(h, planes, 3, stride, `${name}_conv2`, init), `${name}_bn2`, init)) as T;
  h = bn(conv(h, planes * 4, 1, 1, `${name}_conv3`, init), `${name}_bn3`, init);
  const shortcut = stride !== 1 || inChannels !== planes * 4 ? bn(conv(x, planes * 4, 1, stride, `${name}_downsample`, init), `${name}_downsample_bn`, init) : x;
  const sum = tfl.layers.add({ name: `${name}_add` }).apply([h, shortcut]) as T;
  return tfl.layers.reLU({ name: `${name}_out` }).apply(sum) as T;
}

/** [bottlenecks, planes, first stride] per stage. */
const STAGES: [number, number, number][] = [
  [3, 64, 1],
  [4, 128, 2],
  [6, 256, 2],
  [3, 512, 2],
];

export function buildResNet50(seed = 50, size = 224, classes = 1000): tfl.LayersModel {
  const init = seededInits(seed);
  const input = tfl.input({ shape: [size, size, 3], name: 'input_1' });
  let x = conv(input, 64, 7, 2, 'conv1', init);
  x = tfl.layers.reLU({ name: 'relu' }).apply(bn(x, 'bn1', init)) as T;
  // Zero padding before the max pool equals PyTorch's -∞ padding here: its input is a ReLU's output (≥ 0).
  x = tfl.layers.zeroPadding2d({ padding: 1, name: 'maxpool_pad' }).apply(x) as T;
  x = tfl.layers.maxPooling2d({ poolSize: 3, strides: 2, name: 'maxpool' }).apply(x) as T;
  STAGES.forEach(([blocks, planes, stride], s) => {
    for (let b = 0; b < blocks; b++) x = bottleneck(x, planes, b === 0 ? stride : 1, `layer${s + 1}_${b}`, init);
  });
  x = tfl.layers.globalAveragePooling2d({ name: 'avgpool' }).apply(x) as T;
  x = tfl.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: init.kernel, biasInitializer: init.bias, name: 'fc' }).apply(x) as T;
  return tfl.model({ inputs: input, outputs: x, name: 'resnet50' });
}
