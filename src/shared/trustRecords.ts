// The records of the trust measurements (faithfulness curves, the randomization sanity check) as plain
// data. The engine computes them once; the CLI table, its --json, the --plot/--out PNGs and the explain
// panel's Compare and Sanity views are renderings of these same records. No tfjs, DOM or vscode here.
import { methodTitle } from './methods';

/** What deleted pixels become (and what inserted pixels are taken into). */
export type PerturbationBaseline = 'black' | 'blur' | 'mean';
export const PERTURBATION_BASELINES: readonly PerturbationBaseline[] = ['black', 'blur', 'mean'];

export const DEFAULT_CURVE_STEPS = 50;

/** One perturbation curve: the class probability at k = 0 … N, and its normalized area. */
export interface CurveRecord {
  /** Trapezoid rule over the N+1 points, divided by N (so in [0, 1]). */
  auc: number;
  /** N+1 probabilities; point k has the top round(k·H·W/N) pixels deleted (or inserted). */
  curve: number[];
}

/** Both curves for one importance map. Lower deletion AUC and higher insertion AUC are better. */
export interface FaithfulnessRecord {
  deletion: CurveRecord;
  insertion: CurveRecord;
}

export interface MethodFaithfulness extends FaithfulnessRecord {
  method: string;
  /** Target layer of a layer method (qualified path), else null. */
  layer: string | null;
  /** Time of the map plus both curves, ms. */
  ms: number;
}

/** A method that could not run on this model (e.g. CAM without global average pooling). */
export interface MethodSkipped {
  method: string;
  skipped: string;
}

export interface EvaluationRecord {
  model: string;
  image: string;
  class: { index: number; label: string; probability: number };
  steps: number;
  baseline: PerturbationBaseline;
  methods: (MethodFaithfulness | MethodSkipped)[];
  /** The same curves for a seeded random map, for context. */
  random: FaithfulnessRecord & { seed: number };
}

export function isSkipped(m: MethodFaithfulness | MethodSkipped): m is MethodSkipped {
  return (m as MethodSkipped).skipped !== undefined;
}

/** One stage of the cascading randomization: `layer` and every layer after it are random. */
export interface SanityStage {
  layer: string;
  /** Spearman rank correlation between the original and this stage's map (0 when either map is constant). */
  spearman: number;
  /** Mean SSIM over 7×7 windows (smaller maps: one window of the map's size), maps in [0, 1]. */
  ssim: number;
}

export interface SanityRecord {
  model: string;
  image: string;
  method: string;
  layer: string | null;
  class: { index: number; label: string };
  seed: number;
  /** In the order randomized: the output layer first. */
  stages: SanityStage[];
}

/** Spearman above this at the last stage: the map does not depend on the model's weights. */
export const SANITY_THRESHOLD = 0.5;

/** The verdict in words, the same sentence in the CLI and the panel. */
export function sanityVerdict(r: Pick<SanityRecord, 'method' | 'stages'>): { passed: boolean; sentence: string } {
  const name = methodTitle(r.method);
  const last = r.stages[r.stages.length - 1];
  if (!last) return { passed: false, sentence: `No layer with weights to randomize: the sanity check cannot say whether ${name} depends on the model.` };
  const rho = last.spearman.toFixed(2);
  if (last.spearman > SANITY_THRESHOLD) {
    return {
      passed: false,
      sentence: `${name} fails the sanity check: with every weighted layer randomized its map still correlates with the original (Spearman ${rho} > ${SANITY_THRESHOLD}), so it is not explaining the model; it shows something else, such as the image's edges.`,
    };
  }
  return {
    passed: true,
    sentence: `${name} passes the sanity check: randomizing the model's weights changes its map (Spearman ${rho} at the last stage, at most ${SANITY_THRESHOLD}), so the map depends on what the model learned.`,
  };
}
