// The engine process as the extension host sees it: start, queue, progress, cancel, time limits,
// deaths and restarts — each request must end in exactly one of result / error / cancelled.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { EngineClient } from '../../../src/extension/engineClient';
import { api, outcome, processAlive, sleep, waitFor } from './util';

describe('engine process', function () {
  this.timeout(90_000);
  let engine: EngineClient;

  before(async () => {
    engine = (await api()).engine;
  });

  it('starts lazily as a separate process and answers ping and info', async () => {
    const pong = await engine.request({ type: 'ping' });
    assert.notEqual(pong.pid, process.pid, 'the engine is not the extension host');
    assert.ok(processAlive(pong.pid), `engine pid ${pong.pid} is a live process`);
    assert.equal(engine.pid, pong.pid);
    const info = await engine.request({ type: 'info' });
    assert.ok(['wasm', 'cpu', 'native'].includes(info.backend), `backend ${info.backend}`);
    assert.equal(info.pid, pong.pid);
    await waitFor('the idle state', () => engine.state.type === 'idle');
  });

  it('streams progress and returns the result', async () => {
    const seen: number[] = [];
    const r = await engine.request({ type: 'debugSleep', ms: 150, steps: 4 }, { onProgress: (p) => seen.push(p.done) });
    assert.deepEqual(r, { steps: 4 });
    assert.ok(seen.length >= 2 && seen.at(-1) === 4, `progress ${JSON.stringify(seen)}`);
    assert.deepEqual([...seen].sort((a, b) => a - b), seen, 'progress only moves forward');
  });

  it('queues requests from several callers and answers them in order', async () => {
    const order: number[] = [];
    const reqs = [0, 1, 2].map((i) => engine.request({ type: 'debugSleep', ms: 30, steps: 3 - i }).then((r) => (order.push(i), r)));
    const rs = await Promise.all(reqs);
    assert.deepEqual(rs.map((r) => r.steps), [3, 2, 1]);
    assert.deepEqual(order, [0, 1, 2]);
  });

  it('cancel stops a running request between steps, and the same engine goes on', async () => {
    const pid = engine.pid;
    const cts = new vscode.CancellationTokenSource();
    const t0 = Date.now();
    const p = outcome(engine.request({ type: 'debugSleep', ms: 100, steps: 200 }, { token: cts.token }));
    await sleep(400);
    cts.cancel();
    const o = await p;
    assert.equal(o.ok, false);
    assert.equal(!o.ok && o.reason, 'cancelled');
    assert.ok(Date.now() - t0 < 3000, `cancel took ${Date.now() - t0} ms; the request alone would take 20 s`);
    assert.deepEqual(await engine.request({ type: 'debugSleep', ms: 1, steps: 1 }), { steps: 1 });
    assert.equal(engine.pid, pid, 'no restart was needed');
  });

  it('cancel of a queued request ends it without running it', async () => {
    const cts = new vscode.CancellationTokenSource();
    const first = engine.request({ type: 'debugSleep', ms: 100, steps: 5 });
    const second = outcome(engine.request({ type: 'debugSleep', ms: 100, steps: 50 }, { token: cts.token }));
    cts.cancel();
    const o = await second;
    assert.equal(!o.ok && o.reason, 'cancelled');
    assert.deepEqual(await first, { steps: 5 });
  });

  it('a request stuck inside one step is cancelled by restarting the engine', async () => {
    const pid = engine.pid!;
    const cts = new vscode.CancellationTokenSource();
    const p = outcome(engine.request({ type: 'debugSleep', ms: 30_000, steps: 1, ignoreCancel: true }, { token: cts.token }));
    await sleep(300);
    const t0 = Date.now();
    cts.cancel();
    const o = await p;
    assert.equal(!o.ok && o.reason, 'cancelled');
    assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
    await waitFor('the stuck engine to be gone', () => !processAlive(pid), 5000);
    const pong = await engine.request({ type: 'ping' });
    assert.notEqual(pong.pid, pid, 'a fresh engine serves the next request');
  });

  it('a request over its time limit fails with a timeout, and the next request gets a fresh engine', async () => {
    const pid = (await engine.request({ type: 'ping' })).pid;
    const o = await outcome(engine.request({ type: 'debugSleep', ms: 100, steps: 100 }, { timeoutMs: 700 }));
    assert.equal(!o.ok && o.reason, 'timeout');
    assert.match(!o.ok ? o.message : '', /time limit/);
    const pong = await engine.request({ type: 'ping' });
    assert.notEqual(pong.pid, pid);
  });

  it('a killed engine fails every pending request with the reason, and the next request starts a new one', async () => {
    const pid = (await engine.request({ type: 'ping' })).pid;
    const running = outcome(engine.request({ type: 'debugSleep', ms: 100, steps: 100 }));
    const queued = outcome(engine.request({ type: 'ping' }));
    await sleep(300);
    process.kill(pid, 'SIGKILL');
    const [a, b] = await Promise.all([running, queued]);
    for (const o of [a, b]) {
      assert.equal(!o.ok && o.reason, 'crashed');
      assert.match(!o.ok ? o.message : '', /SIGKILL/);
    }
    assert.equal(engine.state.type, 'crashed');
    const pong = await engine.request({ type: 'ping' });
    assert.notEqual(pong.pid, pid);
    assert.ok(processAlive(pong.pid));
  });

  it('Restart Engine replaces the process and reports the backend', async () => {
    const before = (await engine.request({ type: 'ping' })).pid;
    const info = (await vscode.commands.executeCommand('cnnLens.restartEngine')) as { pid: number; backend: string };
    assert.ok(info && info.pid !== before, `restart returned ${JSON.stringify(info)}`);
    await waitFor('the old engine to be gone', () => !processAlive(before), 5000);
    assert.equal(engine.pid, info.pid);
  });

  it('changing cnnLens.backend restarts the engine on that backend', async () => {
    const cfg = vscode.workspace.getConfiguration('cnnLens');
    try {
      await cfg.update('backend', 'cpu', vscode.ConfigurationTarget.Workspace);
      const info = await waitFor('the engine on the cpu backend', async () => {
        const i = engine.engineInfo;
        return i && i.backend === 'cpu' ? i : undefined;
      }, 30_000);
      assert.equal(info.backend, 'cpu');
    } finally {
      await cfg.update('backend', undefined, vscode.ConfigurationTarget.Workspace);
    }
    await waitFor('the engine back on auto', () => engine.engineInfo && engine.engineInfo.backend !== 'cpu', 30_000);
  });
});
