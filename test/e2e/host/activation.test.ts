// The extension's shell inside a real extension host: activation, commands, settings.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { api, EXTENSION_ID } from './util';

describe('activation', () => {
  it('activates and returns its API', async () => {
    const a = await api();
    assert.ok(a.engine, 'the API exposes the engine client');
    assert.ok(vscode.extensions.getExtension(EXTENSION_ID)?.isActive);
  });

  it('registers every command that package.json contributes', async () => {
    await api();
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    // Read the manifest from disk, not from the code under test.
    const manifest = JSON.parse(fs.readFileSync(path.join(ext.extensionPath, 'package.json'), 'utf8'));
    const declared: string[] = manifest.contributes.commands.map((c: { command: string }) => c.command);
    assert.ok(declared.length >= 10, `expected the explain, model and engine commands, got ${declared.length}`);
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = declared.filter((c) => !registered.has(c));
    assert.deepEqual(missing, [], 'declared but not registered');
  });

  it('contributes its settings with their defaults', () => {
    const c = vscode.workspace.getConfiguration('cnnLens');
    assert.equal(c.inspect('backend')?.defaultValue, 'auto');
    assert.equal(c.inspect('defaultMethod')?.defaultValue, 'gradcam');
    assert.equal(typeof c.inspect('requestTimeoutSeconds')?.defaultValue, 'number');
  });
});
