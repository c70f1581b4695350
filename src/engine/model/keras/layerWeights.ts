// Which weights each layer class owns, in the order Keras creates (and saves) them, under the names
// TensorFlow.js layers gives them. tfjs matches loaded weights by name: "<layer name>/<weight>", where the
// layer name is the innermost layer's own name (a layer inside a nested model is not prefixed).
// test/unit/keras/layerWeights.test.ts checks every entry against the weights tfjs itself creates.

export interface OwnWeight {
  /** tfjs short name, e.g. "kernel", "moving_mean". */
  short: string;
  /** Created trainable (BatchNormalization's moving statistics are not). */
  trainable: boolean;
}

const t = (short: string): OwnWeight => ({ short, trainable: true });
const nt = (short: string): OwnWeight => ({ short, trainable: false });
const withBias = (cfg: any, ws: OwnWeight[]): OwnWeight[] => (cfg.use_bias === false ? ws : [...ws, t('bias')]);

/** Classes (after translation to tfjs) that own no weights. */
export const WEIGHTLESS = new Set([
  'InputLayer', 'Activation', 'Dropout', 'SpatialDropout1D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout',
  'Flatten', 'Reshape', 'Permute', 'RepeatVector', 'Masking',
  'MaxPooling1D', 'MaxPooling2D', 'MaxPooling3D', 'AveragePooling1D', 'AveragePooling2D', 'AveragePooling3D',
  'GlobalAveragePooling1D', 'GlobalAveragePooling2D', 'GlobalMaxPooling1D', 'GlobalMaxPooling2D',
  'ZeroPadding2D', 'Cropping2D', 'UpSampling2D',
  'Concatenate', 'Add', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Dot',
  'ReLU', 'LeakyReLU', 'ELU', 'Softmax', 'ThresholdedReLU',
  'Rescaling', 'Resizing', 'CenterCrop', 'CategoryEncoding',
]);

/**
 * The weights a (non-model) layer owns, in Keras' creation order, or null when we do not know the layout of
 * that class (the caller then refuses it, naming the layer). `cfg` is the Keras (snake_case) config.
 */
export function ownWeights(className: string, cfg: any): OwnWeight[] | null {
  if (WEIGHTLESS.has(className)) return [];
  switch (className) {
    case 'Dense':
    case 'Conv1D':
    case 'Conv2D':
    case 'Conv3D':
    case 'Conv2DTranspose':
    case 'Conv3DTranspose':
      return withBias(cfg, [t('kernel')]);
    case 'DepthwiseConv2D':
      return withBias(cfg, [t('depthwise_kernel')]);
    case 'SeparableConv2D':
      return withBias(cfg, [t('depthwise_kernel'), t('pointwise_kernel')]);
    case 'BatchNormalization':
      return [...(cfg.scale === false ? [] : [t('gamma')]), ...(cfg.center === false ? [] : [t('beta')]), nt('moving_mean'), nt('moving_variance')];
    case 'LayerNormalization':
      return [...(cfg.scale === false ? [] : [t('gamma')]), ...(cfg.center === false ? [] : [t('beta')])];
    case 'Embedding':
      return [t('embeddings')];
    case 'PReLU':
      return [t('alpha')];
    case 'SimpleRNN':
    case 'LSTM':
    case 'GRU':
      return withBias(cfg, [t('kernel'), t('recurrent_kernel')]);
    case 'Normalization':
      // Our registered layer (normalizationLayer.ts): statistics stored as weights unless given in the config.
      return cfg.mean == null ? [nt('mean'), nt('variance')] : [];
    default:
      return null;
  }
}

/**
 * Where a layer's own arrays sit below its group in a Keras 3 weights file, when not in "<group>/vars":
 * recurrent layers keep them in their cell.
 */
export function keras3VarsPath(className: string): string {
  return className === 'SimpleRNN' || className === 'LSTM' || className === 'GRU' ? 'cell/vars' : 'vars';
}

/** Arrays Keras stores after the ones tfjs uses and that are ignored (Keras 2 Normalization's `count`). */
export function ignoredTrailingArrays(className: string): number {
  return className === 'Normalization' ? 1 : 0;
}

/** Expected shape facts to catch arrays matched to the wrong weight; null when nothing is checked. */
export function shapeProblem(className: string, cfg: any, short: string, shape: number[]): string | null {
  const units = className === 'Dense' ? cfg.units : /^Conv[123]D$/.test(className) ? cfg.filters : undefined;
  if (typeof units === 'number') {
    if (short === 'bias' && (shape.length !== 1 || shape[0] !== units)) return `bias has shape [${shape}], expected [${units}]`;
    if (short === 'kernel' && shape[shape.length - 1] !== units) return `kernel has shape [${shape}], its last dimension should be ${units}`;
  }
  const rank: Record<string, number> = { Dense: 2, Conv1D: 3, Conv2D: 4, Conv3D: 5, Conv2DTranspose: 4, Conv3DTranspose: 5, DepthwiseConv2D: 4, SeparableConv2D: 4 };
  if (/kernel$/.test(short) && rank[className] !== undefined && shape.length !== rank[className]) return `${short} has ${shape.length} dimensions, expected ${rank[className]}`;
  if (className === 'BatchNormalization' && shape.length !== 1) return `${short} has shape [${shape}], expected a vector`;
  return null;
}
