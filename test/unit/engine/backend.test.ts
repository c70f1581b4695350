// The wasm thread count: $CNN_LENS_WASM_THREADS, else the cores idle right now, and a threaded engine
// process that exits by itself when its work is done (the pthread pool must not keep Node alive).
import { strict as assert } from 'node:assert';
import { execFileSync, spawn } from 'node:child_process';
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { defaultThreads, initBackend, wasmThreadCount } from '../../../src/engine/backend';

if (process.env.CNN_LENS_THREADS_EXIT_CHILD === '1') {
  void (async () => {
    await initBackend('wasm', { threads: 2 });
    const y = tf.conv2d(tf.ones([1, 8, 8, 32]) as tf.Tensor4D, tf.ones([3, 3, 32, 4]) as tf.Tensor4D, 1, 'valid');
    process.stdout.write(`threads ${wasmThreadCount()} ${y.dataSync()[0]}\n`);
  })();
} else {
describe('wasm threads', function () {
  this.timeout(60000);

  it('takes $CNN_LENS_WASM_THREADS when it is a whole number ≥ 1', async () => {
    const saved = process.env.CNN_LENS_WASM_THREADS;
    try {
      process.env.CNN_LENS_WASM_THREADS = '3';
      assert.equal(await defaultThreads(), 3);
      process.env.CNN_LENS_WASM_THREADS = 'x';
      const n = await defaultThreads(50);
      assert.ok(n >= 1 && n <= os.cpus().length, `${n}`);
    } finally {
      if (saved === undefined) delete process.env.CNN_LENS_WASM_THREADS;
      else process.env.CNN_LENS_WASM_THREADS = saved;
    }
  });

  it('counts a core kept busy by another process as not idle', async function () {
    if (os.cpus().length < 2) this.skip();
    const saved = process.env.CNN_LENS_WASM_THREADS;
    delete process.env.CNN_LENS_WASM_THREADS;
    // A child spinning one core for the whole measurement.
    const child = spawn(process.execPath, ['-e', 'const t = Date.now() + 3000; while (Date.now() < t);']);
    try {
      await new Promise((r) => setTimeout(r, 300));
      const n = await defaultThreads(500);
      assert.ok(n <= os.cpus().length - 1, `${n} threads with one of ${os.cpus().length} cores busy`);
    } finally {
      child.kill();
      if (saved !== undefined) process.env.CNN_LENS_WASM_THREADS = saved;
    }
  });

  it('a process that used the threaded build exits by itself when its work is done', function () {
    // This file run as a plain script (the branch at the bottom): a convolution on 2 threads, then nothing
    // (no process.exit). The pool's worker threads must not keep Node alive; the timeout kills a hang.
    const out = execFileSync(process.execPath, [__filename], { env: { ...process.env, CNN_LENS_THREADS_EXIT_CHILD: '1' }, encoding: 'utf8', timeout: 30000 });
    assert.match(out, /^threads [12] 288\n$/);
  });
});
}
