// Engine faults with hostile models, against the real engine process (dist/engine.js) through the engine
// client, as the extension runs it: a heap cap given with --max-old-space-size (the cnnLens.engineMemoryMB
// setting). A model whose activations would not fit is refused with one line and the engine stays; a file that
// exhausts the engine's heap while it is read ends that request with a crash, and the next request gets a
// fresh engine. (Time limits and killed engines: test/unit/extension/engineClient.test.ts.)
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineClient, EngineRequestError } from '../../../src/extension/engineClient';
import { tmpDir } from '../helpers';

const enginePath = path.resolve(__dirname, '..', '..', '..', 'engine.js');

/** A model.json: one 3×3 convolution with `filters` outputs on a side×side RGB input, global pooling, 2 classes. */
export function writeConvModel(dir: string, side: number, filters: number): string {
  const zeros = { class_name: 'Zeros', config: {} };
  const topology = {
    class_name: 'Sequential',
    config: {
      name: 'wide',
      layers: [
        { class_name: 'Conv2D', config: { name: 'conv', batch_input_shape: [null, side, side, 3], filters, kernel_size: [3, 3], strides: [1, 1], padding: 'same', dilation_rate: [1, 1], activation: 'relu', use_bias: true, data_format: 'channels_last', kernel_initializer: zeros, bias_initializer: zeros } },
        { class_name: 'GlobalAveragePooling2D', config: { name: 'gap', data_format: 'channels_last' } },
        { class_name: 'Dense', config: { name: 'probs', units: 2, activation: 'softmax', use_bias: true, kernel_initializer: zeros, bias_initializer: zeros } },
      ],
    },
  };
  const weights = [
    { name: 'conv/kernel', shape: [3, 3, 3, filters], dtype: 'float32' },
    { name: 'conv/bias', shape: [filters], dtype: 'float32' },
    { name: 'probs/kernel', shape: [filters, 2], dtype: 'float32' },
    { name: 'probs/bias', shape: [2], dtype: 'float32' },
  ];
  const count = 27 * filters + filters + 2 * filters + 2;
  fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.alloc(count * 4));
  const file = path.join(dir, 'model.json');
  fs.writeFileSync(file, JSON.stringify({ format: 'layers-model', modelTopology: topology, weightsManifest: [{ paths: ['w.bin'], weights }] }));
  return file;
}

describe('engine faults with hostile models (real engine process, heap cap)', function () {
  this.timeout(120_000);
  let client: EngineClient;
  let dir: string;

  before(function () {
    if (!fs.existsSync(enginePath)) {
      console.log(`    (skipped: ${enginePath} is not built; run node esbuild.mjs)`);
      this.skip();
    }
    dir = tmpDir('cnn-lens-engine-faults-');
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  beforeEach(() => {
    // As the extension starts it (src/extension/extension.ts), with a small cap.
    client = new EngineClient({ enginePath, execArgv: () => ['--max-old-space-size=96'], env: () => ({ CNN_LENS_BACKEND: 'cpu' }), timeoutMs: () => 60_000 });
  });
  afterEach(() => client.dispose());

  it('refuses a model whose activations would need 4 GB, with one line naming it; the engine stays', async () => {
    const sub = path.join(dir, 'wide');
    fs.mkdirSync(sub);
    // The convolution's output alone: 4096 × 4096 × 64 float32 values = 2^32 bytes = 4.0 GB (GiB).
    const file = writeConvModel(sub, 4096, 64);
    const pid = (await client.request({ type: 'ping' })).pid;
    const e = await client.request({ type: 'loadModel', model: file }).catch((x) => x);
    assert.ok(e instanceof EngineRequestError, String(e));
    assert.equal(e.reason, 'user-error', e.message);
    assert.ok(e.message.startsWith(`${file}: running it needs about 4.`), e.message);
    assert.match(e.message, /largest: 'conv', 4\.0 GB\), over the 2\.0 GB limit$/);
    assert.equal((await client.request({ type: 'ping' })).pid, pid, 'same engine');
    // The same layers at a size that fits load in that engine.
    const small = path.join(dir, 'small');
    fs.mkdirSync(small);
    const ok = await client.request({ type: 'loadModel', model: writeConvModel(small, 32, 8) });
    assert.deepEqual(ok.inputSize, { height: 32, width: 32, channels: 3 });
  });

  it('a file that exhausts the engine heap ends that request as a crash; the next request gets a fresh engine', async () => {
    // 4 million numbers: 8 MB of JSON, well over 100 MB once parsed into JavaScript arrays, over the 96 MB cap
    // (the loader reads JSON up to 256 MB: the heap cap is what bounds this).
    const file = path.join(dir, 'numbers.json');
    fs.writeFileSync(file, `{"modelTopology": {"class_name": "Sequential", "config": {"layers": [${'[1.5,2.5,3.5,4.5],'.repeat(1_000_000)}[]]}}}`);
    const pid = (await client.request({ type: 'ping' })).pid;
    let crashes = 0;
    client.onDidCrash(() => crashes++);
    const e = await client.request({ type: 'loadModel', model: file }).catch((x) => x);
    assert.ok(e instanceof EngineRequestError, String(e));
    assert.equal(e.reason, 'crashed', e.message);
    assert.equal(crashes, 1);
    const next = await client.request({ type: 'ping' });
    assert.notEqual(next.pid, pid, 'a fresh engine');
  });
});
