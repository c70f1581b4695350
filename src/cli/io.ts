// What a command writes to: results on stdout, progress and errors on stderr.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LensError } from '../engine/errors';

export interface CliIO {
  out(line: string): void;
  err(line: string): void;
  /** stderr is a terminal: progress bars redraw in place. */
  interactive: boolean;
  verbose: boolean;
}

export function processIO(verbose: boolean): CliIO {
  return {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
    interactive: !!process.stderr.isTTY,
    verbose,
  };
}

export interface ProgressBar {
  update(done: number, total: number, note?: string): void;
  /** Prints a line of its own (a failure) without tearing the bar. */
  log(line: string): void;
  finish(note?: string): void;
}

/**
 * A progress bar on stderr, redrawn at most 10 times a second. When stderr is not a terminal: one line
 * per item with `perItem` (a batch of images), else one line per 10%.
 */
export function progressBar(io: CliIO, label: string, opts: { perItem?: boolean } = {}): ProgressBar {
  const start = Date.now();
  let lastDraw = 0;
  let lastDecile = -1;
  let lastDone = -1;
  let drawn = false;
  const render = (done: number, total: number, note?: string) => {
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const width = 24;
    const filled = Math.round(frac * width);
    const secs = ((Date.now() - start) / 1000).toFixed(1);
    return `${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} ${secs}s${note ? ' ' + note : ''}`;
  };
  return {
    update(done, total, note) {
      const now = Date.now();
      if (io.interactive) {
        if (now - lastDraw < 100 && done < total) return;
        lastDraw = now;
        process.stderr.write('\r\x1b[2K' + render(done, total, note));
        drawn = true;
      } else if (opts.perItem) {
        if (done === lastDone || done === 0) return;
        lastDone = done;
        io.err(`${label} ${done}/${total}${note ? ' ' + note : ''}`);
      } else {
        const decile = Math.floor((10 * done) / Math.max(1, total));
        if (decile === lastDecile) return;
        lastDecile = decile;
        io.err(render(done, total, note));
      }
    },
    log(line) {
      if (io.interactive && drawn) {
        process.stderr.write('\r\x1b[2K');
        drawn = false;
        lastDraw = 0;
      }
      io.err(line);
    },
    finish(note) {
      if (io.interactive && drawn) process.stderr.write('\r\x1b[2K');
      if (note) io.err(`${label}: ${note} in ${((Date.now() - start) / 1000).toFixed(1)}s`);
    },
  };
}

/**
 * Writes a result file: never over one of the inputs, through a temporary file renamed into place so a
 * failure leaves no half-written file.
 */
export function writeResult(file: string, data: Uint8Array, inputs: string[]): void {
  const target = path.resolve(file);
  for (const inp of inputs) {
    if (path.resolve(inp) === target) throw new LensError(`${file}: refusing to overwrite an input file`);
  }
  if (fs.existsSync(target) && fs.statSync(target).isDirectory()) throw new LensError(`${file}: is a folder; give a file name`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, target);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new LensError(`${file}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
