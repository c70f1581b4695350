// The Compare view's messages from the page are untrusted: parsed field by field. The best cell of a row
// is the one with the largest insertion − deletion AUC, ignoring unscored cells.
import { strict as assert } from 'node:assert';
import { bestInRow, parseCompareView, parseFromTrustView } from '../../../src/shared/compareProtocol';
import { defaultCompareState } from '../../../src/shared/compareProtocol';
import { parseExplainPanelState, type ExplainViewOptions } from '../../../src/shared/explainProtocol';
import { sanityVerdict } from '../../../src/shared/trustRecords';

describe('trust: the Compare and Sanity messages', () => {
  it('parses the page messages and drops bad fields', () => {
    assert.deepEqual(parseFromTrustView({ type: 'compare.score' }), { type: 'compare.score' });
    assert.deepEqual(parseFromTrustView({ type: 'sanity.run', extra: 1 }), { type: 'sanity.run' });
    assert.equal(parseFromTrustView({ type: 'setOptions' }), null, "the explain panel's own messages are not ours");
    assert.equal(parseFromTrustView('compare.save'), null);
    assert.deepEqual(parseFromTrustView({ type: 'compare.setView', view: { tab: 'compare', topK: 99, methods: ['gradcam', 3] } }), { type: 'compare.setView', view: { tab: 'compare' } });
    assert.deepEqual(parseCompareView({ topK: 4, methods: ['a', 'a', 'b'], tab: 'x' }), { topK: 4, methods: ['a', 'b'] });
  });

  it('keeps the Compare choices in a revived panel state, and only when there were some', () => {
    const d: ExplainViewOptions = { method: 'gradcam', layer: null, colormap: 'viridis', preprocess: 'auto', opacity: 0.5, layout: 'overlay', classIndex: null };
    assert.equal(parseExplainPanelState({ image: '/a.png', model: '/m.json' }, d)?.compare, undefined);
    assert.deepEqual(parseExplainPanelState({ image: '/a.png', model: '/m.json', compare: { tab: 'compare', topK: 0 } }, d)?.compare, { ...defaultCompareState(), tab: 'compare' });
  });

  it('bestInRow: largest insertion − deletion among scored cells', () => {
    const cells = [
      { id: 'a', scores: { deletion: 0.1, insertion: 0.5 } }, // 0.4
      { id: 'b', scores: null },
      { id: 'c', scores: { deletion: 0.3, insertion: 0.8 } }, // 0.5
      { id: 'd', scores: { deletion: 0.05, insertion: 0.5 } }, // 0.45
    ];
    assert.equal(bestInRow(cells)?.id, 'c');
    assert.equal(bestInRow([{ scores: null }]), null);
  });

  it('the verdict: above 0.5 at the last stage fails, otherwise passes; no stages says so', () => {
    const st = (rho: number) => ({ layer: 'l', spearman: rho, ssim: 0 });
    assert.equal(sanityVerdict({ method: 'm', stages: [st(0.9), st(0.51)] }).passed, false);
    assert.match(sanityVerdict({ method: 'm', stages: [st(0.9), st(0.51)] }).sentence, /m fails the sanity check.*0\.51 > 0\.5/);
    assert.equal(sanityVerdict({ method: 'm', stages: [st(0.9), st(0.5)] }).passed, true);
    assert.match(sanityVerdict({ method: 'm', stages: [] }).sentence, /No layer with weights/);
  });
});
