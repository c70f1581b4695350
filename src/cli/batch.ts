// Batches of images for explain and predict: folders stand for the images below them (recursively,
// images only, sorted); one image that fails is reported on its own line and the batch goes on; the
// batch ends with "2 of 3 explained, 1 failed" and exit status 1 when anything failed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { IMAGE_EXTENSIONS, imagesBelow } from '../engine/audit/scan';
import { CancelledError, errorMessage, LensError } from '../engine/errors';
import { UsageError } from './args';
import { type CliIO, progressBar, type ProgressBar } from './io';

export interface ImageList {
  images: string[];
  /** Several images, or a folder: failures are reported per image and the batch goes on. */
  batch: boolean;
}

/** The IMAGE arguments with every folder replaced by the images below it. */
export function expandImages(args: string[]): ImageList {
  if (args.length === 0) throw new UsageError('missing IMAGE (image files or folders of images)');
  const images: string[] = [];
  let folder = false;
  for (const a of args) {
    let isDir = false;
    try {
      isDir = fs.statSync(a).isDirectory();
    } catch {
      /* a missing file is reported when its turn comes (or at once, for a single image) */
    }
    if (!isDir) {
      images.push(a);
      continue;
    }
    folder = true;
    const found = imagesBelow(a);
    if (found.length === 0) throw new LensError(`${a}: no images in this folder (looked for ${IMAGE_EXTENSIONS.join(' ')} files, recursively)`);
    images.push(...found);
  }
  const batch = folder || images.length > 1;
  if (!batch) {
    const f = images[0];
    if (!fs.existsSync(f)) throw new LensError(`${f}: no such file`);
  }
  return { images, batch };
}

/** A failure's one line, naming the image when the message does not already. */
export function failureLine(image: string, e: unknown): string {
  const msg = errorMessage(e);
  return msg.includes(image) || msg.includes(path.basename(image)) ? msg : `${image}: ${msg}`;
}

/**
 * Runs `each` over the images: progress on stderr (a bar on a terminal, else one line per image), a
 * failure on its own line, then the tally. Returns the exit status (0, or 1 when any image failed).
 * `verb`: "explained" / "predicted". A single image's failure is thrown as before (one line, exit 1).
 */
export async function runBatch(io: CliIO, label: string, verb: string, list: ImageList, quiet: boolean, each: (image: string, i: number) => Promise<void>, onFailure?: (image: string, message: string) => void): Promise<number> {
  if (!list.batch) {
    await each(list.images[0], 0);
    return 0;
  }
  const n = list.images.length;
  const bar: ProgressBar | null = quiet ? null : progressBar(io, label, { perItem: true });
  const t0 = Date.now();
  let failed = 0;
  for (let i = 0; i < n; i++) {
    const image = list.images[i];
    try {
      if (!fs.existsSync(image)) throw new LensError(`${image}: no such file`);
      await each(image, i);
    } catch (e) {
      if (e instanceof CancelledError || e instanceof UsageError) throw e;
      failed++;
      const line = failureLine(image, e);
      onFailure?.(image, line);
      if (bar) bar.log(`cnn-lens: ${line}`);
      else io.err(`cnn-lens: ${line}`);
    }
    bar?.update(i + 1, n, path.basename(image));
  }
  bar?.finish();
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  io.err(failed ? `${label}: ${n - failed} of ${n} ${verb}, ${failed} failed` : `${label}: ${n} of ${n} ${verb} in ${secs}s`);
  return failed ? 1 : 0;
}
