// VGG16 (Simonyan & Zisserman 2014, configuration D) as Keras names it: five blocks of 3×3 'same'
// convolutions with ReLU and 2×2 max pooling, then fc1/fc2 (4096, ReLU) and a 1000-way softmax.
// 138.4 M weights; input 224×224×3.
import * as tfl from '@tensorflow/tfjs-layers';
import { seededInits } from './seeded';

const BLOCKS: number[][] = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]];

export function buildVgg16(seed = 16, size = 224, classes = 1000): tfl.LayersModel {
  const init = seededInits(seed);
  const input = tfl.input({ shape: [size, size, 3], name: 'input_1' });
  let x = input;
  BLOCKS.forEach((filters, b) => {
    filters.forEach((f, i) => {
      x = tfl.layers.conv2d({ filters: f, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init.kernel, biasInitializer: init.bias, name: `block${b + 1}_conv${i + 1}` }).apply(x) as tfl.SymbolicTensor;
    });
    x = tfl.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `block${b + 1}_pool` }).apply(x) as tfl.SymbolicTensor;
  });
  x = tfl.layers.flatten({ name: 'flatten' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.dense({ units: 4096, activation: 'relu', kernelInitializer: init.kernel, biasInitializer: init.bias, name: 'fc1' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.dense({ units: 4096, activation: 'relu', kernelInitializer: init.kernel, biasInitializer: init.bias, name: 'fc2' }).apply(x) as tfl.SymbolicTensor;
  x = tfl.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: init.kernel, biasInitializer: init.bias, name: 'predictions' }).apply(x) as tfl.SymbolicTensor;
  return tfl.model({ inputs: input, outputs: x, name: 'vgg16' });
}
