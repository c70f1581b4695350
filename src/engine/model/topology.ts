// Checks a Keras/tfjs model topology before TensorFlow.js builds it. tfjs-layers trusts the file: a
// cycle between layers leaves its loader waiting forever, duplicate names surface as a confusing weight
// error, and a malformed config fails deep inside. Here each of those is one clear line.
import { fileError, type LensError } from '../errors';
import { checkLayerConfig } from './layerConfig';

const CONTAINERS = new Set(['Sequential', 'Model', 'Functional']);

/** Longest chain of nested models we follow (real models nest two or three levels). */
const MAX_NESTING = 32;

function layerName(layer: any): string | undefined {
  return typeof layer?.config?.name === 'string' ? layer.config.name : typeof layer?.name === 'string' ? layer.name : undefined;
}

interface InboundRef {
  name: string;
  node: number;
  /** Which output of that node. */
  tensor: number;
}

/**
 * The references of an inbound_nodes entry in the Keras 2 / tfjs list form ([[[layer, node, tensor, kwargs?], …], …]),
 * or null for another dialect (Keras 3's {"args", "kwargs"} call nodes, translated later). A list-form reference
 * that is not [string, integer ≥ 0, integer ≥ 0, …] is refused here: tfjs-layers would otherwise wait forever for
 * a node that never comes (its loader loops until every node is resolved, synchronously, so no time limit helps).
 */
function inboundRefs(file: string, layer: string, where: string, inbound: unknown): InboundRef[] | null {
  if (inbound === undefined || inbound === null) return [];
  const bad = (): never => {
    throw fileError(file, `layer '${layer}' in model '${where}' has malformed inbound_nodes (expected [[[layer name, node index, tensor index], …], …])`);
  };
  if (!Array.isArray(inbound)) bad();
  const refs: InboundRef[] = [];
  for (const node of inbound as unknown[]) {
    if (!Array.isArray(node)) {
      if (node && typeof node === 'object' && 'args' in node) return null; // Keras 3 call node
      bad();
    }
    // Found by fuzzing: a call with no inputs never resolves either.
    if ((node as unknown[]).length === 0) bad();
    for (const ref of node as unknown[]) {
      if (!Array.isArray(ref) || typeof ref[0] !== 'string' || !Number.isSafeInteger(ref[1]) || ref[1] < 0 || !Number.isSafeInteger(ref[2]) || ref[2] < 0) bad();
      refs.push({ name: (ref as unknown[])[0] as string, node: (ref as unknown[])[1] as number, tensor: (ref as unknown[])[2] as number });
    }
  }
  return refs;
}

/**
 * How many nodes tfjs-layers gives a layer of a model being deserialized: one per call (inbound_nodes entry);
 * an InputLayer has its own single node, and a nested model has its internal node (index 0) before its calls.
 */
function nodeCount(layer: any): number {
  const calls = Array.isArray(layer?.inbound_nodes) ? layer.inbound_nodes.length : 0;
  if (layer?.class_name === 'InputLayer') return Math.max(1, calls);
  return CONTAINERS.has(layer?.class_name) ? calls + 1 : calls;
}

/**
 * How many outputs a layer's call gives: a nested Functional model one per output_layers entry, a recurrent
 * layer with return_state more than one (left unbounded here), every other layer one.
 */
function outputCount(layer: any): number {
  if (layer?.class_name === 'Functional' || layer?.class_name === 'Model') {
    const outs = layer?.config?.output_layers;
    return Array.isArray(outs) && outs.length > 0 && Array.isArray(outs[0]) ? outs.length : 1;
  }
  if (layer?.config?.return_state === true || /RNN|LSTM|GRU|Bidirectional/.test(String(layer?.class_name))) return Infinity;
  return 1;
}

function validateContainer(file: string, c: any, where: string, depth: number, weightValues: number | undefined): void {
  if (depth > MAX_NESTING) throw fileError(file, `models nested more than ${MAX_NESTING} levels deep at '${where}'`);
  const cfg = c?.config;
  const layers = Array.isArray(cfg) ? cfg : cfg?.layers;
  if (!Array.isArray(layers)) throw fileError(file, `model '${where}' has no list of layers`);
  const seen = new Set<string>();
  for (const l of layers) {
    if (!l || typeof l !== 'object' || typeof l.class_name !== 'string') throw fileError(file, `model '${where}' has a layer without a class_name`);
    const name = layerName(l);
    if (name !== undefined) {
      if (seen.has(name)) throw fileError(file, `duplicate layer name '${name}' in model '${where}'`);
      seen.add(name);
    }
    if (CONTAINERS.has(l.class_name)) validateContainer(file, l, name ?? '?', depth + 1, weightValues);
    else checkLayerConfig(file, l, name ?? '?', weightValues);
  }
  if (c.class_name === 'Sequential') return;
  // Functional: every inbound reference names a layer of this model and one of its nodes, and the references are acyclic.
  const byName = new Map<string, any>();
  for (const l of layers) {
    const name = layerName(l);
    if (name !== undefined) byName.set(name, l);
  }
  /** `who` is "layer 'x'" or "the input_layers/output_layers list". */
  const checkRef = (who: string, r: InboundRef): void => {
    const target = byName.get(r.name);
    if (!target) throw fileError(file, `${who} in model '${where}' takes input from '${r.name}', which is not a layer of that model`);
    // A node index past the layer's nodes leaves tfjs-layers' loader looping forever.
    if (r.node >= nodeCount(target)) throw fileError(file, `${who} in model '${where}' takes input from node ${r.node} of '${r.name}', which has ${nodeCount(target)} node(s)`);
    // Found by fuzzing: a tensor index past the layer's outputs failed inside tfjs ("reading 'shape'", "reading 'sourceLayer'").
    if (r.tensor >= outputCount(target)) throw fileError(file, `${who} in model '${where}' takes output ${r.tensor} of '${r.name}', which has ${outputCount(target)} output(s)`);
  };
  const edges = new Map<string, string[]>();
  for (const l of layers) {
    const name = layerName(l);
    if (name === undefined) continue;
    const refs = inboundRefs(file, name, where, l.inbound_nodes);
    if (refs === null) return; // another dialect (e.g. Keras 3 before translation): leave it to the translator
    for (const r of refs) checkRef(`layer '${name}'`, r);
    edges.set(name, refs.map((r) => r.name));
  }
  // The model's own inputs and outputs, in list form ([[name, node, tensor], …]), name layers and nodes that exist.
  for (const key of ['input_layers', 'output_layers']) {
    const list = cfg?.[key];
    if (!Array.isArray(list) || !list.every((e: unknown) => Array.isArray(e))) continue;
    for (const e of list as unknown[][]) {
      const index = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
      if (typeof e[0] !== 'string' || !index(e[1]) || (e.length > 2 && !index(e[2]))) throw fileError(file, `model '${where}' has a malformed ${key} entry ${JSON.stringify(e).slice(0, 80)} (expected [layer name, node index, tensor index])`);
      checkRef(`the ${key} list`, { name: e[0], node: e[1] as number, tensor: (e[2] as number | undefined) ?? 0 });
    }
  }
  const state = new Map<string, 1 | 2>(); // 1 = on the current path, 2 = done
  const visit = (start: string): void => {
    // iterative depth-first search: no recursion limit on long chains
    const stack: [string, number][] = [[start, 0]];
    state.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const deps = edges.get(top[0]) ?? [];
      if (top[1] >= deps.length) {
        state.set(top[0], 2);
        stack.pop();
        continue;
      }
      const next = deps[top[1]++];
      const s = state.get(next);
      if (s === 1) throw fileError(file, `the layers of model '${where}' form a cycle through '${next}'`);
      if (s === undefined) {
        state.set(next, 1);
        stack.push([next, 0]);
      }
    }
  };
  for (const name of edges.keys()) if (!state.has(name)) visit(name);
}

/**
 * Throws a LensError naming the file when the topology cannot be a valid model. `weightValues`, the number of
 * weight values the file holds, bounds what a layer's config may ask for (layerConfig.ts).
 */
export function validateTopology(file: string, topology: any, weightValues?: number): void {
  const root = topology?.model_config ?? topology;
  if (!root || typeof root !== 'object' || typeof root.class_name !== 'string') throw fileError(file, 'modelTopology has no class_name: not a Keras/TensorFlow.js layers model');
  if (!CONTAINERS.has(root.class_name)) throw fileError(file, `modelTopology is a '${root.class_name}', expected a Sequential or Functional model`);
  validateContainer(file, root, layerName(root) ?? 'model', 0, weightValues);
}

/** Scans float32 weights for NaN and ±Inf (a corrupt or hostile file), naming the first bad weight. */
export function checkFiniteWeights(file: string, specs: { name: string; shape: number[]; dtype?: string; quantization?: unknown }[], data: ArrayBuffer): LensError | null {
  let offset = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (s.quantization || (s.dtype && s.dtype !== 'float32')) return null; // offsets of quantized data differ; skip the scan
    // The callers check the total size first; a view past the end would be a RangeError without a word about the file.
    if (offset + n * 4 > data.byteLength) return fileError(file, `weight '${s.name}' needs bytes ${offset}..${offset + n * 4} of the weight data, which holds ${data.byteLength}`);
    const values = new Float32Array(data, offset, n);
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(values[i])) return fileError(file, `weight '${s.name}' holds ${Number.isNaN(values[i]) ? 'NaN' : 'infinite'} values (a corrupt file?)`);
    }
    offset += n * 4;
  }
  return null;
}
