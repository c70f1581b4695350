// Checks a TensorFlow.js graph model (a frozen TensorFlow GraphDef as JSON) before and after tfjs-converter
// reads it. The converter trusts the file: a field of the wrong type fails deep inside it with its own
// TypeError ("shape.dim.map is not a function"), and a node with too few inputs fails only when the graph runs
// ("Cannot read properties of undefined (reading 'split')"). Here each is one line naming the node and field.
import type * as tfc from '@tensorflow/tfjs-converter';
import { fileError, shownName } from '../errors';

const isObj = (v: unknown): v is Record<string, any> => !!v && typeof v === 'object' && !Array.isArray(v);
/** An int64 in proto3 JSON: a number or a decimal string. */
const isInt = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'string' && /^-?\d{1,19}$/.test(v));
/** A float in proto3 JSON: a number or "NaN", "Infinity", "-Infinity". */
const isFloat = (v: unknown) => typeof v === 'number' || v === 'NaN' || v === 'Infinity' || v === '-Infinity';
const isDtype = (v: unknown) => typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v));
/** Largest size of one axis a graph attribute may declare (the wasm kernels index with 32-bit integers). */
const MAX_DIM = 2 ** 31 - 1;

/**
 * Ops that tfjs-converter runs only asynchronously (its control, dynamic and hash-table executors: control flow,
 * tensor arrays and lists, non-max suppression, Where, lookup tables). CNN Lens runs graph models with the
 * synchronous execute(), where such an op throws "returned a promise. Please use model.executeAsync()" and leaves
 * its promise running: found by fuzzing, an 'If' whose function was missing then threw inside that promise and
 * killed the process a case later.
 */
const ASYNC_OPS = new Set([
  'If', 'StatelessIf', 'While', 'StatelessWhile', 'LoopCond', 'Switch', 'Merge', 'Enter', 'Exit', 'NextIteration',
  'TensorArrayV3', 'TensorArrayWriteV3', 'TensorArrayReadV3', 'TensorArrayGatherV3', 'TensorArrayScatterV3', 'TensorArrayConcatV3', 'TensorArraySplitV3', 'TensorArraySizeV3', 'TensorArrayCloseV3',
  'EmptyTensorList', 'TensorListScatter', 'TensorListScatterV2', 'TensorListGather', 'TensorListGetItem', 'TensorListSetItem', 'TensorListReserve', 'TensorListFromTensor', 'TensorListStack', 'TensorListSplit', 'TensorListConcat', 'TensorListConcatV2', 'TensorListPopBack', 'TensorListPushBack', 'TensorListLength', 'TensorListResize',
  'NonMaxSuppressionV2', 'NonMaxSuppressionV3', 'NonMaxSuppressionV4', 'NonMaxSuppressionV5', 'Where', 'ListDiff',
  'HashTable', 'HashTableV2', 'LookupTableImport', 'LookupTableImportV2', 'LookupTableFind', 'LookupTableFindV2', 'LookupTableSize', 'LookupTableSizeV2', 'InitializeTable', 'InitializeTableV2',
]);

/** A TensorShapeProto: {dim: [{size}], unknownRank}, sizes whole numbers (-1: unknown). */
function shapeProblem(shape: unknown): string | null {
  if (!isObj(shape)) return 'is not a shape';
  if (shape.unknownRank !== undefined && typeof shape.unknownRank !== 'boolean') return 'has an unknownRank that is not true or false';
  if (shape.dim === undefined || shape.dim === null) return null;
  if (!Array.isArray(shape.dim)) return 'has a "dim" that is not a list';
  for (const d of shape.dim) {
    if (!isObj(d)) return 'has a dimension that is not an object';
    if (d.size === undefined) continue; // proto3 leaves a 0 out
    if (!isInt(d.size) || Number(d.size) < -1 || Number(d.size) > MAX_DIM) return `has a dimension of size ${JSON.stringify(d.size).slice(0, 40)} (expected a whole number from -1 to ${MAX_DIM})`;
  }
  return null;
}

/** What each field of an AttrValue must hold, and of its list form (each a list of those). */
const FIELD_CHECKS: Record<string, (v: unknown) => string | null> = {
  s: (v) => (typeof v === 'string' || (Array.isArray(v) && v.every((c) => Number.isInteger(c))) ? null : 'is not a string'),
  i: (v) => (isInt(v) ? null : 'is not a whole number'),
  f: (v) => (isFloat(v) ? null : 'is not a number'),
  b: (v) => (typeof v === 'boolean' ? null : 'is not true or false'),
  type: (v) => (isDtype(v) ? null : 'is not a data type'),
  shape: shapeProblem,
  tensor: (v) => (!isObj(v) ? 'is not a tensor' : v.tensorShape === undefined ? null : shapeProblem(v.tensorShape)),
  func: (v) => (isObj(v) && (v.name === undefined || typeof v.name === 'string') ? null : 'is not a function reference'),
};

/**
 * Attributes TensorFlow always writes as lists of numbers (tfjs-converter reads `.list` of them without a check:
 * "Cannot read properties of undefined (reading 'f')").
 */
const LIST_ATTRS = new Set(['strides', 'dilations', 'ksize', 'explicit_paddings']);

/** Why an AttrValue (proto3 JSON) is malformed, or null. */
function attrProblem(key: string, value: Record<string, unknown>): string | null {
  for (const [field, v] of Object.entries(value)) {
    if (v === null || v === undefined) continue;
    if (field === 'list') {
      if (!isObj(v)) return 'is malformed: its "list" is not an object';
      for (const [lf, items] of Object.entries(v)) {
        const check = Object.prototype.hasOwnProperty.call(FIELD_CHECKS, lf) ? FIELD_CHECKS[lf] : undefined;
        if (!check || items === null || items === undefined) continue;
        if (!Array.isArray(items)) return `is malformed: its list "${lf}" is not a list`;
        for (const item of items) {
          const p = check(item);
          if (p) return `is malformed: an item of its list "${lf}" ${p}`;
        }
      }
      continue;
    }
    const check = Object.prototype.hasOwnProperty.call(FIELD_CHECKS, field) ? FIELD_CHECKS[field] : undefined;
    const p = check?.(v);
    if (p) return `is malformed: its "${field}" ${p}`;
  }
  if (LIST_ATTRS.has(key) && !isObj(value.list)) return 'is not a list of numbers';
  return null;
}

/**
 * The outline of a graph model's node list, checked before tfjs-converter reads it: the converter trusts the
 * file and fails on a malformed node with its own TypeErrors (found by fuzzing: "node.op.startsWith is not a
 * function", "(node.input || []).map is not a function").
 */
export function validateGraphTopology(file: string, topology: any): void {
  if (!topology || typeof topology !== 'object') throw fileError(file, 'graph model has no topology');
  const nodes = topology.node;
  if (!Array.isArray(nodes)) throw fileError(file, 'graph model has no list of nodes');
  const isObj = (v: unknown) => !!v && typeof v === 'object' && !Array.isArray(v);
  nodes.forEach((n: any, i: number) => {
    if (!isObj(n) || typeof n.name !== 'string' || typeof n.op !== 'string') throw fileError(file, `graph node ${i} has no name or op`);
    if (n.input !== undefined && (!Array.isArray(n.input) || n.input.some((x: unknown) => typeof x !== 'string'))) throw fileError(file, `graph node '${n.name}' has an input list that is not a list of names`);
    if (n.attr !== undefined && (!isObj(n.attr) || Object.values(n.attr).some((v) => !isObj(v)))) throw fileError(file, `graph node '${n.name}' has malformed attributes`);
    for (const [key, value] of Object.entries(n.attr ?? {})) {
      const problem = attrProblem(key, value as Record<string, unknown>);
      if (problem) throw fileError(file, `graph node '${shownName(n.name)}' (${shownName(n.op)}): attribute '${shownName(key)}' ${problem}`);
    }
  });
  const asyncNode = nodes.find((n: any) => ASYNC_OPS.has(n.op));
  if (asyncNode) {
    throw fileError(file, `graph node '${shownName(asyncNode.name)}' uses op '${asyncNode.op}' (control flow, a dynamic shape or a lookup table), which TensorFlow.js runs only asynchronously; CNN Lens runs classifiers whose graphs have none: export the model without it`);
  }
  // tfjs-converter reads versions.producer and walks library.function unchecked (found by fuzzing: "Cannot read
  // properties of undefined (reading 'producer')").
  if (topology.versions !== undefined && !isObj(topology.versions)) throw fileError(file, 'graph model has a "versions" field that is not an object');
  const lib = topology.library;
  if (lib !== undefined && lib !== null && (!isObj(lib) || (lib.function !== undefined && !Array.isArray(lib.function)))) throw fileError(file, 'graph model has a malformed "library" of functions');
  for (const [i, f] of ((lib?.function ?? []) as any[]).entries()) {
    const sig = f?.signature;
    const args = (a: unknown) => a === undefined || (Array.isArray(a) && a.every((x) => isObj(x) && typeof (x as any).name === 'string'));
    if (!isObj(f) || !isObj(sig) || typeof sig.name !== 'string' || !args(sig.inputArg) || !args(sig.outputArg) || (f.nodeDef !== undefined && !Array.isArray(f.nodeDef)) || (f.ret !== undefined && !isObj(f.ret))) {
      throw fileError(file, `graph model function ${i} is malformed (expected a signature with a name and argument lists)`);
    }
  }
  // Inputs name nodes of the graph ("name", "name:1" for a second output, "^name" for a control input), and the
  // graph is acyclic. Found by fuzzing: a node fed from a later one made tfjs-converter dispose tensors it still
  // needed, and the next prediction failed with "Cannot read properties of undefined (reading 'backend')".
  // (Graphs with loops, tf.while_loop's NextIteration nodes, are cyclic by design: refused above as control flow.)
  const deps = new Map<string, string[]>();
  for (const n of nodes) deps.set(n.name, (n.input ?? []).map((x: string) => x.replace(/^\^/, '').replace(/:\d+$/, '')));
  for (const [name, ins] of deps) {
    const missing = ins.find((x) => !deps.has(x));
    if (missing !== undefined) throw fileError(file, `graph node '${name}' takes input from '${missing}', which is not a node of the graph`);
  }
  const state = new Map<string, 1 | 2>(); // 1 = on the current path, 2 = done
  for (const start of deps.keys()) {
    if (state.has(start)) continue;
    const stack: [string, number][] = [[start, 0]];
    state.set(start, 1);
    while (stack.length) {
      const top = stack[stack.length - 1];
      const ins = deps.get(top[0])!;
      if (top[1] >= ins.length) {
        state.set(top[0], 2);
        stack.pop();
        continue;
      }
      const next = ins[top[1]++];
      if (state.get(next) === 1) throw fileError(file, `the nodes of the graph form a cycle through '${next}'`);
      if (!state.has(next)) {
        state.set(next, 1);
        stack.push([next, 0]);
      }
    }
  }
}

interface MappedNode {
  name: string;
  op: string;
  attrParams?: Record<string, { value: unknown; type: string }>;
  inputNames: string[];
  inputParams: Record<string, { type: string; inputIndexStart?: number; inputIndexEnd?: number }>;
}

/**
 * After tfjs-converter has mapped the graph: every input an op reads (its op definition's inputs) is present, and
 * so are the window attributes (strides, ksize, dilations) of the ops that have them.
 * Found by fuzzing: a node whose input list was cut short failed when the graph ran, with "Cannot read
 * properties of undefined (reading 'split')" or "Input mean of node logits is unreachable". Reads the mapped
 * graph inside the GraphModel (tfjs-converter 4.22: executor.graph.nodes), and checks nothing when that is absent.
 */
/** tfjs-converter's names of window attributes (op definitions' attrs) and the TensorFlow attribute of each. */
const WINDOW_ATTRS: [string, string][] = [['strides', 'strides'], ['kernelSize', 'ksize'], ['dilations', 'dilations']];

export function checkGraphInputs(gm: tfc.GraphModel, file: string): void {
  const nodes = (gm as unknown as { executor?: { graph?: { nodes?: Record<string, MappedNode> } } }).executor?.graph?.nodes;
  if (!nodes) return;
  for (const node of Object.values(nodes)) {
    // Window attributes without a default: the op's kernel reads them unchecked (found by fuzzing: a Conv2D
    // without strides failed when run, "Cannot read properties of undefined (reading '1')").
    for (const [param, tfName] of WINDOW_ATTRS) {
      const a = node.attrParams?.[param];
      if (a && a.value === undefined) throw fileError(file, `graph node '${shownName(node.name)}' (${shownName(node.op)}) has no '${tfName}' attribute`);
    }
    const count = node.inputNames?.length ?? 0;
    for (const [param, p] of Object.entries(node.inputParams ?? {})) {
      if (p.inputIndexStart === undefined || p.type === 'tensors') continue;
      const at = p.inputIndexStart < 0 ? count + p.inputIndexStart : p.inputIndexStart;
      if (at < 0 || at >= count) throw fileError(file, `graph node '${shownName(node.name)}' (${shownName(node.op)}) has ${count} input(s), too few for its operation (its input '${param}' is missing)`);
    }
  }
}

/**
 * tfjs-converter gives each weight of the manifest to the Const node of the same name. Found by fuzzing: a weight
 * renamed after another node ('relu') left its Const without a value and replaced that node's output, and the
 * graph failed when it ran ("NodesExecutionOrderError: Input relu of node mean is unreachable").
 */
export function checkGraphWeights(file: string, topology: { node: { name: string; op: string }[] }, specs: { name: string }[]): void {
  const ops = new Map(topology.node.map((n) => [n.name, n.op]));
  const named = new Set<string>();
  for (const w of specs) {
    const op = ops.get(w.name);
    if (op === undefined) continue; // a weight no node reads (tfjs ignores it)
    if (op !== 'Const') throw fileError(file, `weight '${shownName(w.name)}' of the weightsManifest has the name of graph node '${shownName(w.name)}', which is a ${shownName(op)}, not a Const`);
    named.add(w.name);
  }
  for (const n of topology.node) {
    if (n.op === 'Const' && !named.has(n.name)) throw fileError(file, `graph node '${shownName(n.name)}' is a Const without a weight of that name in the weightsManifest`);
  }
}
