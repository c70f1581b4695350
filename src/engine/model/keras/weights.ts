// Finds each layer's weight arrays in a Keras HDF5 file, following the layer plan from topology.ts, and
// packs them into tfjs weight specs + one ArrayBuffer. Two layouts exist:
//  - legacy HDF5 (Keras 2 `model.save('x.h5')`, `save_weights('w.h5')`, and Keras 3's legacy .h5): one group
//    per top-level layer, named after the layer, whose `weight_names` attribute lists its datasets in order;
//    `layer_names` on the parent lists the layers. A nested model's group holds all of its weights, ordered
//    trainable-first.
//  - Keras saving_lib (`.keras` archives, Keras 3 `.weights.h5`): a tree that follows the object graph. A
//    model's layers sit in a container group ("layers" in Keras 3, "_layer_checkpoint_dependencies" in Keras
//    2.13–2.15) under names made from the layer's *class* (snake_case, numbered per class in layer order:
//    conv2d, conv2d_1, …), each with its arrays in "vars/0", "vars/1", … in creation order.
import { fileError } from '../../errors';
import { at, child, datasetInfo, isDataset, isGroup, MAX_WEIGHT_BYTES, readFloat32Into, stringListAttr, type H5Dataset, type H5Group } from './h5';
import { ignoredTrailingArrays, keras3VarsPath, shapeProblem } from './layerWeights';
import type { LayerPlan, PlannedWeight } from './topology';
import { isTreeGroup, savingLibTree, treeAt, type TreeGroup } from './savingLibTree';

export interface FoundWeight {
  /** tfjs weight name. */
  name: string;
  shape: number[];
  count: number;
  ds: H5Dataset;
}

/** Keras' naming.to_snake_case: "BatchNormalization" → "batch_normalization", "Conv2D" → "conv2d". */
export function toSnakeCase(className: string): string {
  return className
    .replace(/\W+/g, '')
    .replace(/(.)([A-Z][a-z]+)/g, '$1_$2')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase();
}

/** Whether a layer or nested model owns any weights (or might: unknown layouts count). */
function needsWeights(p: LayerPlan): boolean {
  if (p.children) return p.children.some(needsWeights);
  return p.weights.length > 0 || p.unknownWeights;
}

function countWeights(p: LayerPlan): number {
  return p.children ? p.children.reduce((a, c) => a + countWeights(c), 0) : p.weights.length;
}

function missing(shownAs: string, p: LayerPlan, found: number): never {
  throw fileError(shownAs, `weights for layer '${p.name}' missing (expected ${countWeights(p)} arrays, found ${found})`);
}

function checkShape(shownAs: string, p: LayerPlan, w: PlannedWeight, shape: number[]): void {
  const problem = shapeProblem(p.className, p.config, w.short, shape);
  if (problem) throw fileError(shownAs, `weights for layer '${p.name}' do not fit its config: ${problem}`);
}

function unknownLayout(shownAs: string, p: LayerPlan): never {
  throw fileError(shownAs, `layer '${p.name}' (${p.kerasClass}) cannot be loaded: the weights of this layer class cannot be mapped to TensorFlow.js yet`);
}

/** Datasets directly in a group, ordered by their numeric names ("0", "1", …, "10"). */
function numberedDatasets(g: TreeGroup): H5Dataset[] {
  const keys = [...g.children.keys()].filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b));
  return keys.map((k) => g.children.get(k)).filter(isDataset);
}

// ---------------------------------------------------------------------------------------------------------
// saving_lib layout

function layerGroupsFor(container: TreeGroup | null, children: LayerPlan[]): Map<LayerPlan, TreeGroup | null> {
  const out = new Map<LayerPlan, TreeGroup | null>();
  const keys = container ? [...container.children.keys()] : [];
  const bySnake = new Map<string, LayerPlan[]>();
  for (const c of children) {
    const s = toSnakeCase(c.kerasClass);
    if (!bySnake.has(s)) bySnake.set(s, []);
    bySnake.get(s)!.push(c);
  }
  for (const [snake, layers] of bySnake) {
    // Keras numbers layers per class in layer order; Keras 2.13–2.15 skipped numbers (layers with weights were
    // listed twice in its container), so the groups are taken in numeric order rather than by exact name.
    const groups = keys
      .map((k) => ({ k, idx: k === snake ? 0 : k.startsWith(`${snake}_`) && /^\d+$/.test(k.slice(snake.length + 1)) ? Number(k.slice(snake.length + 1)) : -1 }))
      .filter((g) => g.idx >= 0)
      .sort((a, b) => a.idx - b.idx);
    const withWeights = layers.filter(needsWeights);
    // Normally one group per layer of the class; a writer that skipped layers without variables leaves one per weighted layer.
    const targets = groups.length === layers.length ? layers : groups.length === withWeights.length ? withWeights : layers;
    targets.forEach((l, i) => {
      const g = i < groups.length && container ? container.children.get(groups[i].k) : null;
      out.set(l, isTreeGroup(g) ? g : null);
    });
  }
  return out;
}

function visitSavingLib(g: TreeGroup | null, model: LayerPlan, shownAs: string, out: FoundWeight[]): void {
  const children = model.children ?? [];
  if (!children.some(needsWeights)) return;
  let container: TreeGroup | null = null;
  if (g) {
    for (const name of ['layers', '_layer_checkpoint_dependencies']) {
      const c = g.children.get(name);
      if (isTreeGroup(c)) {
        container = c;
        break;
      }
    }
  }
  const groups = layerGroupsFor(container, children);
  for (const c of children) {
    if (!needsWeights(c)) continue;
    const lg = groups.get(c) ?? null;
    if (c.children) {
      if (!lg) missing(shownAs, c, 0);
      visitSavingLib(lg, c, shownAs, out);
      continue;
    }
    const vars = lg ? treeAt(lg, keras3VarsPath(c.className)) : null;
    const arrays = isTreeGroup(vars) ? numberedDatasets(vars) : [];
    if (c.unknownWeights) {
      if (arrays.length > 0 || (lg && [...lg.children.keys()].some((k) => k !== 'vars'))) unknownLayout(shownAs, c);
      continue;
    }
    const extra = ignoredTrailingArrays(c.className);
    if (arrays.length === 0 && c.weights.length > 0) missing(shownAs, c, 0);
    if (arrays.length < c.weights.length || arrays.length > c.weights.length + extra) {
      throw fileError(shownAs, `weights for layer '${c.name}' do not match its config (expected ${c.weights.length} arrays, found ${arrays.length})`);
    }
    c.weights.forEach((w, i) => {
      const info = datasetInfo(arrays[i], shownAs);
      checkShape(shownAs, c, w, info.shape);
      out.push({ name: w.name, shape: info.shape, count: info.count, ds: arrays[i] });
    });
  }
}

/** Weights of a model saved with Keras' saving_lib (.keras archives, Keras 3 .weights.h5). */
export function findSavingLibWeights(root: H5Group, plan: LayerPlan, shownAs: string): FoundWeight[] {
  const out: FoundWeight[] = [];
  visitSavingLib(savingLibTree(root, shownAs), plan, shownAs, out);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// legacy HDF5 layout

/**
 * The order Keras' legacy format stores a layer's (or nested model's) weights in: `layer.trainable_weights +
 * layer.non_trainable_weights`, where a frozen layer's weights all count as non-trainable.
 */
export function legacyOrder(p: LayerPlan): PlannedWeight[] {
  const all: { w: PlannedWeight; trainable: boolean }[] = [];
  const walk = (node: LayerPlan, parentTrainable: boolean): void => {
    const trainable = parentTrainable && node.trainable;
    if (node.children) node.children.forEach((c) => walk(c, trainable));
    else for (const w of node.weights) all.push({ w, trainable: trainable && w.trainable });
  };
  walk(p, true);
  return [...all.filter((e) => e.trainable), ...all.filter((e) => !e.trainable)].map((e) => e.w);
}

function leafOf(p: LayerPlan, weightName: string): LayerPlan | null {
  if (!p.children) return p.weights.some((w) => w.name === weightName) ? p : null;
  for (const c of p.children) {
    const l = leafOf(c, weightName);
    if (l) return l;
  }
  return null;
}

function hasUnknown(p: LayerPlan): boolean {
  return p.children ? p.children.some(hasUnknown) : p.unknownWeights;
}

/**
 * Weights of a model saved in the legacy HDF5 layout; `g` is the `model_weights` group of a full model file
 * or the root of a `save_weights` file.
 */
export function findLegacyWeights(g: H5Group, plan: LayerPlan, shownAs: string): FoundWeight[] {
  const layerNames = stringListAttr(g, 'layer_names');
  if (!layerNames) throw fileError(shownAs, "no 'layer_names' attribute: not a Keras weights file");
  const weightNamesOf = (name: string): string[] => {
    const lg = child(g, name);
    return isGroup(lg) ? stringListAttr(lg, 'weight_names') ?? [] : [];
  };
  const fileWeighted = layerNames.filter((n) => weightNamesOf(n).length > 0);
  const modelLayers = (plan.children ?? []).filter(needsWeights);
  // Keras matches layers with weights by order; the names are used when they all agree (same model file).
  const byName = modelLayers.every((p) => layerNames.includes(p.name));
  if (!byName && fileWeighted.length !== modelLayers.length) {
    throw fileError(shownAs, `the weights file has weights for ${fileWeighted.length} layers, the model has ${modelLayers.length} layers with weights`);
  }
  const out: FoundWeight[] = [];
  modelLayers.forEach((p, i) => {
    const groupName = byName ? p.name : fileWeighted[i];
    const lg = child(g, groupName);
    const names = weightNamesOf(groupName);
    if (hasUnknown(p)) {
      if (names.length > 0) unknownLayout(shownAs, p);
      return;
    }
    const expected = legacyOrder(p);
    const extra = p.children ? 0 : ignoredTrailingArrays(p.className);
    if (names.length === 0 && expected.length > 0) missing(shownAs, p, 0);
    if (names.length < expected.length || names.length > expected.length + extra) {
      throw fileError(shownAs, `weights for layer '${p.name}' do not match its config (expected ${expected.length} arrays, found ${names.length})`);
    }
    const datasets = names.map((n) => {
      const ds = isGroup(lg) ? at(lg, n) : null;
      if (!isDataset(ds)) throw fileError(shownAs, `weights for layer '${p.name}': dataset '${n}' listed in weight_names is missing`);
      return ds;
    });
    // Keras 2 names weights "<layer>/<weight>:0" like tfjs does; when every name matches, pair them by name,
    // otherwise (Keras 3 names, renamed layers) by order.
    const expectedNames = new Set(expected.map((w) => w.name));
    const keys = names.map((n) => n.replace(/:\d+$/, '').split('/').slice(-2).join('/'));
    const pairByName = keys.slice(0, expected.length).every((k) => expectedNames.has(k)) && new Set(keys).size === keys.length;
    expected.forEach((w, j) => {
      const idx = pairByName ? keys.indexOf(w.name) : j;
      const ds = datasets[idx];
      const info = datasetInfo(ds, shownAs);
      const leaf = leafOf(p, w.name) ?? p;
      checkShape(shownAs, leaf, w, info.shape);
      out.push({ name: w.name, shape: info.shape, count: info.count, ds });
    });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------------

export interface PackedWeights {
  specs: { name: string; shape: number[]; dtype: 'float32' }[];
  data: ArrayBuffer;
}

/** Reads every found array as float32 into one buffer, after checking the total from the headers. */
export function packWeights(found: FoundWeight[], shownAs: string): PackedWeights {
  const total = found.reduce((a, w) => a + w.count * 4, 0);
  if (total > MAX_WEIGHT_BYTES) throw fileError(shownAs, `weights total ${(total / 1024 ** 3).toFixed(1)} GB, over the 4 GB limit`);
  const seen = new Set<string>();
  for (const w of found) {
    if (seen.has(w.name)) throw fileError(shownAs, `two weights are both named '${w.name}' (layer names repeat across nested models, which TensorFlow.js cannot load)`);
    seen.add(w.name);
  }
  const data = new ArrayBuffer(total);
  let offset = 0;
  for (const w of found) {
    readFloat32Into(w.ds, new Float32Array(data, offset, w.count), shownAs);
    offset += w.count * 4;
  }
  return { specs: found.map((w) => ({ name: w.name, shape: w.shape, dtype: 'float32' as const })), data };
}
