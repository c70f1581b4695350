// Reads a Keras `.keras` archive: a zip holding config.json, metadata.json and model.weights.h5.
// Member names are checked before anything is extracted; only the three known members are extracted.
import { unzipSync } from 'fflate';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileError, shownName } from '../../errors';
import { MAX_WEIGHT_BYTES } from './h5';

const MAX_JSON_BYTES = 256 * 1024 ** 2;

export interface KerasArchive {
  config: any;
  metadata: any | null;
  /** model.weights.h5 written to a private temporary folder (h5wasm reads from the file system), or null. */
  weightsPath: string | null;
  /** Other weight stores Keras can write that we cannot read (e.g. model.weights.npz), for the message. */
  otherWeights: string | null;
  /** Removes the temporary folder. */
  cleanup(): void;
}

function unsafeMemberName(name: string): boolean {
  if (name.includes('\0')) return true;
  if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) return true;
  return name.split(/[\\/]/).includes('..');
}

export function readKerasArchive(file: string): KerasArchive {
  let data: Uint8Array;
  try {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) throw fileError(file, 'is a folder, not a .keras file');
    if (!stat.isFile()) throw fileError(file, 'is not a regular file'); // a FIFO would block the read forever
    if (stat.size > MAX_WEIGHT_BYTES + MAX_JSON_BYTES) throw fileError(file, `is ${(stat.size / 1024 ** 3).toFixed(1)} GB, over the 4 GB limit`);
    data = fs.readFileSync(file);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') throw fileError(file, 'no such file');
    throw e;
  }
  if (data.length < 4 || data[0] !== 0x50 || data[1] !== 0x4b) throw fileError(file, 'not a zip archive (a .keras file is a zip)');

  const names: string[] = [];
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(data, {
      filter: (f) => {
        if (unsafeMemberName(f.name)) throw fileError(file, `zip member '${shownName(f.name)}' has an unsafe path ('..' or absolute); refused`);
        names.push(f.name);
        if (f.name === 'config.json' || f.name === 'metadata.json') {
          if (f.originalSize > MAX_JSON_BYTES) throw fileError(file, `${f.name} declares ${f.originalSize} bytes, too large`);
          return true;
        }
        if (f.name === 'model.weights.h5') {
          if (f.originalSize > MAX_WEIGHT_BYTES) throw fileError(file, `model.weights.h5 declares ${(f.originalSize / 1024 ** 3).toFixed(1)} GB, over the 4 GB limit`);
          return true;
        }
        return false;
      },
    });
  } catch (e) {
    if (e instanceof Error && e.name === 'LensError') throw e;
    throw fileError(file, `damaged zip archive (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }

  const cfgBytes = members['config.json'];
  if (!cfgBytes) throw fileError(file, 'zip has no config.json (not a Keras model archive)');
  let config: any;
  try {
    config = JSON.parse(Buffer.from(cfgBytes).toString('utf8'));
  } catch (e) {
    throw fileError(file, `config.json is not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (!config || typeof config !== 'object' || Array.isArray(config)) throw fileError(file, 'config.json does not hold a Keras model config (expected an object)');
  let metadata: any = null;
  if (members['metadata.json']) {
    try {
      metadata = JSON.parse(Buffer.from(members['metadata.json']).toString('utf8'));
    } catch {
      metadata = null; // metadata only carries the Keras version and date; a damaged one is not fatal
    }
  }

  let dir: string | null = null;
  let weightsPath: string | null = null;
  const h5 = members['model.weights.h5'];
  if (h5) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-keras-'));
    weightsPath = path.join(dir, 'model.weights.h5');
    fs.writeFileSync(weightsPath, h5, { mode: 0o600 });
  }
  const other = names.find((n) => /^model\.weights\./.test(n) && n !== 'model.weights.h5');
  const otherWeights = other === undefined ? null : shownName(other); // shown in a message
  return {
    config,
    metadata,
    weightsPath,
    otherWeights,
    cleanup: () => {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
      dir = null;
    },
  };
}
