// The bundled demo model (media/demo, copied into the e2e workspace with the sample images and their
// object boxes in samples.json) explains its samples through the explain panel: in a two-object scene
// the two classes' Grad-CAM maps peak in different places, and never on the other class's object.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ExplainPanel } from '../../../src/extension/explainPanel';
import { api } from './util';

interface Box { x: number; y: number; width: number; height: number }
interface Samples { size: number; samples: Record<string, { label: string; box: Box }[]> }

describe('demo model', function () {
  this.timeout(120_000);
  const ws = () => vscode.workspace.workspaceFolders![0].uri.fsPath;
  let model = '';

  before(async function () {
    const demoDir = fs.readdirSync(ws()).find((d) => d !== 'models' && d !== 'broken-model' && fs.existsSync(path.join(ws(), d, 'model.json')));
    if (!demoDir) {
      console.log('[host-tests] demo model: skipped — no demo model in media/');
      return this.skip();
    }
    model = path.join(ws(), demoDir, 'model.json');
    await api();
  });

  it('explains a sample image: predictions and a Grad-CAM heatmap of the top class', async () => {
    const images = fs.readdirSync(ws()).filter((n) => /\.(png|jpe?g|webp|bmp|gif)$/i.test(n) && n !== 'generated-disc.png').sort();
    assert.ok(images.length > 0, 'sample images are copied from media/');
    const panel = (await vscode.commands.executeCommand('cnnLens.explain', vscode.Uri.file(path.join(ws(), images[0])), { model })) as ExplainPanel;
    try {
      await panel.whenIdle();
      assert.equal(panel.state.model, model);
      assert.ok(panel.predictions && panel.predictions.length >= 2, `predictions (${panel.lastError})`);
      assert.ok(panel.current, `heatmap (${panel.lastError})`);
      assert.equal(panel.current.classIndex, panel.predictions[0].index);
    } finally {
      panel.dispose();
    }
  });

  it('in two-object scenes, each class\'s map peaks off the other object, and the two peaks differ', async function () {
    const file = path.join(ws(), 'samples.json');
    if (!fs.existsSync(file)) return this.skip();
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as Samples;
    const scenes = Object.entries(s.samples).filter(([name, objs]) => objs.length === 2 && fs.existsSync(path.join(ws(), name)));
    assert.ok(scenes.length > 0, 'samples.json lists two-object scenes');
    const brief = await (await api()).engine.request({ type: 'loadModel', model });
    for (const [name, objs] of scenes) {
      const panel = (await vscode.commands.executeCommand('cnnLens.explain', vscode.Uri.file(path.join(ws(), name)), { model })) as ExplainPanel;
      try {
        await panel.whenIdle();
        const peaks: [number, number][] = [];
        for (const o of objs) {
          const classIndex = brief.labels.indexOf(o.label);
          assert.ok(classIndex >= 0, `label ${o.label}`);
          await panel.handleMessage({ type: 'setOptions', options: { classIndex } });
          await panel.whenIdle();
          assert.equal(panel.current?.classIndex, classIndex);
          const { map, shape } = panel.mapOnShow()!;
          const [h, w] = shape;
          let best = 0;
          for (let i = 1; i < map.length; i++) if (map[i] > map[best]) best = i;
          const px = ((best % w) + 0.5) * (s.size / w);
          const py = (Math.floor(best / w) + 0.5) * (s.size / h);
          const other = objs.find((x) => x !== o)!.box;
          const onOther = px >= other.x && px <= other.x + other.width && py >= other.y && py <= other.y + other.height;
          assert.ok(!onOther, `${name}: the '${o.label}' map peaks at (${px}, ${py}), on the other object`);
          peaks.push([px, py]);
        }
        assert.notDeepEqual(peaks[0], peaks[1], `${name}: both classes peak at ${peaks[0]}`);
      } finally {
        panel.dispose();
      }
    }
  });
});
