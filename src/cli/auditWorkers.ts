// `cnn-lens audit --jobs N`: the forward passes spread over N worker processes. Each worker is this
// command line in worker mode (`cnn-lens audit MODEL FOLDER --worker-list LIST.json …`): it loads the
// model once, classifies its contiguous share of the images and prints one JSON line per image (a
// record, or a failure). The parent counts them as they come and makes the few heatmaps itself.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AuditEntry } from '../engine/audit/scan';
import type { Classifier } from '../engine/audit/run';
import type { ImageRecord } from '../engine/audit/tally';
import { LensError } from '../engine/errors';
import { contiguousShares } from './jobs';

/** One line a worker prints. */
export type WorkerLine = { record: ImageRecord } | { failed: { i: number; image: string; error: string } };

export interface WorkerListItem extends AuditEntry {
  i: number;
}

export function workerClassifier(script: string, modelFile: string, folder: string, workerArgv: string[], jobs: number, onWorkerError: (line: string) => void): Classifier {
  return (entries, sink, isCancelled) =>
    new Promise((resolve, reject) => {
      const items: WorkerListItem[] = entries.map((e, i) => ({ ...e, i }));
      const shares = contiguousShares(items, Math.min(jobs, items.length));
      if (!shares.length) return resolve();
      const threads = Math.max(1, Math.floor(os.cpus().length / shares.length));
      const listDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-audit-'));
      const children: ChildProcess[] = [];
      const fatal: string[] = [];
      let open = shares.length;
      const seen = new Set<number>();
      let failedWorkers = 0;
      const poll = setInterval(() => {
        if (isCancelled()) for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
      }, 100);
      const closeOne = () => {
        if (--open > 0) return;
        clearInterval(poll);
        fs.rmSync(listDir, { recursive: true, force: true });
        if (failedWorkers === shares.length && !isCancelled()) reject(new LensError((fatal[0] ?? 'every worker failed').replace(/^cnn-lens: /, '')));
        else {
          for (const l of fatal) onWorkerError(l);
          resolve();
        }
      };
      shares.forEach((share, w) => {
        const list = path.join(listDir, `share-${w}.json`);
        fs.writeFileSync(list, JSON.stringify(share));
        const env = { ...process.env };
        if (!process.env.CNN_LENS_WASM_THREADS) env.CNN_LENS_WASM_THREADS = String(threads);
        const child = spawn(process.execPath, [script, 'audit', modelFile, folder, '--worker-list', list, ...workerArgv], { stdio: ['ignore', 'pipe', 'pipe'], env });
        children.push(child);
        let partial = '';
        let err = '';
        child.stdout!.setEncoding('utf8');
        child.stderr!.setEncoding('utf8');
        child.stdout!.on('data', (d: string) => {
          const lines = (partial + d).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) {
            if (!line.trim()) continue;
            let m: WorkerLine;
            try {
              m = JSON.parse(line) as WorkerLine;
            } catch {
              onWorkerError(`cnn-lens: a worker printed something that is not JSON: ${line.slice(0, 120)}`);
              continue;
            }
            if ('record' in m) {
              seen.add(m.record.i);
              sink.onRecord(m.record);
            } else if ('failed' in m) {
              seen.add(m.failed.i);
              sink.onFail(m.failed.i, m.failed.image, m.failed.error);
            }
          }
        });
        child.stderr!.on('data', (d: string) => (err += d));
        child.on('error', (e) => fatal.push(`cannot start a worker: ${e.message}`));
        child.on('close', (code, signal) => {
          if (code !== 0 && !isCancelled()) {
            const lines = err.split(/\r?\n/).filter((l) => l.trim());
            fatal.push(...lines);
            if (signal) fatal.push(`cnn-lens: a worker was stopped by ${signal}`);
            // Images of a worker that died are reported, not silently dropped.
            failedWorkers++;
            for (const it of share) if (!seen.has(it.i)) sink.onFail(it.i, it.image, `not classified: its worker stopped (${lines[0] ?? signal ?? `exit ${code}`})`);
          }
          closeOne();
        });
      });
    });
}
