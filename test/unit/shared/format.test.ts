import * as assert from 'node:assert/strict';
import { commonPathPrefix, inputNote, layerChoices, percent, shapeText } from '../../../src/shared/format';

describe('shared/format: how the panels write numbers, shapes, layers and input notes', () => {
  it('percent: one decimal, "<0.1%" below a thousandth, never exponent notation', () => {
    assert.equal(percent(0.934), '93.4%');
    assert.equal(percent(1), '100.0%');
    assert.equal(percent(0.001), '0.1%');
    assert.equal(percent(0.00013), '<0.1%');
    assert.equal(percent(1e-12), '<0.1%');
    assert.equal(percent(0), '0.0%');
    for (let p = 1e-9; p < 1; p *= 3.7) assert.ok(!/e/i.test(percent(p)), `${p} → ${percent(p)}`);
  });

  it('shapeText: sizes joined by ×, unknown sizes as ?', () => {
    assert.equal(shapeText([7, 7, 1280]), '7×7×1280');
    assert.equal(shapeText([null, 10]), '?×10');
    assert.equal(shapeText(null), '—');
  });

  it('commonPathPrefix: whole segments only, never a layer name', () => {
    assert.equal(commonPathPrefix(['sequential_9/model3/block_1_expand', 'sequential_9/model3/out_relu']), 'sequential_9/model3/');
    assert.equal(commonPathPrefix(['seq/conv1', 'seq/conv10']), 'seq/');
    assert.equal(commonPathPrefix(['conv1', 'conv10']), '');
    // A single path, or one path that is the others' parent, keeps its own name.
    assert.equal(commonPathPrefix(['a/b/c']), '');
    assert.equal(commonPathPrefix(['a/b', 'a/b/c']), 'a/');
  });

  it('layerChoices: the default first, then explainable layers deepest first, then the others; prefix dropped', () => {
    const layers = ['s/m/conv1', 's/m/bn1', 's/m/conv2', 's/m/out_relu', 's/m/flatten'].map((p, i) => ({ path: p, className: 'X', shape: [4 - i, 4 - i, 8], explainable: !p.endsWith('flatten') && !p.endsWith('bn1') }));
    const { prefix, choices } = layerChoices(layers, 's/m/conv2');
    assert.equal(prefix, 's/m/');
    assert.deepEqual(choices.map((c) => c.name), ['conv2', 'out_relu', 'conv1', 'flatten', 'bn1']);
    assert.deepEqual(choices.map((c) => c.isDefault), [true, false, false, false, false]);
    assert.deepEqual(choices.map((c) => c.explainable), [true, true, true, false, false]);
    assert.equal(choices[0].value, 's/m/conv2');
    assert.equal(choices[0].detail, 'X · 2×2×8');
  });

  it('layerChoices: the prefix is the one the targets share; a head nested elsewhere keeps its full path', () => {
    // A Teachable Machine export: the MobileNet under sequential_9/model3/, its classifier under sequential_11/.
    const layers = [
      { path: 'sequential_9/model3/conv1', className: 'Conv2D', shape: [8, 8, 4], explainable: true },
      { path: 'sequential_9/model3/out_relu', className: 'ReLU', shape: [4, 4, 4], explainable: true },
      { path: 'sequential_9/global_average_pooling2d', className: 'GlobalAveragePooling2D', shape: [4], explainable: false },
      { path: 'sequential_11/dense', className: 'Dense', shape: [3], explainable: false },
    ];
    const { prefix, choices } = layerChoices(layers, 'sequential_9/model3/out_relu');
    assert.equal(prefix, 'sequential_9/model3/');
    assert.deepEqual(choices.map((c) => [c.name, c.explainable]), [['out_relu', true], ['conv1', true], ['sequential_11/dense', false], ['sequential_9/global_average_pooling2d', false]]);
  });

  it('inputNote: says when a small image was upscaled, colour became gray, or the aspect changed', () => {
    assert.equal(inputNote({ width: 8, height: 8, channels: 3 }, { width: 224, height: 224, channels: 3 }), '8×8 upscaled to 224×224');
    assert.equal(inputNote({ width: 1152, height: 2048, channels: 3 }, { width: 64, height: 64, channels: 1 }), 'converted to grayscale, aspect changed 9:16 → 1:1');
    assert.equal(inputNote({ width: 28, height: 28, channels: 1 }, { width: 224, height: 224, channels: 3 }), '28×28 upscaled to 224×224, grayscale copied into 3 channels');
    // An ordinary photo into an ordinary model: nothing to say.
    assert.equal(inputNote({ width: 640, height: 600, channels: 3 }, { width: 224, height: 224, channels: 3 }), null);
    assert.equal(inputNote({ width: 100, height: 100, channels: 3 }, { width: 224, height: 224, channels: 3 }), null);
  });
});
