// The engine child process (forked by src/extension/engineClient.ts). Protocol: src/shared/protocol.ts.
//
// Two threads, one bundle:
//  - the main thread owns the IPC channel: it queues requests, runs one at a time, and answers each with
//    exactly one of result / error / cancelled;
//  - a worker thread does the work (model loading and tfjs computations are long synchronous calls).
// Keeping the main thread free means a cancel message is read at once even while a gradient runs; it
// sets a flag in shared memory that the work checks between steps (Atomics.load, no event loop needed).
// The backend preference comes from CNN_LENS_BACKEND (auto by default).
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { type EngineEvent, type EngineRequest, type EngineRequestType, type EngineToHost, type HostToEngine, isObject } from '../shared/protocol';
import { CancelledError, LensError } from './errors';
import { handlers, type Handlers, type RequestContext } from './service';

// ─────────────────────────── messages between the two threads ───────────────────────────

type ToWorker = { type: 'run'; id: number; request: EngineRequest };
type FromWorker =
  | { type: 'done'; id: number; outcome: { type: 'result'; result: unknown } | { type: 'error'; message: string; user: boolean; stack?: string; fatal?: boolean } | { type: 'cancelled' } }
  | { type: 'progress'; id: number; done: number; total: number; message?: string }
  | { type: 'event'; id: number; event: EngineEvent }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

/** Slot 0 of the shared flag holds the id of the request that was cancelled. */
interface WorkerData { role: 'cnn-lens-compute'; cancelFlag: SharedArrayBuffer }

// ─────────────────────────── worker side ───────────────────────────

function workerMain(data: WorkerData): void {
  const port = parentPort!;
  const flag = new Int32Array(data.cancelFlag);
  const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
  port.on('message', async (m: ToWorker) => {
    if (m.type !== 'run') return;
    const { id, request } = m;
    const isCancelled = () => Atomics.load(flag, 0) === id;
    let lastProgress = 0;
    // The newest progress the throttle held back; sent before any event, so that a frame never shows a
    // later step than the progress beside it (fast steps of small octaves fall inside one throttle window).
    let held: FromWorker | null = null;
    const ctx: RequestContext = {
      id,
      get cancelled() {
        return isCancelled();
      },
      step(done, total, message) {
        if (isCancelled()) throw new CancelledError();
        const now = Date.now();
        const m: FromWorker = { type: 'progress', id, done, total, message };
        if (now - lastProgress >= 100 || done >= total) {
          lastProgress = now;
          held = null;
          post(m);
        } else held = m;
      },
      emit(event) {
        if (held) post(held);
        held = null;
        post({ type: 'event', id, event });
      },
      log(level, message) {
        post({ type: 'log', level, message });
      },
    };
    const handler = handlers[request.type] as Handlers[EngineRequestType] | undefined;
    try {
      if (!handler) throw new Error(`unknown request type '${String(request.type)}'`);
      const result = await (handler as (p: EngineRequest, c: RequestContext) => Promise<unknown>)(request, ctx);
      post({ type: 'done', id, outcome: isCancelled() ? { type: 'cancelled' } : { type: 'result', result } });
    } catch (e) {
      if (e instanceof CancelledError || isCancelled()) {
        post({ type: 'done', id, outcome: { type: 'cancelled' } });
      } else {
        const err = e instanceof Error ? e : new Error(String(e));
        const user = err instanceof LensError;
        post({ type: 'done', id, outcome: { type: 'error', message: err.message.split('\n')[0], user, stack: user ? undefined : err.stack, fatal: isWasmTrap(err) } });
      }
    }
  });
}

/**
 * A trap inside the wasm backend (out-of-bounds access, abort) may leave its heap corrupt: every later
 * request in this process could fail or compute garbage. Loaders keep tfjs's error as `cause`.
 */
function isWasmTrap(e: unknown): boolean {
  for (let cur = e, depth = 0; cur && depth < 4; cur = (cur as { cause?: unknown }).cause, depth++) {
    if (typeof WebAssembly !== 'undefined' && cur instanceof WebAssembly.RuntimeError) return true;
    if (cur instanceof Error && /Aborted\(|memory access out of bounds|RuntimeError: unreachable/.test(cur.message)) return true;
  }
  return false;
}

// ─────────────────────────── main thread: IPC, queue, cancel ───────────────────────────

function send(m: EngineToHost): void {
  if (process.send && process.connected) process.send(m);
}

function serverMain(): void {
  const cancelFlag = new SharedArrayBuffer(4);
  const flag = new Int32Array(cancelFlag);
  const worker = new Worker(__filename, { workerData: { role: 'cnn-lens-compute', cancelFlag } satisfies WorkerData });
  const queue: { id: number; request: EngineRequest }[] = [];
  let running: number | null = null;

  const pump = () => {
    if (running !== null) return;
    const next = queue.shift();
    if (!next) return;
    running = next.id;
    worker.postMessage({ type: 'run', id: next.id, request: next.request } satisfies ToWorker);
  };

  worker.on('message', (m: FromWorker) => {
    switch (m.type) {
      case 'done':
        if (m.id === running) running = null;
        if (m.outcome.type === 'result') send({ type: 'result', id: m.id, result: m.outcome.result });
        else if (m.outcome.type === 'cancelled') send({ type: 'cancelled', id: m.id });
        else if (m.outcome.fatal) {
          // Answer this request, then end the engine: the host fails what is queued and the next request
          // starts a fresh engine with a clean wasm heap.
          const reply: EngineToHost = { type: 'error', id: m.id, message: m.outcome.message, user: m.outcome.user, stack: m.outcome.stack };
          process.stderr.write('engine: the wasm backend trapped; stopping so the next request gets a fresh engine\n');
          if (process.send && process.connected) process.send(reply, () => process.exit(75));
          else process.exit(75);
          return;
        } else send({ type: 'error', id: m.id, message: m.outcome.message, user: m.outcome.user, stack: m.outcome.stack });
        pump();
        return;
      case 'progress':
        send(m);
        return;
      case 'event':
        send(m);
        return;
      case 'log':
        send(m);
        return;
    }
  });
  // The worker's death (out of memory, a native fault) is the engine's death: the host reports it and
  // fails the pending requests; a half-alive engine would only hang them.
  worker.on('error', (e) => {
    process.stderr.write(`engine worker failed: ${e.stack ?? e.message}\n`);
    process.exit(70);
  });
  worker.on('exit', (code) => {
    process.stderr.write(`engine worker exited with code ${code}\n`);
    process.exit(code === 0 ? 70 : code);
  });

  process.on('message', (raw: unknown) => {
    if (!isObject(raw)) return;
    const m = raw as HostToEngine;
    switch (m.type) {
      case 'request':
        if (typeof m.id !== 'number' || !isObject(m.request) || typeof m.request.type !== 'string') {
          send({ type: 'log', level: 'warn', message: 'ignored a malformed request' });
          return;
        }
        queue.push({ id: m.id, request: m.request });
        pump();
        return;
      case 'cancel': {
        const i = queue.findIndex((j) => j.id === m.id);
        if (i >= 0) {
          queue.splice(i, 1);
          send({ type: 'cancelled', id: m.id });
        } else if (running === m.id) {
          Atomics.store(flag, 0, m.id);
        }
        return;
      }
      default:
        send({ type: 'log', level: 'warn', message: `ignored a message of unknown type '${String((m as { type?: unknown }).type)}'` });
    }
  });
  // The extension host went away (window closed, host crashed): nothing left to serve.
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', pid: process.pid });
}

if (!isMainThread && (workerData as WorkerData | undefined)?.role === 'cnn-lens-compute') workerMain(workerData as WorkerData);
else if (isMainThread && process.send) serverMain();
