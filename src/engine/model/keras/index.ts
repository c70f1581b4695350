// Opens Keras models as they are, without Python: Keras 2 HDF5 (.h5), Keras 3 and Keras 2.13–2.15 .keras
// archives, and an architecture JSON (model.to_json()) with a weights-only .h5 (model.save_weights()).
// The result is TensorFlow.js ModelArtifacts for `tf.loadLayersModel(tf.io.fromMemory(artifacts))`.
// Nothing is fetched from the network. See README-keras.md for formats and supported layers.
import type * as tf from '@tensorflow/tfjs-core';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileError } from '../../errors';
import { readKerasArchive } from './archive';
import { child, hdf5Reason, isGroup, openH5, stringAttr, stringListAttr, type H5File } from './h5';
import { normalizeWithPlan, type LayerPlan } from './topology';
import { findLegacyWeights, findSavingLibWeights, packWeights, type FoundWeight } from './weights';

export { normalizeWithPlan } from './topology';
export type { LayerPlan } from './topology';

const MAX_JSON_BYTES = 256 * 1024 ** 2;

/**
 * Translates a Keras model config — Keras 3 dialect (batch_shape, module/registered_name wrappers, dtype
 * policy objects, {"args","kwargs"} call nodes, nested Functional/Sequential) or Keras 2 quirks tfjs rejects —
 * into what TensorFlow.js layers 4.22 accepts. Also right for a tfjs model.json's `modelTopology` (which may
 * be wrapped as {model_config: …}); tfjs-friendly topologies come back equivalent. Throws one line naming
 * the layer and its class for layers tfjs cannot run (prefixed with `opts.file` when given).
 */
export function normalizeKerasTopology(topology: any, opts: { file?: string; kerasVersion?: string } = {}): any {
  return normalizeWithPlan(topology, opts).topology;
}

function looksLikeKerasArchitecture(json: unknown): boolean {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return false;
  const j = json as Record<string, unknown>;
  return typeof j.class_name === 'string' && 'config' in j && !('modelTopology' in j) && !('weightsManifest' in j);
}

/** .h5 / .hdf5 / .keras, or a .json holding a Keras architecture (to_json() output, not a tfjs model.json). */
export function isKerasFile(file: string): boolean {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.h5' || ext === '.hdf5' || ext === '.keras') return true;
  if (ext !== '.json') return false;
  try {
    const st = fs.statSync(file);
    if (!st.isFile() || st.size > MAX_JSON_BYTES) return false; // a FIFO would block the read forever
    return looksLikeKerasArchitecture(JSON.parse(fs.readFileSync(file, 'utf8')));
  } catch {
    return false;
  }
}

function artifacts(topology: any, found: FoundWeight[], shownAs: string, kerasVersion: string | undefined): tf.io.ModelArtifacts {
  const { specs, data } = packWeights(found, shownAs);
  return {
    modelTopology: topology,
    weightSpecs: specs,
    weightData: data,
    format: 'layers-model',
    generatedBy: kerasVersion ? `keras v${kerasVersion}` : 'keras',
    convertedBy: 'CNN Lens Keras reader',
  };
}

function parseJson(text: string, file: string, what: string): any {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw fileError(file, `${what} is not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
}

type WeightsLayout = 'legacy' | 'saving_lib' | 'full-model' | null;

function weightsLayout(f: H5File): WeightsLayout {
  if (stringAttr(f, 'model_config') != null && isGroup(child(f, 'model_weights'))) return 'full-model';
  if (stringListAttr(f, 'layer_names') != null) return 'legacy';
  if (['layers', '_layer_checkpoint_dependencies', 'vars'].some((n) => isGroup(child(f, n)))) return 'saving_lib';
  return null;
}

function needsAnyWeights(p: LayerPlan): boolean {
  return p.children ? p.children.some(needsAnyWeights) : p.weights.length > 0;
}

/** Keras architecture JSONs (model.to_json()) in the folder of `file`: regular files inside that folder. */
function architecturesBeside(file: string): string[] {
  const dir = path.dirname(path.resolve(file));
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names.sort()) {
    if (path.extname(n).toLowerCase() !== '.json') continue;
    const p = path.join(dir, n);
    try {
      if (!fs.lstatSync(p).isFile()) continue; // links and FIFOs are not followed
    } catch {
      continue;
    }
    if (isKerasFile(p)) out.push(p);
  }
  return out;
}

/**
 * A weights-only .h5 (model.save_weights) opened by itself: the architecture JSON beside it, when exactly one
 * Keras architecture JSON sits in the folder and its layers take these weights (by name in the legacy layout).
 * Otherwise the message says to open the JSON with this file as its weights.
 */
async function fromWeightsBesideArchitecture(file: string, layout: 'legacy' | 'saving_lib', layerNames: string[] | null): Promise<tf.io.ModelArtifacts> {
  const refuse = (why = ''): never => {
    throw fileError(file, `holds only weights (model.save_weights); open the architecture JSON (model.to_json()) and give this file as its weights file${why}`);
  };
  const candidates = architecturesBeside(file);
  if (candidates.length !== 1) refuse(candidates.length > 1 ? ` (${candidates.length} architecture JSONs are beside it: ${candidates.map((c) => path.basename(c)).join(', ')})` : '');
  const arch = candidates[0];
  if (layout === 'legacy' && layerNames) {
    const { plan } = normalizeWithPlan(parseJson(fs.readFileSync(arch, 'utf8'), arch, 'the file'), { file: arch });
    const weighted = (plan.children ?? []).filter(needsAnyWeights).map((c) => c.name);
    const strays = weighted.filter((n) => !layerNames.includes(n));
    if (strays.length > 0) refuse(` (${path.basename(arch)} beside it has layers this file has no weights for: ${strays.slice(0, 3).join(', ')})`);
  }
  let a: tf.io.ModelArtifacts;
  try {
    a = await fromArchitectureJson(arch, file);
  } catch (e) {
    return refuse(` (${path.basename(arch)} beside it does not fit: ${(e as Error).message.split(': ').slice(1).join(': ') || (e as Error).message})`);
  }
  return { ...a, userDefinedMetadata: { ...(a.userDefinedMetadata ?? {}), architectureFile: arch } };
}

/** The architecture JSON a weights-only file was opened with (found beside it), if any. */
export function architectureFileOf(a: tf.io.ModelArtifacts): string | null {
  const v = (a.userDefinedMetadata as Record<string, unknown> | undefined)?.architectureFile;
  return typeof v === 'string' ? v : null;
}

async function fromH5(file: string): Promise<tf.io.ModelArtifacts> {
  const f = await openH5(file, file);
  let weightsOnly: { layout: 'legacy' | 'saving_lib'; layerNames: string[] | null };
  try {
    const cfgText = stringAttr(f, 'model_config');
    if (cfgText != null) {
      const version = stringAttr(f, 'keras_version') ?? undefined;
      const { topology, plan } = normalizeWithPlan(parseJson(cfgText, file, "the 'model_config' attribute"), { file, kerasVersion: version });
      const mw = child(f, 'model_weights');
      if (!isGroup(mw)) {
        if (needsAnyWeights(plan)) throw fileError(file, "has no 'model_weights' group (saved without weights?)");
        return artifacts(topology, [], file, version);
      }
      return artifacts(topology, findLegacyWeights(mw, plan, file), file, version);
    }
    const layout = weightsLayout(f);
    if (layout !== 'legacy' && layout !== 'saving_lib') throw fileError(file, "not a Keras model file (no 'model_config' attribute)");
    weightsOnly = { layout, layerNames: layout === 'legacy' ? stringListAttr(f, 'layer_names') : null };
  } finally {
    f.close();
  }
  // Read after the file is closed: the architecture's weights are this file, opened again.
  return fromWeightsBesideArchitecture(file, weightsOnly.layout, weightsOnly.layerNames);
}

async function fromArchive(file: string): Promise<tf.io.ModelArtifacts> {
  const archive = readKerasArchive(file);
  let f: H5File | null = null;
  try {
    const version = typeof archive.metadata?.keras_version === 'string' ? archive.metadata.keras_version : undefined;
    const { topology, plan } = normalizeWithPlan(archive.config, { file, kerasVersion: version });
    if (!archive.weightsPath) {
      if (archive.otherWeights) throw fileError(file, `weights are stored as ${archive.otherWeights}; only model.weights.h5 is supported`);
      if (needsAnyWeights(plan)) throw fileError(file, 'zip has no model.weights.h5');
      return artifacts(topology, [], file, version);
    }
    const shownAs = `${file} (model.weights.h5)`;
    f = await openH5(archive.weightsPath, shownAs);
    return artifacts(topology, findSavingLibWeights(f, plan, shownAs), shownAs, version);
  } finally {
    f?.close();
    archive.cleanup();
  }
}

async function fromArchitectureJson(file: string, weightsFile: string | undefined): Promise<tf.io.ModelArtifacts> {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw fileError(file, 'no such file');
  }
  if (!stat.isFile()) throw fileError(file, 'is not a regular file'); // a FIFO would block the read forever
  if (stat.size > MAX_JSON_BYTES) throw fileError(file, `is ${Math.round(stat.size / 1e6)} MB, too large for a model architecture`);
  const json = parseJson(fs.readFileSync(file, 'utf8'), file, 'the file');
  if (json && typeof json === 'object' && ('modelTopology' in json || 'weightsManifest' in json)) {
    throw fileError(file, 'is a TensorFlow.js model.json, not a Keras architecture JSON (open it as a TensorFlow.js model)');
  }
  if (!looksLikeKerasArchitecture(json)) throw fileError(file, 'not a Keras architecture JSON (expected model.to_json() output with class_name and config)');
  const { topology, plan } = normalizeWithPlan(json, { file });
  if (!weightsFile) {
    if (!needsAnyWeights(plan)) return artifacts(topology, [], file, undefined);
    throw fileError(file, 'a Keras architecture JSON needs its weights file (the .h5 from model.save_weights); give it with --weights');
  }
  const f = await openH5(weightsFile, weightsFile);
  try {
    const layout = weightsLayout(f);
    if (layout === 'legacy') return artifacts(topology, findLegacyWeights(f, plan, weightsFile), weightsFile, stringAttr(f, 'keras_version') ?? undefined);
    if (layout === 'full-model') return artifacts(topology, findLegacyWeights(child(f, 'model_weights') as any, plan, weightsFile), weightsFile, stringAttr(f, 'keras_version') ?? undefined);
    if (layout === 'saving_lib') return artifacts(topology, findSavingLibWeights(f, plan, weightsFile), weightsFile, undefined);
    throw fileError(weightsFile, 'not a Keras weights file (no layer_names attribute and no layers group)');
  } finally {
    f.close();
  }
}

/**
 * Reads a Keras model file into tfjs ModelArtifacts: `modelTopology` in the dialect tf.loadLayersModel
 * accepts, `weightSpecs` named as tfjs-layers names its weights ("conv2d/kernel",
 * "batch_normalization/moving_mean"; layers in nested models keep their own names), and `weightData`.
 * `.h5`/`.hdf5` (full model), `.keras`, or an architecture `.json` with `opts.weightsFile`.
 * Errors are one line naming the file.
 */
export async function loadKerasArtifacts(file: string, opts: { weightsFile?: string } = {}): Promise<tf.io.ModelArtifacts> {
  const ext = path.extname(file).toLowerCase();
  try {
    if (ext === '.keras') return await fromArchive(file);
    if (ext === '.h5' || ext === '.hdf5') return await fromH5(file);
    if (ext === '.json') return await fromArchitectureJson(file, opts.weightsFile);
  } catch (e) {
    // Found by fuzzing: HDF5 reports damage in a file that opened (a corrupt attribute or group header) from
    // whichever h5wasm call meets it first, e.g. reading `attrs`. Those calls are everywhere in the readers; the
    // error is turned into one line here, naming the file that holds the HDF5 data.
    if (e instanceof Error && e.name !== 'LensError' && /HDF5/.test(e.message)) {
      const h5File = ext === '.keras' ? `${file} (model.weights.h5)` : ext === '.json' ? (opts.weightsFile ?? file) : file;
      throw fileError(h5File, `damaged HDF5 file (${hdf5Reason(e)})`);
    }
    throw e;
  }
  throw fileError(file, 'not a Keras model file (expected .h5, .keras, or an architecture .json with a weights file)');
}
