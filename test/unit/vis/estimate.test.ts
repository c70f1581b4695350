// The time estimate of activation maximization (issue 17 item 10): the arithmetic from a measured step,
// the measurement itself with an injected clock (no timed assertions), and how it is said.
import { strict as assert } from 'node:assert';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { initBackend } from '../../../src/engine/backend';
import { wrapLayersModel } from '../../../src/engine/model/loadModel';
import { estimateMaximize, measureStepMs } from '../../../src/engine/vis/estimate';
import { aboutDuration, estimateFrom, estimateText } from '../../../src/shared/runEstimate';

/** A clock that reads the given times in turn, counting its reads. */
function scriptedClock(times: number[]): { clock: () => number; reads: () => number } {
  let i = 0;
  return {
    clock: () => {
      if (i >= times.length) throw new Error(`the clock was read ${i + 1} times, ${times.length} scripted`);
      return times[i++];
    },
    reads: () => i,
  };
}

function tinyModel() {
  const model = tfl.sequential({
    layers: [
      tfl.layers.conv2d({ inputShape: [12, 12, 3], filters: 6, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c1' }),
      tfl.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', name: 'c2' }),
      tfl.layers.globalAveragePooling2d({ name: 'gap' }),
      tfl.layers.dense({ units: 2, name: 'out' }),
    ],
  });
  return wrapLayersModel(model, 'estimate.json');
}

describe('time estimate of activation maximization', () => {
  let savedCap: string | undefined;
  before(async () => {
    await initBackend('auto');
    savedCap = process.env.CNN_LENS_MAX_STEPS;
    delete process.env.CNN_LENS_MAX_STEPS;
  });
  after(() => {
    if (savedCap !== undefined) process.env.CNN_LENS_MAX_STEPS = savedCap;
  });

  it('arithmetic: measured ms per step × steps × batches of the range', () => {
    // 10 channels, 4 per batch: batches of 4, 4 and 2 → 3 batches of 64 steps at 40 ms.
    assert.deepEqual(estimateFrom(40, 64, 10, 4), { msPerStep: 40, steps: 64, channels: 10, batch: 4, batches: 3, ms: 7680 });
    // Fewer channels than a batch: one batch of them.
    assert.deepEqual(estimateFrom(25, 128, 3, 4), { msPerStep: 25, steps: 128, channels: 3, batch: 3, batches: 1, ms: 3200 });
    assert.equal(estimateFrom(2, 256, 1, 1).ms, 512);
  });

  it('measures the run\'s own steps: one warm-up step untimed, then two timed, with the injected clock', () => {
    const m = tinyModel();
    const c = scriptedClock([1000, 1070, 1150]);
    assert.equal(measureStepMs(m, { layer: 'c2', channel: 0, size: 12 }, 4, c.clock), (1150 - 1000) / 2);
    assert.equal(c.reads(), 3);
    // The pace is kept per model and run shape: asking again reads no clock (and runs no step).
    const again = scriptedClock([]);
    assert.equal(measureStepMs(m, { layer: 'c2', channel: 3, size: 12 }, 4, again.clock), 75);
    // Another batch size is another measurement (the model's own caches exist by now: count tensors).
    const numTensors = tf.memory().numTensors;
    const other = scriptedClock([0, 10, 30]);
    assert.equal(measureStepMs(m, { layer: 'c2', channel: 0, size: 12 }, 1, other.clock), 15);
    assert.equal(tf.memory().numTensors, numTensors, 'the measurement leaks no tensors');
    m.dispose();
  });

  it('estimateMaximize: the layer\'s default steps (64 for the first convolution, 128 after two) × batches × the measured step', () => {
    const m = tinyModel();
    // c1: 6 channels in batches of 4 and 2, 64 steps each, 30 ms a step.
    const e1 = estimateMaximize(m, { layer: 'c1', first: 0, last: 5, size: 12 }, scriptedClock([0, 30, 60]).clock);
    assert.deepEqual({ ...e1 }, { msPerStep: 30, steps: 64, channels: 6, batch: 4, batches: 2, ms: 30 * 64 * 2 });
    // c2 (two convolutions up to it): 128 steps; channels 1-3 in one batch of 3; (125 − 100) / 2 = 12.5 ms a step.
    const e2 = estimateMaximize(m, { layer: 'c2', first: 1, last: 3, size: 12 }, scriptedClock([100, 110, 125]).clock);
    assert.deepEqual({ ...e2 }, { msPerStep: 12.5, steps: 128, channels: 3, batch: 3, batches: 1, ms: 12.5 * 128 });
    // A class: one target, 256 steps (or the steps asked for).
    const e3 = estimateMaximize(m, { classIndex: 1, steps: 20, size: 12 }, scriptedClock([0, 4, 8]).clock);
    assert.deepEqual({ ...e3 }, { msPerStep: 4, steps: 20, channels: 1, batch: 1, batches: 1, ms: 80 });
    m.dispose();
  });

  it('says it as a person would, with what it was computed from', () => {
    assert.equal(aboutDuration(400), 'under 1 s');
    assert.equal(aboutDuration(40_400), 'about 40 s');
    assert.equal(aboutDuration(79_000), 'about 79 s');
    assert.equal(aboutDuration(150_000), 'about 3 min');
    assert.equal(estimateText(estimateFrom(620, 64, 4, 4)), 'about 40 s: 1 batch of 4 channels × 64 steps at 620 ms a step (timed on this model)');
    assert.equal(estimateText(estimateFrom(1500, 128, 16, 4)), 'about 13 min: 4 batches of 4 channels × 128 steps at 1.5 s a step (timed on this model)');
    assert.equal(estimateText(estimateFrom(2.5, 256, 1, 1)), 'under 1 s: 256 steps at 2.5 ms a step (timed on this model)');
    assert.equal(estimateText(estimateFrom(5, 256, 1, 1)), 'about 1 s: 256 steps at 5.0 ms a step (timed on this model)');
  });
});
