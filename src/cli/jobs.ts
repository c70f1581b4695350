// `cnn-lens explain --jobs N`: the images spread over N worker processes.
//
// Each worker is this same command line (`cnn-lens explain MODEL <its share of the images> <the same
// options>`), so every worker loads the model once and writes its own files; the shares are contiguous,
// so concatenating the workers' outputs in order keeps the images' order. The wasm threads of the machine
// are split among the workers (CNN_LENS_WASM_THREADS), since one process per core beats one process using
// all cores when there are enough images. With --json the workers' results are merged into one
// `{ "results": [...] }`.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UsageError, type ParsedArgs } from './args';
import { progressBar, type CliIO } from './io';

/** The bundled CLI (dist/cli.js) the workers run; null when it cannot be found. */
export function cliScript(): string | null {
  const candidates = [
    path.join(__dirname, 'cli.js'),
    path.join(__dirname, '..', 'cli.js'),
    path.join(__dirname, '..', '..', 'cli.js'),
    path.join(__dirname, '..', '..', '..', 'cli.js'),
    path.join(__dirname, '..', '..', '..', '..', 'dist', 'cli.js'),
    path.resolve('dist', 'cli.js'),
  ];
  return candidates.find((f) => fs.existsSync(f)) ?? null;
}

/** The parsed options back as arguments, without the ones named in `drop`. */
export function optionsToArgv(args: ParsedArgs, drop: string[]): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(args.options)) {
    if (drop.includes(name) || value === undefined || value === false) continue;
    if (value === true) out.push(`--${name}`);
    else out.push(`--${name}=${Array.isArray(value) ? value.join(',') : String(value)}`);
  }
  return out;
}

/** n items in k contiguous shares whose sizes differ by at most one. */
export function contiguousShares<T>(items: T[], k: number): T[][] {
  const shares: T[][] = [];
  let start = 0;
  for (let i = 0; i < k; i++) {
    const size = Math.floor(items.length / k) + (i < items.length % k ? 1 : 0);
    shares.push(items.slice(start, start + size));
    start += size;
  }
  return shares.filter((s) => s.length > 0);
}

interface WorkerRun {
  code: number;
  out: string;
  errLines: string[];
  /** Images of its share that failed, from its tally line (null: no tally, e.g. a one-image share). */
  failed: number | null;
}

/** A worker's progress lines (its own bar) are replaced by the parent's; everything else is passed on. */
function isProgressLine(line: string): boolean {
  return (
    /^explain \[[#-]*\] \d+\/\d+/.test(line) ||
    /^explain \d+\/\d+( |$)/.test(line) ||
    /^explain: \d+ (images in|of \d+ explained)/.test(line) ||
    /^\S+ \[[#-]*\] \d+\/\d+ [\d.]+s/.test(line)
  );
}

function runWorker(script: string, argv: string[], threads: number, onImageDone: () => void): Promise<WorkerRun> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    if (!process.env.CNN_LENS_WASM_THREADS) env.CNN_LENS_WASM_THREADS = String(threads);
    const child = spawn(process.execPath, [script, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let partial = '';
    let err = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      out += d;
      const lines = (partial + d).split('\n');
      partial = lines.pop() ?? '';
      // In text mode each image starts with an unindented line "IMAGE: label p%".
      for (const line of lines) if (line && !line.startsWith(' ') && !line.startsWith('{')) onImageDone();
    });
    child.stderr.on('data', (d: string) => (err += d));
    child.on('error', (e) => resolve({ code: 1, out, errLines: [`cnn-lens: cannot start a worker: ${e.message}`], failed: null }));
    child.on('close', (code, signal) => {
      const lines = err.split(/\r?\n|\r/).map((l) => l.split('\u001b[2K').join(''));
      const errLines = lines.filter((l) => l.trim() && !isProgressLine(l));
      if (signal) errLines.push(`cnn-lens: a worker was stopped by ${signal}`);
      const tally = lines.map((l) => /^explain: (\d+) of (\d+) explained(?:, (\d+) failed)?/.exec(l)).find(Boolean);
      resolve({ code: code ?? 1, out, errLines, failed: tally ? Number(tally[3] ?? 0) : null });
    });
  });
}

/**
 * Runs `cnn-lens explain` over `images` in `jobs` worker processes and prints what one process would
 * (text: the workers' lines in image order; --json: one merged object). Returns the exit code: 0, or the
 * worst of the workers' (2 usage, 1 error).
 */
export async function runExplainJobs(args: ParsedArgs, io: CliIO, modelFile: string | undefined, images: string[], jobs: number): Promise<number> {
  if (!modelFile) throw new UsageError('missing MODEL (a model.json, .h5, .keras or .onnx file)');
  if (images.length === 0) throw new UsageError('missing IMAGE (image files or folders of images)');
  if (args.options.out || args.options.raw) throw new UsageError('with several images use --out-dir (and --npy for raw maps), not --out/--raw');
  if (args.options.npy && !args.options['out-dir']) throw new UsageError('--npy goes with --out-dir');
  const script = cliScript();
  if (!script) throw new UsageError('--jobs needs the built command line (dist/cli.js); run npm run build');
  const shares = contiguousShares(images, Math.min(jobs, images.length));
  const threads = Math.max(1, Math.floor(os.cpus().length / shares.length));
  const json = args.options.json === true;
  const opts = optionsToArgv(args, ['jobs']);
  const bar = json ? null : progressBar(io, 'explain');
  let done = 0;
  bar?.update(0, images.length, `${shares.length} workers`);
  const runs = await Promise.all(
    shares.map((share) =>
      runWorker(script, ['explain', modelFile, ...share, ...opts], threads, () => {
        done++;
        bar?.update(done, images.length, `${shares.length} workers`);
      }),
    ),
  );
  bar?.finish(`${images.length} images, ${shares.length} workers`);
  // Each worker tallies its share ("explain: 2 of 3 explained, 1 failed"); a one-image share that failed
  // ends with status 1 and its error line instead.
  let failed = 0;
  runs.forEach((r, k) => {
    if (r.failed !== null) failed += r.failed;
    else if (r.code !== 0) failed += shares[k].length;
  });
  const results: unknown[] = [];
  for (const r of runs) {
    for (const line of r.errLines) io.err(line);
    if (json) {
      if (!r.out.trim()) continue;
      try {
        const parsed = JSON.parse(r.out) as { results?: unknown[] };
        results.push(...(Array.isArray(parsed.results) ? parsed.results : [parsed]));
      } catch {
        io.err('cnn-lens: a worker printed something that is not JSON');
      }
    } else {
      for (const line of r.out.split('\n')) if (line) io.out(line);
    }
  }
  if (json) io.out(JSON.stringify({ results }));
  io.err(failed ? `explain: ${images.length - failed} of ${images.length} explained, ${failed} failed` : `explain: ${images.length} of ${images.length} explained`);
  const codes = runs.map((r) => r.code);
  return codes.includes(2) ? 2 : codes.some((c) => c !== 0) ? 1 : 0;
}
