// The extension's side of the engine process: forks dist/engine.js lazily (one per window), queues
// requests from every panel and sends them one at a time, so a request's time limit counts its own run.
// Every request ends in exactly one of: result (resolve), error, cancelled (reject with EngineRequestError).
// If the engine dies (crash, out of memory, killed) or a request overruns its time limit, every pending
// request fails with that reason and the next request starts a fresh engine. Nothing here throws into
// the extension host: child-process failures become rejected requests and a state change.
// No vscode import: the extension wires logging, settings and notifications in (testable in plain Node).
import { fork, type ChildProcess } from 'node:child_process';
import {
  type EngineEvent,
  type EngineInfo,
  type EngineRequest,
  type EngineRequestOf,
  type EngineRequestType,
  type EngineResult,
  type EngineState,
  type EngineToHost,
  parseEngineMessage,
} from '../shared/protocol';

export type EngineFailure = 'error' | 'user-error' | 'cancelled' | 'timeout' | 'crashed' | 'stopped';

/** Why a request did not produce a result. `reason === 'cancelled'` is the cancelled outcome. */
export class EngineRequestError extends Error {
  constructor(
    message: string,
    readonly reason: EngineFailure,
    readonly engineStack?: string,
  ) {
    super(message);
    this.name = 'EngineRequestError';
  }
}

export function isCancelled(e: unknown): boolean {
  return e instanceof EngineRequestError && e.reason === 'cancelled';
}

/** The part of vscode.CancellationToken used here. */
export interface CancelToken {
  readonly isCancellationRequested: boolean;
  onCancellationRequested(listener: () => void): { dispose(): void };
}

export interface Progress { done: number; total: number; message?: string }

export interface RequestOptions {
  /** Time limit for the request's own run (queue time not counted); default from the client options. */
  timeoutMs?: number;
  token?: CancelToken;
  onProgress?(p: Progress): void;
  onEvent?(e: EngineEvent): void;
}

export interface EngineClientOptions {
  /** Absolute path of the bundled engine (dist/engine.js). */
  enginePath: string;
  /** Extra environment for the engine (e.g. CNN_LENS_BACKEND), read at each start. */
  env?: () => Record<string, string>;
  /** Node flags for the engine, read at each start (e.g. a heap cap). */
  execArgv?: () => string[];
  /** Default time limit per request, ms. */
  timeoutMs?: () => number;
  /** How long a cancelled request may take to stop before the engine is killed. */
  cancelGraceMs?: number;
  /** How long the engine may take to say it is ready. */
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

interface Pending {
  id: number;
  request: EngineRequest;
  opts: RequestOptions;
  resolve(v: unknown): void;
  reject(e: EngineRequestError): void;
  timer?: NodeJS.Timeout;
  cancelTimer?: NodeJS.Timeout;
  tokenSub?: { dispose(): void };
  /** Internal requests (the start-up `info`) don't show the engine as busy. */
  internal?: boolean;
  /** When it was queued (Date.now()): the log gives each request's time, waiting included. */
  queuedAt: number;
}

const base = (f: string) => f.split(/[\\/]/).slice(-2).join('/');

/**
 * One request in words, for the log: its kind and what it works on ("dream tm-waste-12/model.json
 * on arrow.png, layers a, b"). Maps and pixels are left out.
 */
export function describeRequest(r: EngineRequest): string {
  const parts: string[] = [r.type];
  const o = r as unknown as Record<string, unknown>;
  if (typeof o.model === 'string') parts.push(base(o.model));
  if (typeof o.image === 'string') parts.push(`on ${base(o.image)}`);
  if (typeof o.method === 'string') parts.push(`with ${o.method}`);
  if (typeof o.classIndex === 'number') parts.push(`class ${o.classIndex}`);
  if (typeof o.layer === 'string') parts.push(`at ${o.layer}`);
  if (Array.isArray(o.layers) && o.layers.length) parts.push(`at ${o.layers.join(', ')}`);
  if (typeof o.first === 'number' && typeof o.last === 'number') parts.push(`channels ${o.first}–${o.last}`);
  if (typeof o.steps === 'number') parts.push(`${o.steps} steps`);
  return parts.join(' ');
}

/** Requests too small or too frequent to log (status polls). */
const UNLOGGED: ReadonlySet<string> = new Set(['ping', 'info']);

type Listener<T> = (v: T) => void;

export class EngineClient {
  private child: ChildProcess | null = null;
  private ready: Promise<void> | null = null;
  private queue: Pending[] = [];
  private running: Pending | null = null;
  private nextId = 1;
  private stderrTail: string[] = [];
  private info: EngineInfo | null = null;
  private _state: EngineState = { type: 'stopped' };
  private stateListeners = new Set<Listener<EngineState>>();
  private crashListeners = new Set<Listener<string>>();
  private disposed = false;

  constructor(private readonly opts: EngineClientOptions) {}

  get state(): EngineState {
    return this._state;
  }

  /** The engine's process id while it runs (tests kill it to check recovery). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  get engineInfo(): EngineInfo | null {
    return this.info;
  }

  onDidChangeState(l: Listener<EngineState>): { dispose(): void } {
    this.stateListeners.add(l);
    return { dispose: () => this.stateListeners.delete(l) };
  }

  /** Fired when the engine died or was killed for overrunning a time limit (not for stop/restart). */
  onDidCrash(l: Listener<string>): { dispose(): void } {
    this.crashListeners.add(l);
    return { dispose: () => this.crashListeners.delete(l) };
  }

  /** Sends a request; resolves with its result or rejects with an EngineRequestError. */
  request<K extends EngineRequestType>(request: EngineRequestOf<K>, opts: RequestOptions = {}): Promise<EngineResult<K>> {
    return this.enqueue(request, opts, false) as Promise<EngineResult<K>>;
  }

  /** Starts the engine if needed and returns its info (backend, versions). */
  async start(): Promise<EngineInfo> {
    await this.ensureStarted();
    if (this.info) return this.info;
    return this.request({ type: 'info' });
  }

  /** Stops the engine (pending requests fail with 'stopped'), then starts a fresh one. */
  async restart(): Promise<EngineInfo> {
    this.stop('the engine was restarted');
    return this.start();
  }

  /** Stops the engine; pending requests fail with `reason`. */
  stop(reason = 'the engine was stopped'): void {
    this.killChild();
    this.failAll(new EngineRequestError(reason, 'stopped'));
    this.setState({ type: 'stopped' });
  }

  dispose(): void {
    this.disposed = true;
    this.stop('CNN Lens was deactivated');
    this.stateListeners.clear();
    this.crashListeners.clear();
  }

  // ─────────────────────────── internals ───────────────────────────

  private log(line: string): void {
    this.opts.log?.(line);
  }

  private setState(s: EngineState): void {
    this._state = s;
    for (const l of this.stateListeners) {
      try {
        l(s);
      } catch {
        /* a listener's fault is not the engine's */
      }
    }
  }

  private updateBusyState(): void {
    if (!this.child || !this.info) return;
    const pending = this.queue.length + (this.running && !this.running.internal ? 1 : 0);
    const base = { backend: this.info.backend, pid: this.info.pid };
    this.setState(pending > 0 ? { type: 'busy', ...base, pending } : { type: 'idle', ...base });
  }

  private enqueue(request: EngineRequest, opts: RequestOptions, internal: boolean): Promise<unknown> {
    if (this.disposed) return Promise.reject(new EngineRequestError('CNN Lens was deactivated', 'stopped'));
    return new Promise((resolve, reject) => {
      const p: Pending = { id: this.nextId++, request, opts, resolve, reject, internal, queuedAt: Date.now() };
      if (opts.token?.isCancellationRequested) {
        reject(new EngineRequestError('cancelled', 'cancelled'));
        return;
      }
      p.tokenSub = opts.token?.onCancellationRequested(() => this.cancel(p));
      if (internal) this.queue.unshift(p);
      else this.queue.push(p);
      this.updateBusyState();
      void this.pump();
    });
  }

  private settle(p: Pending, outcome: { result: unknown } | { error: EngineRequestError }): void {
    if (p.timer) clearTimeout(p.timer);
    if (p.cancelTimer) clearTimeout(p.cancelTimer);
    p.tokenSub?.dispose();
    if (this.running === p) this.running = null;
    const i = this.queue.indexOf(p);
    if (i >= 0) this.queue.splice(i, 1);
    if (!p.internal && !UNLOGGED.has(p.request.type)) {
      const secs = ((Date.now() - p.queuedAt) / 1000).toFixed(2);
      const how = 'result' in outcome ? `done in ${secs} s` : outcome.error.reason === 'cancelled' ? `cancelled after ${secs} s` : `failed after ${secs} s: ${outcome.error.message.split('\n')[0]}`;
      this.log(`${describeRequest(p.request)}: ${how}`);
    }
    if ('result' in outcome) p.resolve(outcome.result);
    else p.reject(outcome.error);
  }

  private cancel(p: Pending): void {
    if (this.queue.includes(p)) {
      this.settle(p, { error: new EngineRequestError('cancelled', 'cancelled') });
      this.updateBusyState();
      return;
    }
    if (this.running !== p || p.cancelTimer) return;
    this.child?.send({ type: 'cancel', id: p.id });
    // An engine stuck inside one long step cannot see the cancel: give it a grace period, then kill it.
    p.cancelTimer = setTimeout(() => {
      if (this.running !== p) return;
      this.log(`request ${p.id} (${p.request.type}) did not stop within ${this.cancelGraceMs()} ms of cancel; killing the engine`);
      this.settle(p, { error: new EngineRequestError('cancelled', 'cancelled') });
      this.killChild();
      this.failAll(new EngineRequestError('the engine was restarted after a request did not stop on cancel', 'stopped'));
      this.setState({ type: 'stopped' });
    }, this.cancelGraceMs());
  }

  private cancelGraceMs(): number {
    return this.opts.cancelGraceMs ?? 5000;
  }

  private async pump(): Promise<void> {
    if (this.running || this.queue.length === 0) return;
    const p = this.queue[0];
    try {
      await this.ensureStarted();
    } catch (e) {
      this.failAll(e instanceof EngineRequestError ? e : new EngineRequestError(String(e), 'crashed'));
      return;
    }
    // The queue may have changed while starting (cancel, stop, a start-up info jumping ahead).
    if (this.running || this.queue[0] !== p || !this.child) {
      void this.pump();
      return;
    }
    this.queue.shift();
    this.running = p;
    this.updateBusyState();
    const timeoutMs = p.opts.timeoutMs ?? this.opts.timeoutMs?.() ?? 10 * 60_000;
    p.timer = setTimeout(() => this.onTimeout(p, timeoutMs), timeoutMs);
    try {
      this.child.send({ type: 'request', id: p.id, request: p.request });
    } catch (e) {
      this.onChildGone(`could not send to the engine: ${(e as Error).message}`);
    }
  }

  private onTimeout(p: Pending, timeoutMs: number): void {
    if (this.running !== p) return;
    const reason = `${p.request.type} took longer than its time limit of ${Math.round(timeoutMs / 1000)} s; the engine was stopped`;
    this.log(reason);
    this.killChild();
    this.failAll(new EngineRequestError(reason, 'timeout'));
    this.setState({ type: 'crashed', reason });
    this.emitCrash(reason);
  }

  private emitCrash(reason: string): void {
    for (const l of this.crashListeners) {
      try {
        l(reason);
      } catch {
        /* ignore */
      }
    }
  }

  private failAll(err: EngineRequestError): void {
    const all = [...(this.running ? [this.running] : []), ...this.queue];
    this.running = null;
    this.queue = [];
    for (const p of all) this.settle(p, { error: err });
  }

  private ensureStarted(): Promise<void> {
    if (this.child && this.ready) return this.ready;
    this.setState({ type: 'starting' });
    this.info = null;
    this.stderrTail = [];
    const env = { ...process.env, ELECTRON_RUN_AS_NODE: '1', ...(this.opts.env?.() ?? {}) };
    let child: ChildProcess;
    try {
      child = fork(this.opts.enginePath, [], {
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        serialization: 'advanced',
        // Never inherit the extension host's flags (an --inspect port would collide).
        execArgv: this.opts.execArgv?.() ?? [],
        env,
      });
    } catch (e) {
      const reason = `could not start the engine: ${(e as Error).message}`;
      this.setState({ type: 'crashed', reason });
      return Promise.reject(new EngineRequestError(reason, 'crashed'));
    }
    this.child = child;
    this.log(`engine starting (pid ${child.pid}): ${this.opts.enginePath}`);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => this.logLines('engine', d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.logLines('engine stderr', d);
      this.stderrTail.push(...d.split('\n').filter(Boolean));
      if (this.stderrTail.length > 40) this.stderrTail.splice(0, this.stderrTail.length - 40);
    });
    let readyResolve!: () => void;
    let readyReject!: (e: EngineRequestError) => void;
    const ready = new Promise<void>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    ready.catch(() => undefined);
    const startTimer = setTimeout(() => {
      if (this.child !== child) return;
      readyReject(new EngineRequestError(`the engine did not start within ${this.startTimeoutMs() / 1000} s`, 'crashed'));
      this.onChildGone(`the engine did not start within ${this.startTimeoutMs() / 1000} s`);
    }, this.startTimeoutMs());
    child.on('message', (raw) => {
      if (this.child !== child) return;
      const m = parseEngineMessage(raw);
      if (!m) {
        this.log(`ignored a malformed message from the engine: ${JSON.stringify(raw)?.slice(0, 200)}`);
        return;
      }
      if (m.type === 'ready') {
        clearTimeout(startTimer);
        readyResolve();
        // Learn the backend first, ahead of any queued request.
        void this.enqueue({ type: 'info' }, {}, true).then(
          (info) => {
            this.info = info as EngineInfo;
            this.log(`engine ready: pid ${this.info.pid}, backend ${this.info.backend}, node ${this.info.node}`);
            this.updateBusyState();
          },
          (e: EngineRequestError) => this.log(`engine info failed: ${e.message}`),
        );
        return;
      }
      this.onEngineMessage(m);
    });
    child.on('error', (e) => {
      if (this.child !== child) return;
      clearTimeout(startTimer);
      readyReject(new EngineRequestError(`engine process error: ${e.message}`, 'crashed'));
      this.onChildGone(`engine process error: ${e.message}`);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(startTimer);
      if (this.child !== child) return;
      const why = this.describeExit(code, signal);
      readyReject(new EngineRequestError(why, 'crashed'));
      this.onChildGone(why);
    });
    this.ready = ready;
    return ready;
  }

  private startTimeoutMs(): number {
    return this.opts.startTimeoutMs ?? 30_000;
  }

  private describeExit(code: number | null, signal: NodeJS.Signals | null): string {
    const oom = this.stderrTail.some((l) => /heap out of memory|Allocation failed|out of memory/i.test(l));
    if (oom) return 'the engine ran out of memory and stopped';
    if (signal) return `the engine stopped unexpectedly (killed by ${signal})`;
    return `the engine stopped unexpectedly (exit code ${code})`;
  }

  /** The child is gone or unusable: fail everything, report, and let the next request start afresh. */
  private onChildGone(reason: string): void {
    this.killChild();
    this.log(reason);
    if (this.stderrTail.length) this.log(`last engine output:\n  ${this.stderrTail.slice(-10).join('\n  ')}`);
    this.failAll(new EngineRequestError(reason, 'crashed'));
    this.setState({ type: 'crashed', reason });
    this.emitCrash(reason);
  }

  private killChild(): void {
    const c = this.child;
    this.child = null;
    this.ready = null;
    this.info = null;
    if (c && c.exitCode === null && c.signalCode === null) {
      try {
        c.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }

  private onEngineMessage(m: Exclude<EngineToHost, { type: 'ready' }>): void {
    if (m.type === 'log') {
      this.log(`engine ${m.level}: ${m.message}`);
      return;
    }
    const p = this.running && this.running.id === m.id ? this.running : null;
    if (!p) return; // a late answer to a request that already ended (cancelled, timed out)
    switch (m.type) {
      case 'progress':
        safe(() => p.opts.onProgress?.({ done: m.done, total: m.total, message: m.message }));
        return;
      case 'event':
        safe(() => p.opts.onEvent?.(m.event));
        return;
      case 'result':
        this.settle(p, { result: m.result });
        break;
      case 'error':
        if (m.stack) this.log(`engine error in ${p.request.type}: ${m.stack}`);
        this.settle(p, { error: new EngineRequestError(m.message, m.user ? 'user-error' : 'error', m.stack) });
        break;
      case 'cancelled':
        this.settle(p, { error: new EngineRequestError('cancelled', 'cancelled') });
        break;
    }
    this.updateBusyState();
    void this.pump();
  }

  private logLines(prefix: string, text: string): void {
    for (const line of text.split('\n')) if (line.trim()) this.log(`${prefix}: ${line}`);
  }
}

function safe(f: () => void): void {
  try {
    f();
  } catch {
    /* a panel's callback must not break the engine client */
  }
}
