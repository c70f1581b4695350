// Checks a Keras/tfjs model topology before TensorFlow.js builds it. tfjs-layers trusts the file: a
// cycle between layers leaves its loader waiting forever, duplicate names surface as a confusing weight
// error, and a malformed config fails deep inside. Here each of those is one clear line.
import { fileError, type LensError } from '../errors';

const CONTAINERS = new Set(['Sequential', 'Model', 'Functional']);

/** Longest chain of nested models we follow (real models nest two or three levels). */
const MAX_NESTING = 32;

function layerName(layer: any): string | undefined {
  return typeof layer?.config?.name === 'string' ? layer.config.name : typeof layer?.name === 'string' ? layer.name : undefined;
}

/** Names of the layers an inbound_nodes entry refers to (Keras 2 / tfjs list form), or null if not that form. */
function inboundNames(inbound: unknown): string[] | null {
  if (!Array.isArray(inbound)) return null;
  const names: string[] = [];
  for (const node of inbound) {
    if (!Array.isArray(node)) return null;
    for (const ref of node) {
      if (!Array.isArray(ref) || typeof ref[0] !== 'string') return null;
      names.push(ref[0]);
    }
  }
  return names;
}

function validateContainer(file: string, c: any, where: string, depth: number): void {
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
    if (CONTAINERS.has(l.class_name)) validateContainer(file, l, name ?? '?', depth + 1);
  }
  if (c.class_name === 'Sequential') return;
  // Functional: every inbound reference names a layer of this model, and the references are acyclic.
  const edges = new Map<string, string[]>();
  for (const l of layers) {
    const name = layerName(l);
    if (name === undefined) continue;
    const refs = inboundNames(l.inbound_nodes ?? []);
    if (refs === null) return; // another dialect (e.g. Keras 3 before translation): leave it to the translator
    for (const r of refs) if (!seen.has(r)) throw fileError(file, `layer '${name}' in model '${where}' takes input from '${r}', which is not a layer of that model`);
    edges.set(name, refs);
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

/** Throws a LensError naming the file when the topology cannot be a valid model. */
export function validateTopology(file: string, topology: any): void {
  const root = topology?.model_config ?? topology;
  if (!root || typeof root !== 'object' || typeof root.class_name !== 'string') throw fileError(file, 'modelTopology has no class_name: not a Keras/TensorFlow.js layers model');
  if (!CONTAINERS.has(root.class_name)) throw fileError(file, `modelTopology is a '${root.class_name}', expected a Sequential or Functional model`);
  validateContainer(file, root, layerName(root) ?? 'model', 0);
}

/** Scans float32 weights for NaN and ±Inf (a corrupt or hostile file), naming the first bad weight. */
export function checkFiniteWeights(file: string, specs: { name: string; shape: number[]; dtype?: string; quantization?: unknown }[], data: ArrayBuffer): LensError | null {
  let offset = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (s.quantization || (s.dtype && s.dtype !== 'float32')) return null; // offsets of quantized data differ; skip the scan
    const values = new Float32Array(data, offset, n);
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(values[i])) return fileError(file, `weight '${s.name}' holds ${Number.isNaN(values[i]) ? 'NaN' : 'infinite'} values (a corrupt file?)`);
    }
    offset += n * 4;
  }
  return null;
}
