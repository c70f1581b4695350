// Messages from webviews and the engine are untrusted: the parsers keep what the protocol allows and
// refuse the rest.
import * as assert from 'node:assert/strict';
import { parseEngineMessage, parseExplainPanelState, parseFromExplainView, parseFromModelBrowser, parseFromVisualizeView, parseVisJob, type ExplainViewOptions } from '../../../src/shared/protocol';

const DEFAULTS: ExplainViewOptions = { method: 'gradcam', layer: null, colormap: 'viridis', preprocess: 'auto', opacity: 0.5, layout: 'overlay', classIndex: null };

describe('protocol parsers', () => {
  it('explain panel: keeps valid options and drops wrong types and values', () => {
    const m = parseFromExplainView({ type: 'setOptions', options: { method: 'saliency', opacity: 2, layout: 'sideways', classIndex: -1, layer: 7, colormap: 'jet', extra: 'x' } });
    assert.deepEqual(m, { type: 'setOptions', options: { method: 'saliency', colormap: 'jet' } });
    assert.deepEqual(parseFromExplainView({ type: 'setOptions', options: { classIndex: 3, layer: null, opacity: 0 } }), { type: 'setOptions', options: { classIndex: 3, layer: null, opacity: 0 } });
    assert.equal(parseFromExplainView({ type: 'setOptions', options: { classIndex: 1.5 } })?.type, 'setOptions');
    assert.deepEqual((parseFromExplainView({ type: 'setOptions', options: { classIndex: 1.5 } }) as { options: object }).options, {});
  });

  it('explain panel: unknown or malformed messages are refused', () => {
    for (const bad of [null, 1, 'ready', [], {}, { type: 'nope' }, { type: 'save', format: 'exe' }, { type: 'setOptions' }, { type: 'setOptions', options: [] }]) {
      assert.equal(parseFromExplainView(bad), null, JSON.stringify(bad));
    }
    assert.deepEqual(parseFromExplainView({ type: 'save', format: 'npy', path: '/etc/passwd' }), { type: 'save', format: 'npy' }, 'no path is taken from the page');
  });

  it('explain panel state: needs image and model strings; options fall back to defaults', () => {
    assert.equal(parseExplainPanelState({ image: 1, model: 'm' }, DEFAULTS), null);
    assert.deepEqual(parseExplainPanelState({ image: '/a.png', model: '/m.json', options: { opacity: 9, method: 'cam' } }, DEFAULTS), { image: '/a.png', model: '/m.json', options: { ...DEFAULTS, method: 'cam' } });
  });

  it('model browser and visualization panel messages', () => {
    assert.deepEqual(parseFromModelBrowser({ type: 'layerAction', path: 'a/b', action: 'weights' }), { type: 'layerAction', path: 'a/b', action: 'weights' });
    assert.equal(parseFromModelBrowser({ type: 'layerAction', path: 'a/b', action: 'rm -rf' }), null);
    assert.equal(parseFromModelBrowser({ type: 'selectLayer', path: 3 }), null);
    assert.deepEqual(parseFromVisualizeView({ type: 'cancel', x: 1 }), { type: 'cancel' });
    assert.equal(parseFromVisualizeView({ type: 'eval' }), null);
  });

  it('visualization jobs revived from page state are checked field by field', () => {
    assert.deepEqual(parseVisJob({ kind: 'filters', model: '/m', layer: 'l', first: 0, last: 3 }), { kind: 'filters', model: '/m', layer: 'l', first: 0, last: 3 });
    assert.equal(parseVisJob({ kind: 'filters', model: '/m', layer: 'l', first: 4, last: 3 }), null);
    assert.equal(parseVisJob({ kind: 'dream', model: '/m', image: '/i', layers: [1] }), null);
    assert.equal(parseVisJob({ kind: 'shell', model: '/m' }), null);
    assert.deepEqual(parseVisJob({ kind: 'class', model: '/m', classIndex: 2, label: 'cat' }), { kind: 'class', model: '/m', classIndex: 2, label: 'cat' });
  });

  it('engine messages: ids and fields are checked', () => {
    assert.deepEqual(parseEngineMessage({ type: 'error', id: 3, message: 'x', user: 'yes' }), { type: 'error', id: 3, message: 'x', user: false, stack: undefined });
    assert.equal(parseEngineMessage({ type: 'result' }), null);
    assert.equal(parseEngineMessage({ type: 'progress', id: 1, done: '1', total: 2 }), null);
    assert.equal(parseEngineMessage({ type: 'log', level: 'debug', message: 'x' }), null);
  });
});
