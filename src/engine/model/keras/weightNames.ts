// Pairs the weight names of a TensorFlow.js manifest with the layers of its topology. TensorFlow.js loads a
// weight by the name "<layer>/<weight>" (the innermost layer's own name); a model converted from Keras 3
// names them by the layer's path in the model instead, with the enclosing model's name in front
// ("sequential_4/batch_normalization_8/gamma" for layer batch_normalization_8 of model sequential_4), and
// tfjs then reports that "the weights do not fit the layers". A name that is not a layer's weight is matched
// by dropping leading path parts, as long as every weight still finds a different layer weight.
import { fileError } from '../../errors';
import type { LayerPlan } from './topology';

function plannedNames(p: LayerPlan, out: Set<string>): void {
  if (p.children) for (const c of p.children) plannedNames(c, out);
  else for (const w of p.weights) out.add(w.name);
}

/**
 * The manifest's weight names matched to the plan's: a name the plan has stays, another one becomes the
 * plan name it ends with (after whole '/'-separated parts). Names that match nothing are kept (tfjs then
 * refuses the file naming them); two names matching one layer weight are refused here.
 */
export function matchWeightNames<T extends { name: string }>(specs: T[], plan: LayerPlan, file: string): T[] {
  const expected = new Set<string>();
  plannedNames(plan, expected);
  const exact = new Set(specs.map((s) => s.name).filter((n) => expected.has(n)));
  const taken = new Map<string, string>();
  const out = specs.map((s) => {
    // A name that is not a string is left to the manifest checks (found by fuzzing: it reached .split()).
    if (typeof s.name !== 'string' || exact.has(s.name)) return s;
    const parts = s.name.split('/');
    for (let k = 1; k <= parts.length - 2; k++) {
      const candidate = parts.slice(k).join('/');
      if (!expected.has(candidate) || exact.has(candidate)) continue;
      const other = taken.get(candidate);
      if (other !== undefined) throw fileError(file, `weights '${other}' and '${s.name}' both belong to layer weight '${candidate}' (two layers of nested models share a name)`);
      taken.set(candidate, s.name);
      return { ...s, name: candidate };
    }
    return s;
  });
  return out;
}
