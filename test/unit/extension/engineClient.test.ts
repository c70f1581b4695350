// The engine client against the real engine process (dist/engine.js, built by esbuild.mjs), in plain
// Node: every request ends in exactly one of result / error / cancelled, and faults start a new engine.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineClient, EngineRequestError } from '../../../src/extension/engineClient';

const enginePath = path.resolve(__dirname, '..', '..', '..', 'engine.js');

function reason(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'result',
    (e) => (e instanceof EngineRequestError ? e.reason : `thrown ${e}`),
  );
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('engine client (real engine process)', function () {
  this.timeout(60_000);
  let client: EngineClient;

  before(function () {
    if (!fs.existsSync(enginePath)) {
      console.log(`    (skipped: ${enginePath} is not built; run node esbuild.mjs)`);
      this.skip();
    }
  });

  beforeEach(() => {
    client = new EngineClient({ enginePath, cancelGraceMs: 1000, env: () => ({ CNN_LENS_BACKEND: 'cpu' }) });
  });

  afterEach(() => client.dispose());

  it('starts on the first request, in its own process', async () => {
    assert.equal(client.pid, undefined, 'lazy');
    const r = await client.request({ type: 'ping' });
    assert.notEqual(r.pid, process.pid);
    assert.equal(client.pid, r.pid);
    assert.equal((await client.request({ type: 'info' })).backend, 'cpu');
  });

  it('a user error in the engine is an error outcome, and the engine stays', async () => {
    const pid = (await client.request({ type: 'ping' })).pid;
    const e = await client.request({ type: 'loadModel', model: '/nonexistent/model.json' }).catch((x) => x);
    assert.ok(e instanceof EngineRequestError);
    assert.equal(e.reason, 'user-error');
    assert.match(e.message, /model\.json: no such file/);
    assert.equal((await client.request({ type: 'ping' })).pid, pid);
  });

  it('cancel between steps, queued cancel, and in-order answers', async () => {
    const ac = { cancelled: false, listeners: [] as (() => void)[] };
    const token = { get isCancellationRequested() { return ac.cancelled; }, onCancellationRequested: (l: () => void) => (ac.listeners.push(l), { dispose() {} }) };
    const long = reason(client.request({ type: 'debugSleep', ms: 50, steps: 400 }, { token }));
    const queued = client.request({ type: 'debugSleep', ms: 1, steps: 2 });
    await new Promise((r) => setTimeout(r, 200));
    ac.cancelled = true;
    ac.listeners.forEach((l) => l());
    assert.equal(await long, 'cancelled');
    assert.deepEqual(await queued, { steps: 2 });
  });

  it('the log has every request with its outcome and time: done, cancelled, failed', async () => {
    const lines: string[] = [];
    const logged = new EngineClient({ enginePath, cancelGraceMs: 1000, env: () => ({ CNN_LENS_BACKEND: 'cpu' }), log: (l) => lines.push(l) });
    try {
      const t0 = Date.now();
      await logged.request({ type: 'debugSleep', ms: 20, steps: 5 });
      const took = (Date.now() - t0) / 1000;
      const ac = { cancelled: false, listeners: [] as (() => void)[] };
      const token = { get isCancellationRequested() { return ac.cancelled; }, onCancellationRequested: (l: () => void) => (ac.listeners.push(l), { dispose() {} }) };
      const long = reason(logged.request({ type: 'debugSleep', ms: 50, steps: 400 }, { token }));
      await new Promise((r) => setTimeout(r, 200));
      ac.cancelled = true;
      ac.listeners.forEach((l) => l());
      assert.equal(await long, 'cancelled');
      await reason(logged.request({ type: 'loadModel', model: '/nonexistent/model.json' }));
      const done = lines.find((l) => l.startsWith('debugSleep 5 steps: done in '));
      assert.ok(done, lines.join('\n'));
      // The logged time lies within what this test measured around the request (0.1 s sleeping at least).
      const secs = Number(/done in ([\d.]+) s/.exec(done)![1]);
      assert.ok(secs >= 0.09 && secs <= took + 0.01, `${secs} s logged, ${took} s measured`);
      assert.ok(lines.some((l) => /^debugSleep 400 steps: cancelled after [\d.]+ s$/.test(l)), lines.join('\n'));
      assert.ok(lines.some((l) => /^loadModel nonexistent\/model\.json: failed after [\d.]+ s: .*no such file/.test(l)), lines.join('\n'));
    } finally {
      logged.dispose();
    }
  });

  it('a time limit ends the request and the next one runs on a fresh engine', async () => {
    const pid = (await client.request({ type: 'ping' })).pid;
    assert.equal(await reason(client.request({ type: 'debugSleep', ms: 100, steps: 50 }, { timeoutMs: 300 })), 'timeout');
    const next = await client.request({ type: 'ping' });
    assert.notEqual(next.pid, pid);
    assert.equal(alive(pid), false);
  });

  it('a killed engine fails every pending request; the client reports the crash once', async () => {
    const crashes: string[] = [];
    client.onDidCrash((r) => crashes.push(r));
    const pid = (await client.request({ type: 'ping' })).pid;
    const a = reason(client.request({ type: 'debugSleep', ms: 100, steps: 50 }));
    const b = reason(client.request({ type: 'ping' }));
    await new Promise((r) => setTimeout(r, 150));
    process.kill(pid, 'SIGKILL');
    assert.deepEqual(await Promise.all([a, b]), ['crashed', 'crashed']);
    assert.equal(crashes.length, 1);
    assert.match(crashes[0], /SIGKILL/);
    assert.equal(client.state.type, 'crashed');
    assert.notEqual((await client.request({ type: 'ping' })).pid, pid);
  });

  it('a streamed frame never shows a later step than the progress before it', async function () {
    const model = path.resolve('media', 'demo', 'model.json');
    const image = path.resolve('media', 'samples', 'arrow.png');
    if (!fs.existsSync(model) || !fs.existsSync(image)) {
      console.log('      (skipped: the demo model or its samples are missing)');
      this.skip();
    }
    let done = 0;
    const behind: string[] = [];
    let frames = 0;
    // On wasm the demo model's steps take milliseconds: many fall inside one 100-ms progress window.
    const fast = new EngineClient({ enginePath, cancelGraceMs: 1000, env: () => ({ CNN_LENS_BACKEND: 'wasm' }) });
    await fast.request(
      { type: 'dream', model, image, octaves: 3, steps: 10 },
      {
        onProgress: (p) => (done = p.done),
        onEvent: (e) => {
          if (e.type !== 'frame') return;
          frames++;
          if (done < e.step) behind.push(`frame at step ${e.step}, progress at ${done}`);
        },
      },
    ).finally(() => fast.dispose());
    assert.ok(frames >= 3, `${frames} frames`);
    assert.deepEqual(behind, []);
  });
});
