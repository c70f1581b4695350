import assert from 'node:assert/strict';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { ownWeights, WEIGHTLESS } from '../../../src/engine/model/keras/layerWeights';
import '../../../src/engine/model/keras/normalizationLayer';

// Every class the weight table knows is built by tfjs-layers itself from a Keras (snake_case) config; the
// weights tfjs creates must be exactly the ones the table names, with the same trainable flags.
const glorot = { class_name: 'GlorotUniform', config: { seed: null } };
const WEIGHTED: [string, Record<string, any>, number[], string?][] = [
  ['Dense', { units: 3 }, [5]],
  ['Dense', { units: 3, use_bias: false }, [5]],
  ['Conv1D', { filters: 2, kernel_size: [3] }, [8, 4]],
  ['Conv2D', { filters: 2, kernel_size: [3, 3] }, [8, 8, 3]],
  ['Conv2D', { filters: 2, kernel_size: [3, 3], use_bias: false }, [8, 8, 3]],
  ['Conv3D', { filters: 2, kernel_size: [2, 2, 2] }, [4, 4, 4, 2]],
  ['Conv2DTranspose', { filters: 2, kernel_size: [3, 3] }, [8, 8, 3]],
  ['Conv3DTranspose', { filters: 2, kernel_size: [2, 2, 2] }, [4, 4, 4, 2]],
  ['DepthwiseConv2D', { kernel_size: [3, 3], depth_multiplier: 2 }, [8, 8, 3]],
  ['SeparableConv2D', { filters: 4, kernel_size: [3, 3] }, [8, 8, 3]],
  ['BatchNormalization', {}, [8, 8, 3]],
  ['BatchNormalization', { center: false }, [8, 8, 3]],
  ['BatchNormalization', { scale: false }, [8, 8, 3]],
  ['LayerNormalization', {}, [6]],
  ['Embedding', { input_dim: 10, output_dim: 4 }, [5], 'int32'],
  ['PReLU', {}, [4]],
  ['SimpleRNN', { units: 3, recurrent_initializer: glorot }, [5, 4]],
  ['LSTM', { units: 3, recurrent_initializer: glorot }, [5, 4]],
  ['GRU', { units: 3, reset_after: false, recurrent_initializer: glorot }, [5, 4]],
  ['Normalization', { axis: -1, mean: null, variance: null }, [8, 8, 3]],
  ['Normalization', { axis: -1, mean: [1, 2, 3], variance: [1, 1, 1] }, [8, 8, 3]],
];

const SINGLE_INPUT_WEIGHTLESS: Record<string, [Record<string, any>, number[], string?]> = {
  Activation: [{ activation: 'relu' }, [4]],
  Dropout: [{ rate: 0.5 }, [4]],
  SpatialDropout1D: [{ rate: 0.5 }, [5, 4]],
  GaussianNoise: [{ stddev: 0.1 }, [4]],
  GaussianDropout: [{ rate: 0.1 }, [4]],
  AlphaDropout: [{ rate: 0.1 }, [4]],
  Flatten: [{}, [5, 4]],
  Reshape: [{ target_shape: [20] }, [5, 4]],
  Permute: [{ dims: [2, 1] }, [5, 4]],
  RepeatVector: [{ n: 2 }, [4]],
  Masking: [{ mask_value: 0 }, [5, 4]],
  MaxPooling1D: [{ pool_size: [2] }, [8, 4]],
  MaxPooling2D: [{ pool_size: [2, 2] }, [8, 8, 3]],
  MaxPooling3D: [{ pool_size: [2, 2, 2] }, [4, 4, 4, 2]],
  AveragePooling1D: [{ pool_size: [2] }, [8, 4]],
  AveragePooling2D: [{ pool_size: [2, 2] }, [8, 8, 3]],
  AveragePooling3D: [{ pool_size: [2, 2, 2] }, [4, 4, 4, 2]],
  GlobalAveragePooling1D: [{}, [8, 4]],
  GlobalAveragePooling2D: [{}, [8, 8, 3]],
  GlobalMaxPooling1D: [{}, [8, 4]],
  GlobalMaxPooling2D: [{}, [8, 8, 3]],
  ZeroPadding2D: [{ padding: [[1, 1], [1, 1]] }, [8, 8, 3]],
  Cropping2D: [{ cropping: [[1, 1], [1, 1]] }, [8, 8, 3]],
  UpSampling2D: [{ size: [2, 2] }, [8, 8, 3]],
  ReLU: [{}, [4]],
  LeakyReLU: [{ alpha: 0.3 }, [4]],
  ELU: [{ alpha: 1 }, [4]],
  Softmax: [{ axis: -1 }, [4]],
  ThresholdedReLU: [{ theta: 1 }, [4]],
  Rescaling: [{ scale: 0.5, offset: 0 }, [4]],
  Resizing: [{ height: 4, width: 4 }, [8, 8, 3]],
  CenterCrop: [{ height: 4, width: 4 }, [8, 8, 3]],
  CategoryEncoding: [{ num_tokens: 5, output_mode: 'multiHot' }, [3]],
};
const MERGES = ['Concatenate', 'Add', 'Multiply', 'Average', 'Maximum', 'Minimum', 'Dot'];

async function build(cls: string, cfg: Record<string, any>, shape: number[], dtype = 'float32'): Promise<tfl.layers.Layer> {
  const topology = {
    class_name: 'Sequential',
    config: { name: 'probe_model', layers: [{ class_name: 'InputLayer', config: { batch_input_shape: [null, ...shape], dtype, name: 'probe_in' } }, { class_name: cls, config: { name: 'probe', ...cfg } }] },
  };
  const model = await tfl.models.modelFromJSON({ modelTopology: topology } as any);
  return model.getLayer('probe');
}

describe('keras/layerWeights: the weight table agrees with tfjs-layers', function () {
  before(async () => {
    await initBackend('auto');
  });

  for (const [cls, cfg, shape, dtype] of WEIGHTED) {
    it(`${cls} ${JSON.stringify(cfg).slice(0, 60)}`, async () => {
      const layer = await build(cls, cfg, shape, dtype);
      const got = layer.weights.map((w) => `${w.originalName}:${w.trainable}`).sort();
      const want = (ownWeights(cls, cfg) ?? []).map((w) => `probe/${w.short}:${w.trainable}`).sort();
      assert.deepEqual(got, want);
    });
  }

  it('every class listed as weightless builds in tfjs without weights', async () => {
    for (const cls of WEIGHTLESS) {
      if (cls === 'InputLayer' || MERGES.includes(cls)) continue;
      const spec = SINGLE_INPUT_WEIGHTLESS[cls];
      assert.ok(spec, `no probe config for weightless class ${cls}`);
      const layer = await build(cls, spec[0], spec[1], spec[2]).catch((e: Error) => {
        throw new Error(`${cls}: ${e.message}`);
      });
      assert.equal(layer.weights.length, 0, `${cls} has weights in tfjs: ${layer.weights.map((w) => w.originalName)}`);
    }
    const a = tfl.input({ shape: [4] });
    const b = tfl.input({ shape: [4] });
    for (const cls of MERGES) {
      assert.ok(WEIGHTLESS.has(cls));
      const layer = cls === 'Dot' ? tfl.layers.dot({ axes: -1 }) : (tfl.layers as any)[cls.charAt(0).toLowerCase() + cls.slice(1)]({});
      layer.apply([a, b]);
      assert.equal(layer.weights.length, 0, cls);
    }
  });

  it('classes with an unknown layout are reported as such (not as weightless)', () => {
    assert.equal(ownWeights('Bidirectional', {}), null);
    assert.equal(ownWeights('TimeDistributed', {}), null);
    assert.equal(ownWeights('MultiHeadAttention', {}), null);
  });
});
