// Whether a prediction is close to uniform: the sign that the pixels reached the model scaled differently
// from how it was trained (a model trained on 0–255 pixels given x/255 predicts near-uniformly, with an
// empty Grad-CAM map). Used beside the prediction by the CLI and the explain panel; nothing is switched.

/** Probabilities of every class (any order). */
export interface Spread {
  /** Entropy of the distribution divided by log(classes): 1 is uniform, 0 is one class. */
  normalizedEntropy: number;
  top: number;
  classes: number;
}

export function spreadOf(probabilities: ArrayLike<number>): Spread {
  const k = probabilities.length;
  let sum = 0;
  let top = 0;
  for (let i = 0; i < k; i++) {
    sum += probabilities[i];
    top = Math.max(top, probabilities[i]);
  }
  let h = 0;
  for (let i = 0; i < k; i++) {
    const p = probabilities[i] / (sum || 1);
    if (p > 0) h -= p * Math.log(p);
  }
  return { normalizedEntropy: k > 1 ? h / Math.log(k) : 0, top: top / (sum || 1), classes: k };
}

/** Close to uniform: entropy ≥ 90% of the uniform one (3+ classes), or a two-class top-1 under 55%. */
export function isNearUniform(s: Spread): boolean {
  if (s.classes < 2) return false;
  if (s.classes === 2) return s.top < 0.55;
  return s.normalizedEntropy >= 0.9;
}

/** One line for a near-uniform prediction; null when it is not. `others` are the presets to try. */
export function nearUniformNote(s: Spread, preset: string, others: readonly string[]): string | null {
  if (!isNearUniform(s)) return null;
  const pct = (p: number) => `${(p * 100).toFixed(p < 0.1 ? 1 : 0)}%`;
  return `the prediction is close to uniform (top-1 ${pct(s.top)} over ${s.classes} classes, chance ${pct(1 / s.classes)}): the pixels may not be scaled as the model was trained ('${preset}' now); try ${others.join(', ')}`;
}
