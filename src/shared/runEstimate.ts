// A run's time estimate (activation maximization: Visualize Filters, cnn-lens maximize): the arithmetic
// from a measured step and how it is said, shared by the engine (src/engine/vis/estimate.ts measures the
// step), the panels and the CLI.

export interface RunEstimate {
  /** Milliseconds one optimization step of one batch took, measured on this model. */
  msPerStep: number;
  /** Steps per batch. */
  steps: number;
  /** Channels optimized (1 for a single target). */
  channels: number;
  /** Channels per batch, and batches. */
  batch: number;
  batches: number;
  /** The estimate: msPerStep × steps × batches. */
  ms: number;
}

/** Every batch takes `steps` steps at the measured pace; channels run `batch` at a time. */
export function estimateFrom(msPerStep: number, steps: number, channels: number, batch: number): RunEstimate {
  const b = Math.max(1, Math.min(batch, channels));
  const batches = Math.ceil(channels / b);
  return { msPerStep, steps, channels, batch: b, batches, ms: msPerStep * steps * batches };
}

/** A duration to come, as a person says it: "under 1 s", "about 40 s", "about 3 min". */
export function aboutDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 1) return 'under 1 s';
  if (s < 90) return `about ${Math.round(s)} s`;
  return `about ${Math.round(s / 60)} min`;
}

function pace(ms: number): string {
  return ms < 1000 ? `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** "about 40 s: 1 batch of 4 channels × 64 steps at 620 ms a step (timed on this model)". */
export function estimateText(e: RunEstimate): string {
  const what = e.channels > 1 ? `${e.batches} batch${e.batches === 1 ? '' : 'es'} of ${e.batch} channels × ${e.steps} steps` : `${e.steps} steps`;
  return `${aboutDuration(e.ms)}: ${what} at ${pace(e.msPerStep)} a step (timed on this model)`;
}
