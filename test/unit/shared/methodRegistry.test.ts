// One name per method: the registry, the engine's methods, the CLI's --method and the extension's manifest agree.
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { METHODS, METHOD_NAMES } from '../../../src/engine/methods';
import { METHOD_INFO, emptyMapAdvice } from '../../../src/shared/methods';

describe('method registry', () => {
  const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8'));

  it('the engine has a method for every registry entry, with the registry title', () => {
    assert.deepEqual([...METHOD_NAMES].sort(), METHOD_INFO.map((m) => m.id).sort());
    for (const m of METHOD_INFO) assert.equal(METHODS[m.id].title, m.title);
  });

  it('package.json declares each method command (titled with the method name), lists it in the CNN Lens submenu, and offers it as default method', () => {
    const commands = new Map<string, string>(pkg.contributes.commands.map((c: { command: string; title: string }) => [c.command, c.title]));
    const submenu = new Set(pkg.contributes.menus['cnnLens.contextSubmenu'].map((e: { command: string }) => e.command));
    for (const m of METHOD_INFO) {
      assert.ok(commands.has(m.command), `${m.command} missing`);
      assert.ok(commands.get(m.command)!.endsWith(m.title), `${m.command}: '${commands.get(m.command)}' does not name ${m.title}`);
      if (m.command !== 'cnnLens.explain') assert.ok(submenu.has(m.command), `${m.command} not in the submenu`);
    }
    assert.deepEqual(pkg.contributes.configuration.properties['cnnLens.defaultMethod'].enum, METHOD_INFO.map((m) => m.id));
  });

  it('advises what shows more when a map is empty', () => {
    assert.match(emptyMapAdvice('gradcam', { layer: 'conv5', label: 'cat', cli: true }), /zero everywhere: nothing at layer 'conv5' is positive evidence for 'cat'\. Try HiResCAM or Grad-CAM with --no-relu, an earlier layer, or another class/);
    assert.match(emptyMapAdvice('hirescam', { layer: 'c', label: 'x', cli: false }), /Try HiResCAM without ReLU, an earlier layer/);
  });
});
