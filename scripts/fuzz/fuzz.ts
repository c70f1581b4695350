// Mutation fuzzing of the loaders: tfjs model.json + shards, Keras .h5 / .keras / architecture JSON + weights,
// and images. `npm run fuzz -- --help` for the options.
//
// Each case is a seed from test/fuzz/corpus/ with a few recorded mutations (scripts/fuzz/mutate.ts), written to
// a fresh folder under a private temporary root, then opened by a child process (scripts/fuzz/worker.ts) that
// runs the engine's own loaders. The oracle, per case:
//  - the file loads (and a model predicts once) or decodes, or the loader throws a LensError whose message is
//    one line naming a file of the case;
//  - the child answers within the time limit (else: hang), stays alive (else: crash: abort, segfault, V8 out
//    of memory) and under the memory limit (its resident size is watched: else: memory);
//  - nothing is written into the case's folder, the child's working folder or its TMPDIR (a Keras archive's
//    temporary extraction must be gone when the call returns);
//  - nothing is opened outside the case's folder (symbolic links resolved): hostile cases point links and
//    '../' paths at a decoy folder of good copies beside it, which a loader must not read (else: read-outside).
// A LensError whose text carries a JavaScript fault ("Cannot read properties of undefined", "Invalid typed array
// length") meets the oracle but is listed as a weak message. Failing cases are saved (git-ignored) under
// test/fuzz/failures/, shrunk by dropping mutations while the failure stays the same.
import { fork, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeRng } from '../../src/engine/random';
import { applyOps, int, onnxAsJson, OUTSIDE, pick, randomBytesOp, randomImageDimOp, randomJsonOp, randomOnnxOp, randomZipOp, linkBytes, writeFiles, type Files, type Op, type Rng } from './mutate';
import type { CaseReply, CaseRequest } from './worker';

type Target = CaseRequest['target'];
const TARGETS: Target[] = ['tfjs', 'keras', 'image', 'onnx'];

interface Options {
  seconds: number;
  seed: number;
  targets: Target[];
  caseTimeoutMs: number;
  memoryMB: number;
  corpus: string;
  failures: string;
  replay: string | null;
  verbose: boolean;
  minimize: boolean;
  /** Also save passing cases whose message matches (to harvest regression cases for fixed faults). */
  saveMatching: RegExp | null;
}

const HELP = `npm run fuzz -- [options]
  --seconds N         total time budget, shared equally by the targets (default 60)
  --seed S            random seed (default: from the clock; printed, so a run can be repeated)
  --targets a,b       which of tfjs, keras, image, onnx (default: all)
  --case-timeout MS   a case that takes longer is a hang (default 30000)
  --memory-mb N       heap cap (--max-old-space-size) and resident-size limit of the child (default 2048)
  --corpus DIR        seed corpus (default test/fuzz/corpus)
  --failures DIR      where failing inputs are saved (default test/fuzz/failures, git-ignored)
  --replay DIR        run one saved failure again and print its outcome
  --no-minimize       save failures as found, without shrinking them
  --save-matching RE  also save (once per message kind) passing cases whose message matches RE
  --verbose           print every case's outcome
  --make-corpus       rewrite the seed corpus (scripts/fuzz/make-corpus.ts) instead of fuzzing`;

function parseArgs(argv: string[]): Options {
  const o: Options = {
    seconds: 60,
    seed: Date.now() % 2 ** 31,
    targets: TARGETS,
    caseTimeoutMs: 30_000,
    memoryMB: 2048,
    corpus: 'test/fuzz/corpus',
    failures: 'test/fuzz/failures',
    replay: null,
    verbose: false,
    minimize: true,
    saveMatching: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    const num = (): number => {
      const v = Number(val());
      if (!Number.isFinite(v) || v < 0) usage(`${a} needs a non-negative number`);
      return v;
    };
    switch (a) {
      case '--seconds': o.seconds = num(); break;
      case '--seed': o.seed = Math.floor(num()); break;
      case '--targets': {
        const ts = val().split(',').map((s) => s.trim()) as Target[];
        for (const t of ts) if (!TARGETS.includes(t)) usage(`unknown target '${t}' (expected ${TARGETS.join(', ')})`);
        o.targets = ts;
        break;
      }
      case '--case-timeout': o.caseTimeoutMs = num(); break;
      case '--memory-mb': o.memoryMB = num(); break;
      case '--corpus': o.corpus = val(); break;
      case '--failures': o.failures = val(); break;
      case '--replay': o.replay = val(); break;
      case '--no-minimize': o.minimize = false; break;
      case '--save-matching': o.saveMatching = new RegExp(val()); break;
      case '--verbose': o.verbose = true; break;
      case '--help': case '-h': console.log(HELP); process.exit(0); break;
      default: usage(`unknown option '${a}'`);
    }
  }
  return o;
}

function usage(msg: string): never {
  console.error(`fuzz: ${msg}\n${HELP}`);
  process.exit(2);
}

// ───────────────────────── seeds ─────────────────────────

interface Seed {
  target: Target;
  name: string;
  files: Files;
  /** Relative path of the file to open, and of the weights file for an architecture JSON. */
  entry: string;
  weights?: string;
}

function readFolder(dir: string): Files {
  const files: Files = new Map();
  for (const f of fs.readdirSync(dir)) {
    const p = path.join(dir, f);
    // A saved failure may hold the symbolic links its ops made: kept as links.
    if (fs.lstatSync(p).isSymbolicLink()) files.set(f, linkBytes(fs.readlinkSync(p)));
    else if (fs.statSync(p).isFile()) files.set(f, new Uint8Array(fs.readFileSync(p)));
  }
  return files;
}

function loadSeeds(corpus: string): Seed[] {
  if (!fs.existsSync(corpus)) usage(`no seed corpus at ${corpus} (make it with npm run fuzz -- --make-corpus)`);
  const seeds: Seed[] = [];
  const tfjs = path.join(corpus, 'tfjs');
  for (const d of fs.readdirSync(tfjs).sort()) seeds.push({ target: 'tfjs', name: `tfjs/${d}`, files: readFolder(path.join(tfjs, d)), entry: 'model.json' });
  const keras = path.join(corpus, 'keras');
  for (const f of fs.readdirSync(keras).sort()) {
    const p = path.join(keras, f);
    if (fs.statSync(p).isDirectory()) seeds.push({ target: 'keras', name: `keras/${f}`, files: readFolder(p), entry: 'model.json', weights: 'weights.h5' });
    else seeds.push({ target: 'keras', name: `keras/${f}`, files: new Map([[f, new Uint8Array(fs.readFileSync(p))]]), entry: f });
  }
  const onnx = path.join(corpus, 'onnx');
  if (fs.existsSync(onnx)) for (const d of fs.readdirSync(onnx).sort()) seeds.push({ target: 'onnx', name: `onnx/${d}`, files: readFolder(path.join(onnx, d)), entry: 'model.onnx' });
  const images = path.join(corpus, 'images');
  for (const f of fs.readdirSync(images).sort()) seeds.push({ target: 'image', name: `images/${f}`, files: new Map([[f, new Uint8Array(fs.readFileSync(path.join(images, f)))]]), entry: f });
  return seeds;
}

// ───────────────────────── choosing mutations ─────────────────────────

const dec = new TextDecoder();

function parseJson(b: Uint8Array | undefined): unknown {
  if (!b) return undefined;
  try {
    return JSON.parse(dec.decode(b));
  } catch {
    return undefined;
  }
}

/** One mutation of the current files of a case, chosen by the seed's kind. */
function chooseOp(rng: Rng, seed: Seed, files: Files): Op {
  const names = [...files.keys()];
  if (!names.length) return { t: 'rm', file: seed.entry };
  const any = (): Op => {
    const f = pick(rng, names);
    return randomBytesOp(rng, f, files.get(f)!);
  };
  const r = rng();
  if (seed.target === 'image') {
    const f = seed.entry;
    const b = files.get(f);
    if (!b) return any();
    if (r < 0.35) return randomImageDimOp(rng, f, b) ?? randomBytesOp(rng, f, b);
    if (r < 0.45 && b[1] === 0x50) return { t: 'pngcrc', file: f };
    return randomBytesOp(rng, f, b);
  }
  if (seed.target === 'onnx') {
    const b = files.get(seed.entry);
    if (!b) return any();
    // Aimed at what hostile ONNX files do (cycles, unknown ops, huge tensors, escapes, wire types, truncation).
    if (r < 0.4) return randomOnnxOp(rng, seed.entry, b, onnxAsJson(b), names);
    const json = r < 0.75 ? onnxAsJson(b) : undefined;
    if (json !== undefined) return { t: 'onnx', file: seed.entry, op: randomJsonOp(rng, seed.entry, json) };
    if (r < 0.93) return randomBytesOp(rng, seed.entry, b);
    const f = pick(rng, names);
    return rng() < 0.5 ? { t: 'rm', file: f } : { t: 'mv', file: f, to: `${f}.moved` };
  }
  const jsonName = seed.entry.endsWith('.json') ? seed.entry : null;
  if (seed.target === 'tfjs' || jsonName) {
    const json = jsonName ? parseJson(files.get(jsonName)) : undefined;
    if (r < 0.6 && json !== undefined) return randomJsonOp(rng, jsonName!, json);
    const bins = names.filter((n) => !n.endsWith('.json') && !n.endsWith('.txt'));
    if (r < 0.85 && bins.length) {
      const f = pick(rng, bins);
      const b = files.get(f)!;
      // Shards: NaN/Inf floats and truncation more often than arbitrary bytes.
      if (f.endsWith('.bin') && rng() < 0.4) return rng() < 0.5 ? { t: 'setFloat', file: f, pos: int(rng, Math.max(1, b.length >> 2)) * 4, value: pick(rng, [NaN, Infinity, -Infinity, 3.4e38]) } : { t: 'truncate', file: f, len: int(rng, b.length) };
      return randomBytesOp(rng, f, b);
    }
    if (r < 0.9) {
      const f = pick(rng, names);
      const q = rng();
      if (q < 0.4) return { t: 'rm', file: f };
      if (q < 0.8) return { t: 'mv', file: f, to: `${f}.moved` };
      // A shard, labels.txt or metadata.json replaced by a symbolic link out of the folder. The files the user
      // names (the entry, an architecture JSON's --weights file) stay files: following a link the user gave is right.
      const linked = pick(rng, [...names.filter((n) => n !== seed.entry && n !== seed.weights), 'labels.txt', 'metadata.json']);
      return { t: 'symlink', file: linked, to: pick(rng, [`../${OUTSIDE}/${linked}`, '/etc/passwd', '/dev/zero', 'missing.bin']) };
    }
    return any();
  }
  // Keras single files.
  const b = files.get(seed.entry);
  if (!b) return any();
  if (seed.entry.endsWith('.keras')) return randomZipOp(rng, seed.entry, b);
  return randomBytesOp(rng, seed.entry, b);
}

interface Case {
  n: number;
  seed: Seed;
  rngSeed: number;
  ops: Op[];
}

function makeCase(n: number, seed: Seed, rngSeed: number): Case {
  const rng = makeRng(rngSeed);
  const count = 1 + (rng() < 0.5 ? 0 : rng() < 0.5 ? 1 : 2 + int(rng, 4));
  let files = seed.files;
  const ops: Op[] = [];
  for (let i = 0; i < count; i++) {
    const op = chooseOp(rng, seed, files);
    ops.push(op);
    files = applyOps(files, [op]);
  }
  return { n, seed, rngSeed, ops };
}

// ───────────────────────── the child ─────────────────────────

interface Outcome {
  kind: 'ok' | 'refused' | 'weak-message' | 'hang' | 'crash' | 'memory' | 'not-a-lens-error' | 'multi-line' | 'no-file-name' | 'wrote-files' | 'escaped-error' | 'read-outside';
  message: string;
  ms: number;
  /** The error's stack, for faults that are not LensErrors (where the fix goes). */
  stack?: string;
}
const SOFT: Outcome['kind'][] = ['ok', 'refused', 'weak-message'];

class Child {
  proc: ChildProcess | null = null;
  cases = 0;
  escaped: string[] = [];
  private pending: ((m: any) => void) | null = null;
  private gone: ((why: string) => void) | null = null;
  lastStderr = '';

  constructor(private readonly root: string, private readonly opts: Options) {}

  get tmp(): string {
    return path.join(this.root, 'tmp');
  }
  get cwd(): string {
    return path.join(this.root, 'cwd');
  }

  async start(): Promise<void> {
    fs.rmSync(this.tmp, { recursive: true, force: true });
    fs.rmSync(this.cwd, { recursive: true, force: true });
    fs.mkdirSync(this.tmp, { recursive: true });
    fs.mkdirSync(this.cwd, { recursive: true });
    const proc = fork(path.join(__dirname, 'worker.js'), [], {
      cwd: this.cwd,
      execArgv: ['--enable-source-maps', `--max-old-space-size=${this.opts.memoryMB}`],
      env: { ...process.env, TMPDIR: this.tmp, TMP: this.tmp, TEMP: this.tmp, CNN_LENS_WASM_THREADS: '1' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.proc = proc;
    this.cases = 0;
    proc.stderr!.on('data', (d: Buffer) => {
      this.lastStderr = (this.lastStderr + d.toString()).slice(-4000);
    });
    // Events of a child that was stopped (and maybe replaced) already are ignored.
    proc.on('message', (m: any) => {
      if (this.proc !== proc) return;
      if (m?.type === 'escaped') {
        this.escaped.push(m.message);
        return;
      }
      const p = this.pending;
      this.pending = null;
      p?.(m);
    });
    proc.on('exit', (code, signal) => {
      if (this.proc !== proc) return;
      this.proc = null;
      const g = this.gone;
      this.gone = null;
      g?.(signal ? `killed by ${signal}` : `exited with code ${code}`);
    });
    await new Promise<void>((resolve, reject) => {
      this.pending = (m) => (m?.type === 'ready' ? resolve() : reject(new Error('child spoke before ready')));
      this.gone = (why) => reject(new Error(`the fuzz child ${why} while starting: ${this.lastStderr}`));
    });
  }

  stop(): void {
    const p = this.proc;
    this.proc = null;
    this.pending = null;
    this.gone = null;
    if (p && p.exitCode === null) p.kill('SIGKILL');
  }

  /** Runs a request; resolves with the reply or a failure outcome (hang, crash, memory). */
  async run(req: CaseRequest): Promise<CaseReply | Outcome> {
    if (!this.proc) await this.start();
    const proc = this.proc!;
    this.lastStderr = '';
    this.cases++;
    const t0 = Date.now();
    return new Promise((resolve) => {
      let done = false;
      const finish = (v: CaseReply | Outcome) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearInterval(watch);
        this.pending = null;
        this.gone = null;
        resolve(v);
      };
      const timer = setTimeout(() => {
        this.stop();
        finish({ kind: 'hang', message: `no answer within ${this.opts.caseTimeoutMs} ms`, ms: Date.now() - t0 });
      }, this.opts.caseTimeoutMs);
      // The heap cap does not cover ArrayBuffers or WebAssembly memory: watch the resident size too.
      const watch = setInterval(() => {
        const rss = residentMB(proc.pid);
        if (rss > this.opts.memoryMB * 1.5) {
          this.stop();
          finish({ kind: 'memory', message: `resident size reached ${rss} MB (limit ${Math.round(this.opts.memoryMB * 1.5)} MB)`, ms: Date.now() - t0 });
        }
      }, 100);
      this.pending = (m) => finish(m as CaseReply);
      this.gone = (why) => {
        const tail = this.lastStderr.trim().split('\n').filter((l) => l.trim()).slice(-3).join(' | ');
        finish({ kind: 'crash', message: `child ${why}${tail ? `: ${tail.slice(0, 400)}` : ''}`, ms: Date.now() - t0 });
      };
      proc.send(req);
    });
  }
}

function residentMB(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmRSS:\s+(\d+) kB/.exec(s);
    return m ? Math.round(Number(m[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

// ───────────────────────── running one case ─────────────────────────

function snapshot(dir: string): string {
  if (!fs.existsSync(dir)) return '';
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const st = fs.lstatSync(p);
      out.push(`${path.relative(dir, p)} ${st.size} ${st.mtimeMs}`);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort().join('\n');
}

function writeCase(dir: string, files: Files): void {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  writeFiles(dir, files);
}

/**
 * The decoy folder beside the case folder (mutate.ts OUTSIDE): good copies of the seed's files, and a labels
 * file and metadata.json, for the links and '../' paths of hostile cases to lead to. A loader that opens
 * anything there has left the model's folder.
 */
function writeDecoy(caseDir: string, seedFiles: Files): void {
  const dir = path.join(path.dirname(caseDir), OUTSIDE);
  const decoy: Files = new Map([
    ['labels.txt', new TextEncoder().encode('decoy 0\ndecoy 1\ndecoy 2\n')],
    ['metadata.json', new TextEncoder().encode(JSON.stringify({ labels: ['decoy 0', 'decoy 1', 'decoy 2'] }))],
  ]);
  for (const [name, b] of seedFiles) decoy.set(name, b);
  writeCase(dir, decoy);
}

/** Whether `p` is `dir` or inside it. */
function inside(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir + path.sep);
}

/**
 * Files the child opened during a case that are not the case's own: anything that exists (links resolved)
 * outside the case folder, the child's TMPDIR (a .keras archive's extraction) and the project's own files
 * (lazily loaded WebAssembly). Paths that do not exist read nothing: HDF5 looks for filter plugins in the
 * folders it was built with ('/usr/local/hdf5/lib/plugin') when a file names a filter it lacks.
 */
function openedOutside(opened: string[], caseDir: string, child: Child): string[] {
  const allowed = [fs.realpathSync(caseDir), fs.realpathSync(child.tmp), fs.realpathSync(process.cwd())];
  return opened.filter((p) => {
    let real: string;
    try {
      real = fs.realpathSync(p);
    } catch {
      return false;
    }
    return !allowed.some((d) => inside(real, d));
  });
}

/** Phrases of JavaScript faults: inside a LensError they make a weak message, outside one they are the fault. */
const INTERNAL = /Cannot read propert|Cannot set propert|is not a function|is not iterable|Cannot convert|Maximum call stack|is not defined|Invalid (?:typed )?array length|Array buffer allocation failed|memory access out of bounds|RuntimeError|unreachable|Aborted\(/;

async function runCase(child: Child, caseDir: string, target: Target, files: Files, entry: string, weights: string | undefined, seedFiles: Files): Promise<Outcome> {
  writeCase(caseDir, files);
  writeDecoy(caseDir, seedFiles);
  const before = snapshot(caseDir);
  const req: CaseRequest = { id: 0, target, entry: path.join(caseDir, entry), weights: weights ? path.join(caseDir, weights) : undefined };
  child.escaped = [];
  const r = await child.run(req);
  let outcome: Outcome;
  if ('kind' in r) outcome = r;
  else if (r.ok) outcome = { kind: 'ok', message: r.detail ?? '', ms: r.ms };
  else {
    const msg = r.message ?? '';
    if (r.name !== 'LensError') outcome = { kind: 'not-a-lens-error', message: `${r.name}: ${msg.split('\n')[0]}`, ms: r.ms, stack: r.stack };
    else if (msg.includes('\n')) outcome = { kind: 'multi-line', message: msg.replace(/\n/g, '⏎'), ms: r.ms };
    else if (!msg.includes(caseDir)) outcome = { kind: 'no-file-name', message: msg, ms: r.ms };
    else if (INTERNAL.test(msg)) outcome = { kind: 'weak-message', message: msg, ms: r.ms };
    else outcome = { kind: 'refused', message: msg, ms: r.ms };
  }
  if (child.escaped.length) outcome = { kind: 'escaped-error', message: child.escaped.join(' | '), ms: outcome.ms };
  const outside = 'kind' in r ? [] : openedOutside(r.opened ?? [], caseDir, child);
  if (outside.length) outcome = { kind: 'read-outside', message: `opened ${outside.slice(0, 3).map((p) => `'${p}'`).join(', ')} outside the model's folder, then: ${outcome.kind}: ${outcome.message}`, ms: outcome.ms };
  if (SOFT.includes(outcome.kind)) {
    const wrote: string[] = [];
    if (snapshot(caseDir) !== before) wrote.push('the case folder');
    if (snapshot(child.tmp) !== '') wrote.push(`TMPDIR (${fs.readdirSync(child.tmp).join(', ')})`);
    if (snapshot(child.cwd) !== '') wrote.push('the working folder');
    if (wrote.length) {
      outcome = { kind: 'wrote-files', message: `left files in ${wrote.join(', ')} after: ${outcome.message}`, ms: outcome.ms };
      fs.rmSync(child.tmp, { recursive: true, force: true });
      fs.mkdirSync(child.tmp, { recursive: true });
      fs.rmSync(child.cwd, { recursive: true, force: true });
      fs.mkdirSync(child.cwd, { recursive: true });
    }
  }
  // After a WebAssembly trap the wasm backend's heap may be corrupt: later cases would fail for that, not for
  // their own input. Start a fresh child (the trap itself was judged above).
  if (/RuntimeError|memory access out of bounds|Aborted\(/.test(outcome.message)) child.stop();
  // A long-lived child accumulates tfjs and wasm state: start afresh now and then.
  if (child.cases >= 400) child.stop();
  return outcome;
}

/** Same failure, for grouping and shrinking: the kind and the message without paths and numbers. */
function signature(o: Outcome, caseDir: string): string {
  const m = o.message.split(caseDir).join('<case>').replace(/\d+(\.\d+)?/g, 'N').replace(/'[^']*'/g, "'…'");
  return `${o.kind}: ${m.slice(0, 160)}`;
}

// ───────────────────────── main ─────────────────────────

interface Stats {
  cases: number;
  ok: number;
  refused: number;
  weak: Map<string, { count: number; example: string }>;
  failures: Map<string, { count: number; example: string; saved: string }>;
  slowest: { ms: number; what: string };
}

function saveFailure(opts: Options, c: Case, files: Files, o: Outcome, sig: string): string {
  const hash = crypto.createHash('sha1').update(sig).digest('hex').slice(0, 8);
  const dir = path.join(opts.failures, `${c.seed.target}-${o.kind}-${hash}`);
  writeCase(dir, files);
  const info = { target: c.seed.target, seedFile: c.seed.name, entry: c.seed.entry, weights: c.seed.weights, fuzzSeed: opts.seed, caseNumber: c.n, rngSeed: c.rngSeed, ops: c.ops, outcome: o, signature: sig };
  // Written beside the case's files under a name no seed uses.
  fs.writeFileSync(path.join(dir, '_case.json'), JSON.stringify(info, (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2));
  return dir;
}

async function shrink(child: Child, caseDir: string, c: Case, sig: string): Promise<Op[]> {
  let ops = c.ops;
  const until = Date.now() + 60_000; // shrinking a hang costs a time limit per try: bounded
  for (let i = ops.length - 1; i >= 0 && ops.length > 1 && Date.now() < until; i--) {
    const fewer = ops.filter((_, j) => j !== i);
    const o = await runCase(child, caseDir, c.seed.target, applyOps(c.seed.files, fewer), c.seed.entry, c.seed.weights, c.seed.files);
    if (signature(o, caseDir) === sig) ops = fewer;
  }
  return ops;
}

async function replay(opts: Options, root: string): Promise<void> {
  const dir = opts.replay!;
  const info = JSON.parse(fs.readFileSync(path.join(dir, '_case.json'), 'utf8'));
  const files = readFolder(dir);
  files.delete('_case.json');
  const child = new Child(root, opts);
  // The decoy beside the case holds the seed's files, as when the failure was found.
  const seed = loadSeeds(opts.corpus).find((x) => x.name === info.seedFile);
  const o = await runCase(child, path.join(root, 'case'), info.target, files, info.entry, info.weights, seed?.files ?? new Map());
  child.stop();
  console.log(`${o.kind} (${o.ms} ms): ${o.message}`);
  if (o.stack) console.log(o.stack);
  process.exitCode = SOFT.includes(o.kind) ? 0 : 1;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-fuzz-'));
  const cleanup = () => fs.rmSync(root, { recursive: true, force: true });
  process.on('exit', cleanup);
  if (opts.replay) return replay(opts, root);

  const seeds = loadSeeds(opts.corpus);
  const caseDir = path.join(root, 'case');
  const child = new Child(root, opts);
  console.log(`fuzz: seed ${opts.seed}, ${opts.seconds} s over ${opts.targets.join(', ')}, case limit ${opts.caseTimeoutMs} ms, child memory ${opts.memoryMB} MB; ${seeds.length} seeds in ${opts.corpus}`);

  // Every seed must load unmutated, or the fuzzing would start from broken files.
  let seedProblems = 0;
  for (const s of seeds.filter((x) => opts.targets.includes(x.target))) {
    const o = await runCase(child, caseDir, s.target, s.files, s.entry, s.weights, s.files);
    if (o.kind !== 'ok' && o.kind !== 'refused') {
      seedProblems++;
      console.log(`  seed ${s.name} fails: ${o.kind}: ${o.message}`);
    } else if (o.kind === 'refused' || opts.verbose) console.log(`  seed ${s.name}: ${o.kind}: ${o.message.split(caseDir).join('<case>')}`);
  }

  const stats = new Map<Target, Stats>();
  const master = makeRng(opts.seed);
  const harvested = new Set<string>();
  let n = 0;
  for (const target of opts.targets) {
    const st: Stats = { cases: 0, ok: 0, refused: 0, weak: new Map(), failures: new Map(), slowest: { ms: 0, what: '' } };
    stats.set(target, st);
    const pool = seeds.filter((s) => s.target === target);
    const until = Date.now() + (opts.seconds * 1000) / opts.targets.length;
    while (Date.now() < until) {
      const c = makeCase(++n, pick(master, pool), Math.floor(master() * 2 ** 31));
      const files = applyOps(c.seed.files, c.ops);
      const o = await runCase(child, caseDir, target, files, c.seed.entry, c.seed.weights, c.seed.files);
      st.cases++;
      if (o.ms > st.slowest.ms) st.slowest = { ms: o.ms, what: `${c.seed.name} case ${c.n}: ${o.kind}` };
      if (opts.verbose) console.log(`  [${target} ${c.n} ${c.seed.name} ${o.ms} ms] ${o.kind}: ${o.message.slice(0, 200)}`);
      if (opts.saveMatching && SOFT.includes(o.kind) && opts.saveMatching.test(o.message)) {
        const sig = signature(o, caseDir);
        if (!harvested.has(sig)) {
          harvested.add(sig);
          if (opts.minimize && c.ops.length > 1) c.ops = await shrink(child, caseDir, c, sig);
          console.log(`  saved matching case: ${o.message.split(caseDir).join('<case>').slice(0, 200)} → ${saveFailure(opts, c, applyOps(c.seed.files, c.ops), o, sig)}`);
        }
      }
      if (o.kind === 'ok') st.ok++;
      else if (o.kind === 'refused') st.refused++;
      else {
        const sig = signature(o, caseDir);
        if (o.kind === 'weak-message') {
          const w = st.weak.get(sig);
          if (w) w.count++;
          else st.weak.set(sig, { count: 1, example: o.message.split(caseDir).join('<case>') });
          continue;
        }
        const f = st.failures.get(sig);
        if (f) {
          f.count++;
          continue;
        }
        // A new kind of failure: shrink it (bounded by the number of ops) and save it.
        if (opts.minimize && c.ops.length > 1) c.ops = await shrink(child, caseDir, c, sig);
        const saved = saveFailure(opts, c, applyOps(c.seed.files, c.ops), o, sig);
        st.failures.set(sig, { count: 1, example: o.message.split(caseDir).join('<case>').slice(0, 300), saved });
        console.log(`  FAIL [${target}] ${o.kind}: ${o.message.split(caseDir).join('<case>').slice(0, 300)}  → ${saved}`);
      }
    }
  }
  child.stop();

  let failed = seedProblems;
  console.log('');
  for (const [target, st] of stats) {
    const nf = [...st.failures.values()].reduce((a, f) => a + f.count, 0);
    failed += nf;
    console.log(`${target}: ${st.cases} cases tried — ${st.ok} loaded, ${st.refused} refused with one line naming the file, ${[...st.weak.values()].reduce((a, w) => a + w.count, 0)} weak messages, ${nf} failures (${st.failures.size} distinct); slowest ${st.slowest.ms} ms (${st.slowest.what})`);
    for (const [sig, f] of st.failures) console.log(`  failure ×${f.count}: ${sig}\n    e.g. ${f.example}\n    saved in ${f.saved}`);
    for (const [, w] of st.weak) console.log(`  weak message ×${w.count}: ${w.example.slice(0, 240)}`);
  }
  const total = [...stats.values()].reduce((a, s) => a + s.cases, 0);
  console.log(`\n${total - failed} passed, ${failed} failed (fuzz cases; seed ${opts.seed})`);
  process.exitCode = failed > 0 ? 1 : 0;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
