// Chooses and initializes the TensorFlow.js backend.
// Order for "auto": native (@tensorflow/tfjs-node, when installed) → wasm with SIMD → pure-JS cpu.
import * as tf from '@tensorflow/tfjs-core';
// A named import keeps the cpu backend's registration from being tree-shaken (its package marks itself side-effect free).
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { getThreadsCount, setThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker as NodeWorker, type WorkerOptions } from 'node:worker_threads';
import { registerWasmKernels } from './wasmKernels';

export type BackendPreference = 'auto' | 'native' | 'wasm' | 'cpu';
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'native', 'wasm', 'cpu'];

/** What the engine reports as "the backend that ran". */
export type BackendName = 'native' | 'wasm' | 'cpu';

const TF_NAME: Record<BackendName, string> = { native: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };

let current: BackendName | null = null;

export interface BackendOptions {
  /**
   * wasm: threads for XNNPACK's kernels (convolutions, matrix products). Default: $CNN_LENS_WASM_THREADS,
   * else the cores that are idle when the backend starts (measured over 100 ms; at most 8). 1 runs the
   * single-threaded build.
   */
  threads?: number;
}

let wasmThreads: number | null = null;

/** Directories where the wasm binaries may live: beside the bundle (dist/wasm) or in node_modules. */
function wasmDirCandidates(): string[] {
  const dirs = [path.join(__dirname, 'wasm'), path.join(__dirname, '..', 'wasm'), path.join(__dirname, '..', '..', 'dist', 'wasm')];
  try {
    dirs.push(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm')));
  } catch {
    /* not resolvable from a bundle: the dist/wasm copies are used */
  }
  return dirs;
}

function tryLoadNative(): boolean {
  try {
    // Optional dependency: present only where its install script could download libtensorflow.
    require('@tensorflow/tfjs-node');
    return tf.findBackend('tensorflow') != null || tf.engine().registryFactory['tensorflow'] != null;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------
// Multi-threaded wasm under Node.
//
// tfjs switches the threaded build off under Node (WASM_HAS_MULTITHREAD_SUPPORT is false there) because
// it starts the pthread workers from blob: URLs, which worker_threads cannot load, and hands the workers
// its own (transpiled, not self-contained) copy of the Emscripten glue. We turn the flag on and give
// Emscripten a Worker class that starts each pthread worker from tfjs's worker source as an eval'd script
// and points its 'load' message at the original glue file, tfjs-backend-wasm-threaded-simd.js (in dist/wasm
// beside the .wasm files, or in node_modules). tfjs sizes XNNPACK's pool as the logical cores / 2 (it
// assumes two hyper-threads per core), so during initialization os.cpus() reports twice the threads wanted.

/** The original Emscripten glue of the threaded build, which each pthread worker evaluates. */
function threadedGlueFile(): string | null {
  const name = 'tfjs-backend-wasm-threaded-simd.js';
  const dirs = wasmDirCandidates();
  try {
    dirs.push(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/' + name)));
  } catch {
    /* not in node_modules: only dist/wasm */
  }
  const dir = dirs.find((d) => fs.existsSync(path.join(d, name)) && fs.existsSync(path.join(d, 'tfjs-backend-wasm-threaded-simd.wasm')));
  return dir ? path.join(dir, name) : null;
}

/**
 * Threads for the wasm backend: $CNN_LENS_WASM_THREADS when set, else the cores that are idle right now,
 * measured from the CPU times over 100 ms (at least 1). A second thread only pays when a core is free:
 * every multi-threaded XNNPACK kernel waits for the pool's other thread, and on a busy machine that
 * wait is a scheduling slice (measured: 0.5–1.5 ms per kernel, a small convolution 41 µs → 1.5 ms,
 * MobileNetV2's forward pass 48 → 200 ms), while on free cores a large convolution runs 1.9× faster.
 * The 1-minute load average is not used: it still counts work that ended a minute ago (the tests or
 * the build that just ran), and on an idle 2-core machine it gave 1 thread half of the time.
 */
export async function defaultThreads(sampleMs = 100): Promise<number> {
  const env = Number(process.env.CNN_LENS_WASM_THREADS);
  if (Number.isInteger(env) && env >= 1) return env;
  const before = os.cpus();
  await new Promise((resolve) => setTimeout(resolve, sampleMs));
  const after = os.cpus();
  let idle = 0;
  let total = 0;
  after.forEach((cpu, i) => {
    const t0 = before[i]?.times;
    if (!t0) return;
    const t = cpu.times;
    idle += t.idle - t0.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq - (t0.user + t0.nice + t0.sys + t0.idle + t0.irq);
  });
  const cores = after.length;
  // No samples (a clock too coarse for the interval): assume the machine is free.
  const idleCores = total > 0 ? (cores * idle) / total : cores;
  return Math.max(1, Math.min(cores, Math.round(idleCores)));
}

let workerInstalled = false;

/** Makes the global Worker (which the threaded glue uses) start pthread workers the way Node can. */
function installPthreadWorker(glue: string): void {
  if (workerInstalled) return;
  workerInstalled = true;
  // The pthread worker's source as tfjs ships it (a string in a tiny module that esbuild bundles).
  const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as { wasmWorkerContents: string };
  // tfjs escapes newlines before making its blob: the source has "\n" inside string literals.
  const source = wasmWorkerContents.replace(/\n/g, '\\n');
  class PthreadWorker extends NodeWorker {
    constructor(url: string | URL, opts?: WorkerOptions) {
      if (String(url).startsWith('blob:')) super(source, { ...opts, eval: true });
      else super(url, opts);
      this.unref();
    }
    // Emscripten refs a worker while it runs a pthread; XNNPACK's pool threads run (idle) for ever, which
    // would keep Node from exiting. The work is synchronous on the calling thread, so nothing is lost.
    override ref(): void {}
    override postMessage(msg: any, transfer?: readonly any[]): void {
      if (msg && msg.cmd === 'load' && typeof msg.urlOrBlob !== 'string') msg = { ...msg, urlOrBlob: glue };
      super.postMessage(msg, transfer as any);
    }
  }
  /**
   * The glue starts a pool of 8 pthread workers up front (a V8 isolate and a wasm instance each, ~9 MB
   * of RSS apiece) although XNNPACK runs threads − 1 of them. Each pool entry is this stand-in: it
   * answers the glue's 'load' at once and starts its real worker only when a pthread is first run on it,
   * handing that worker the saved 'load' before the 'run' (the worker loads synchronously, so the two are
   * handled in order without the main thread's help — it may be blocked waiting for the new thread).
   */
  class LazyPthreadWorker extends EventEmitter {
    private real: PthreadWorker | null = null;
    private load: any = null;
    onmessage: ((e: { data: any }) => void) | null = null;
    onerror: ((e: unknown) => void) | null = null;
    constructor(
      private readonly url: string | URL,
      private readonly opts?: WorkerOptions,
    ) {
      super();
    }
    postMessage(msg: any, transfer?: readonly any[]): void {
      if (!this.real) {
        if (msg && msg.cmd === 'load') {
          this.load = msg;
          setImmediate(() => this.emit('message', { cmd: 'loaded' }));
          return;
        }
        const real = new PthreadWorker(this.url, this.opts);
        let loaded = false;
        real.on('message', (data: any) => {
          // The stand-in already said 'loaded'; a second one would start the pthread twice.
          if (!loaded && data && data.cmd === 'loaded') loaded = true;
          else this.emit('message', data);
        });
        real.on('error', (e) => this.emit('error', e));
        // Listening refs the worker's port again; the pool's threads must not keep Node alive.
        real.unref();
        real.postMessage(this.load);
        this.real = real;
      }
      this.real.postMessage(msg, transfer);
    }
    ref(): void {}
    unref(): void {
      this.real?.unref();
    }
    terminate(): Promise<number> {
      return this.real ? this.real.terminate() : Promise.resolve(0);
    }
  }
  // The glue assigns worker_threads' Worker to the global when it starts; keep ours in place.
  Object.defineProperty(globalThis, 'Worker', { configurable: true, get: () => LazyPthreadWorker, set: () => undefined });
}

/** Whether this Node can run the threaded build at all (shared memory and wasm atomics). */
function threadsSupported(): boolean {
  if (typeof SharedArrayBuffer === 'undefined') return false;
  try {
    // A module with one atomic instruction (i32.atomic.load), as tfjs itself probes it in browsers.
    return WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 5, 4, 1, 3, 1, 1, 10, 11, 1, 9, 0, 65, 0, 254, 16, 2, 0, 26, 11]));
  } catch {
    return false;
  }
}

async function setBackendReady(tfName: string): Promise<boolean> {
  try {
    const ok = await tf.setBackend(tfName);
    if (!ok) return false;
    await tf.ready();
    return true;
  } catch {
    return false;
  }
}

async function activateWasm(opts: BackendOptions): Promise<boolean> {
  const dir = wasmDirCandidates().find((d) => fs.existsSync(path.join(d, 'tfjs-backend-wasm-simd.wasm')));
  if (!dir) return false;
  setWasmPaths(dir + path.sep);
  const threads = Math.max(1, Math.min(8, Math.floor(opts.threads ?? (await defaultThreads()))));
  const glue = threads > 1 && threadsSupported() ? threadedGlueFile() : null;
  if (!glue) {
    // SIMD is on by default in Node 20; threads stay off.
    if (!(await setBackendReady('wasm'))) return false;
    wasmThreads = 1;
    return true;
  }
  installPthreadWorker(glue);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);
  // The module object itself (an ES import binding cannot be assigned), as the glue's require('os') sees it.
  const nodeOs = require('node:os') as { cpus: typeof os.cpus };
  const realCpus = nodeOs.cpus;
  nodeOs.cpus = () => {
    const one = realCpus()[0];
    return Array.from({ length: 2 * threads }, () => one);
  };
  let ok: boolean;
  try {
    ok = await setBackendReady('wasm');
  } finally {
    nodeOs.cpus = realCpus;
  }
  if (!ok) {
    // Fall back to the single-threaded build.
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', wasmFactory!, 2);
    if (!(await setBackendReady('wasm'))) return false;
    wasmThreads = 1;
    return true;
  }
  wasmThreads = getThreadsCount();
  return true;
}

/** The wasm backend's factory as tfjs-backend-wasm registered it (to register it again after a failed threaded start). */
const wasmFactory = tf.engine().registryFactory['wasm']?.factory;

async function activate(name: BackendName, opts: BackendOptions): Promise<boolean> {
  if (name === 'native' && !tryLoadNative()) return false;
  if (name === 'wasm') {
    if (!(await activateWasm(opts))) return false;
  } else if (!(await setBackendReady(TF_NAME[name]))) {
    return false;
  }
  current = name;
  if (name === 'wasm') registerWasmKernels();
  return true;
}

/**
 * Initializes the backend. "auto" falls through native → wasm → cpu; an explicit choice that cannot
 * run is an error that says why.
 */
export async function initBackend(pref: BackendPreference = 'auto', opts: BackendOptions = {}): Promise<BackendName> {
  if (current && (pref === 'auto' || pref === current)) return current;
  tf.env().set('IS_TEST', false);
  tf.enableProdMode();
  const order: BackendName[] = pref === 'auto' ? ['native', 'wasm', 'cpu'] : [pref];
  for (const name of order) {
    if (await activate(name, opts)) return name;
  }
  if (pref === 'native') {
    throw new Error('backend "native" is not available: @tensorflow/tfjs-node is not installed (npm install @tensorflow/tfjs-node needs internet access to download libtensorflow)');
  }
  throw new Error(`backend "${pref}" could not be initialized`);
}

/** Versions of the pieces, for `info`. */
export function backendVersions(): Record<string, string> {
  return { 'tfjs-core': tf.version_core, 'tfjs-backend-cpu': version_cpu };
}

/** Threads the wasm backend computes with (null on other backends or before initialization). */
export function wasmThreadCount(): number | null {
  return current === 'wasm' ? wasmThreads : null;
}

export function currentBackend(): BackendName {
  if (!current) throw new Error('backend not initialized: call initBackend() first');
  return current;
}
