import * as assert from 'node:assert/strict';
import { dreamStepsText, stepLine } from '../../../src/shared/visProgress';

describe('shared/visProgress: what a visualization panel and its notification say about the steps', () => {
  it('dreamStepsText: the steps as run, and what was asked when the cap cut them', () => {
    assert.equal(dreamStepsText({ octaves: 4, steps: 16, stepsAsked: 20 }), '4 octaves of 16 steps (20 asked; capped by CNN_LENS_MAX_STEPS)');
    assert.equal(dreamStepsText({ octaves: 4, steps: 20, stepsAsked: 20 }), '4 octaves of 20 steps');
    assert.equal(dreamStepsText({ octaves: 1, steps: 1, stepsAsked: 1 }), '1 octave of 1 step');
  });

  it('stepLine: the octave of every step, as a loop over octaves and their steps counts it', () => {
    const plan = { octaves: 4, steps: 16, stepsAsked: 20 };
    let done = 0;
    for (let octave = 1; octave <= plan.octaves; octave++) {
      for (let s = 1; s <= plan.steps; s++) {
        done++;
        assert.equal(stepLine(done, 64, plan), `Step ${done} of 64 · octave ${octave} of 4`);
      }
    }
  });

  it('stepLine: no octave without a plan, with one octave, or when the total is not the plan\'s', () => {
    assert.equal(stepLine(47, 64, null), 'Step 47 of 64');
    assert.equal(stepLine(3, 16, { octaves: 1, steps: 16, stepsAsked: 16 }), 'Step 3 of 16');
    assert.equal(stepLine(3, 80, { octaves: 4, steps: 16, stepsAsked: 20 }), 'Step 3 of 80');
  });
});
