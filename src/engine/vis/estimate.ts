// How long an activation maximization (Visualize Filters, cnn-lens maximize) will take, said before it
// starts (issue 17 item 10: a first layer took 79 s without warning). Not a constant per model size: a few
// optimization steps of the run itself (its layer, image size and batch of channels) are timed on this
// model and backend, and multiplied by the run's steps and batches.
import { estimateFrom, type RunEstimate } from '../../shared/runEstimate';
import { CancelledError } from '../errors';
import type { LoadedModel } from '../model/loadModel';
import { DEFAULT_RANGE_BATCH, prepareMaximize, type MaximizeOptions } from './maximize';
import { optimize } from './optimize';

/** The first step warms the backend up (kernels compile, buffers are allocated): it is run, not timed. */
const WARMUP_STEPS = 1;
const TIMED_STEPS = 2;

/** Measured paces, per model, by what a step depends on (so asking again as the range is edited is free). */
const paces = new WeakMap<LoadedModel, Map<string, number>>();

/**
 * Times TIMED_STEPS optimization steps (after WARMUP_STEPS) of the run `options` describes, with `batch`
 * channels as rows, and returns milliseconds per step. `clock` is injectable for tests.
 */
export function measureStepMs(model: LoadedModel, options: MaximizeOptions, batch: number, clock: () => number = () => performance.now(), isCancelled?: () => boolean): number {
  const key = JSON.stringify([options.layer ?? null, options.neuron ? 'neuron' : options.classIndex !== undefined ? 'class' : 'channel', options.size ?? null, options.param ?? null, options.preprocess ?? null, batch]);
  let known = paces.get(model);
  const cached = known?.get(key);
  if (cached !== undefined) return cached;
  const setup = prepareMaximize(model, options);
  const marks: number[] = [];
  try {
    const rows = Array.from({ length: batch }, () => options.channel);
    const { spec, param } = setup.batchSpec(rows, {
      isCancelled,
      onStep: (step) => {
        if (step >= WARMUP_STEPS) marks.push(clock());
      },
    });
    try {
      optimize({ ...spec, steps: WARMUP_STEPS + TIMED_STEPS }).p.dispose();
    } finally {
      param.init.dispose();
      param.dispose();
    }
  } finally {
    setup.dispose();
  }
  if (marks.length !== TIMED_STEPS + 1) throw new CancelledError();
  const ms = (marks[TIMED_STEPS] - marks[0]) / TIMED_STEPS;
  if (!known) paces.set(model, (known = new Map()));
  known.set(key, ms);
  return ms;
}

/**
 * The estimate for maximizing channels first..last of a layer (or the single target of `options` when no
 * range is given), with the run's default steps and batching.
 */
export function estimateMaximize(
  model: LoadedModel,
  options: MaximizeOptions & { first?: number; last?: number; batch?: number },
  clock?: () => number,
  isCancelled?: () => boolean,
): RunEstimate {
  const range = options.first !== undefined && options.last !== undefined;
  const channels = range ? options.last! - options.first! + 1 : 1;
  const batch = range ? Math.max(1, Math.min(options.batch ?? DEFAULT_RANGE_BATCH, channels)) : 1;
  const o: MaximizeOptions = range ? { ...options, channel: options.first } : options;
  const setup = prepareMaximize(model, o);
  const steps = setup.steps;
  setup.dispose();
  return estimateFrom(measureStepMs(model, o, batch, clock, isCancelled), steps, channels, batch);
}
