// What a visualization panel says about the steps of its run. Deep Dream's subtitle and the progress line
// come from what the engine reports (its dreamPlan event and progress messages), not from the defaults the
// panel asked with: CNN_LENS_MAX_STEPS may cap the steps. The panel's status and the progress notification
// show the same line.

/** Deep Dream's steps as the engine runs them (its dreamPlan event). */
export interface DreamSteps {
  octaves: number;
  /** Steps per octave as run. */
  steps: number;
  /** Steps per octave asked for, before the cap. */
  stepsAsked: number;
}

/** "4 octaves of 16 steps (20 asked; capped by CNN_LENS_MAX_STEPS)". */
export function dreamStepsText(plan: DreamSteps): string {
  const capped = plan.steps < plan.stepsAsked ? ` (${plan.stepsAsked} asked; capped by CNN_LENS_MAX_STEPS)` : '';
  return `${plan.octaves} octave${plan.octaves === 1 ? '' : 's'} of ${plan.steps} step${plan.steps === 1 ? '' : 's'}${capped}`;
}

/** "Step 47 of 64", with "· octave 3 of 4" when the run has octaves (steps done so far: 1-based). */
export function stepLine(done: number, total: number, plan: DreamSteps | null): string {
  const base = `Step ${done} of ${total}`;
  if (!plan || plan.octaves < 2 || plan.steps < 1 || plan.octaves * plan.steps !== total) return base;
  const octave = Math.min(plan.octaves, Math.max(1, Math.ceil(done / plan.steps)));
  return `${base} · octave ${octave} of ${plan.octaves}`;
}
