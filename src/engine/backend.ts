// Chooses and initializes the TensorFlow.js backend.
// Order for "auto": native (@tensorflow/tfjs-node, when installed) → wasm with SIMD → pure-JS cpu.
import * as tf from '@tensorflow/tfjs-core';
// A named import keeps the cpu backend's registration from being tree-shaken (its package marks itself side-effect free).
import { version_cpu } from '@tensorflow/tfjs-backend-cpu';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type BackendPreference = 'auto' | 'native' | 'wasm' | 'cpu';
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'native', 'wasm', 'cpu'];

/** What the engine reports as "the backend that ran". */
export type BackendName = 'native' | 'wasm' | 'cpu';

const TF_NAME: Record<BackendName, string> = { native: 'tensorflow', wasm: 'wasm', cpu: 'cpu' };

let current: BackendName | null = null;

export interface BackendOptions {
  /** wasm: threads for the convolution kernels (default: the machine's cores). */
  threads?: number;
}

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

async function activate(name: BackendName): Promise<boolean> {
  if (name === 'native' && !tryLoadNative()) return false;
  if (name === 'wasm') {
    const dir = wasmDirCandidates().find((d) => fs.existsSync(path.join(d, 'tfjs-backend-wasm-simd.wasm')));
    if (!dir) return false;
    setWasmPaths(dir + path.sep);
    // Threads are disabled by tfjs under Node; SIMD is on by default in Node 20.
  }
  try {
    const ok = await tf.setBackend(TF_NAME[name]);
    if (!ok) return false;
    await tf.ready();
  } catch {
    return false;
  }
  current = name;
  if (name === 'wasm') registerWasmFallbackKernels();
  return true;
}

/**
 * Initializes the backend. "auto" falls through native → wasm → cpu; an explicit choice that cannot
 * run is an error that says why.
 */
export async function initBackend(pref: BackendPreference = 'auto', _opts: BackendOptions = {}): Promise<BackendName> {
  if (current && (pref === 'auto' || pref === current)) return current;
  tf.env().set('IS_TEST', false);
  tf.enableProdMode();
  const order: BackendName[] = pref === 'auto' ? ['native', 'wasm', 'cpu'] : [pref];
  for (const name of order) {
    if (await activate(name)) return name;
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
  return current === 'wasm' ? 1 : null;
}

export function currentBackend(): BackendName {
  if (!current) throw new Error('backend not initialized: call initBackend() first');
  return current;
}

let fallbacksRegistered = false;
/**
 * The wasm backend lacks some gradient kernels (e.g. DepthwiseConv2dNativeBackpropInput, needed for
 * MobileNet input gradients). Each missing kernel is registered for wasm as a proxy that copies its
 * inputs to the cpu backend, runs the cpu kernel and copies the result back (ENGINE-NOTES pitfall 3).
 */
function registerWasmFallbackKernels(): void {
  if (fallbacksRegistered) return;
  fallbacksRegistered = true;
  const wanted = ['DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter', 'UnsortedSegmentSum', 'MaxPoolGrad', 'AvgPoolGrad', 'ResizeBilinearGrad', 'Conv2DBackpropFilter'];
  for (const kernelName of wanted) {
    if (tf.getKernel(kernelName, 'wasm')) continue;
    const cpuKernel = tf.getKernel(kernelName, 'cpu');
    if (!cpuKernel) continue;
    tf.registerKernel({
      kernelName,
      backendName: 'wasm',
      kernelFunc: ({ inputs, attrs, backend }) => {
        const cpu = tf.findBackend('cpu') as any;
        const wasm = backend as any;
        const moved: Record<string, tf.TensorInfo> = {};
        for (const [k, t] of Object.entries(inputs)) {
          if (!t) continue;
          const info = t as tf.TensorInfo;
          const values = wasm.readSync(info.dataId);
          moved[k] = { dataId: cpu.write(values, info.shape, info.dtype), shape: info.shape, dtype: info.dtype };
        }
        const out = cpuKernel.kernelFunc({ inputs: moved, attrs, backend: cpu }) as tf.TensorInfo | tf.TensorInfo[];
        const outs = Array.isArray(out) ? out : [out];
        const back = outs.map((o) => {
          const values = cpu.readSync(o.dataId);
          const dataId = wasm.write(values, o.shape, o.dtype);
          cpu.disposeData(o.dataId);
          return { dataId, shape: o.shape, dtype: o.dtype };
        });
        for (const m of Object.values(moved)) cpu.disposeData(m.dataId);
        return Array.isArray(out) ? back : back[0];
      },
    });
  }
}
