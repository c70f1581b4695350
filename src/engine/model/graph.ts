// The model as one flat, topologically ordered graph of layer applications.
//
// tfjs-layers models nest (Teachable Machine: Sequential > Sequential > Functional MobileNet), and a layer
// inside a nested model cannot be made an output of a new tf.model over the outer inputs (ENGINE-NOTES
// pitfall 5). So we inline every container into one list of nodes and execute it ourselves
// (./execute.ts). That also lets us run unfused ops while gradients are recorded (pitfall 1), tap any
// layer's output, and replace a layer's output with a tensor we differentiate with respect to.
import type * as tfl from '@tensorflow/tfjs-layers';
import { LensError } from '../errors';

/** One value flowing between nodes (the output of a node, or a model input). */
export interface ValueRef {
  id: number;
  /** Symbolic shape with null batch, e.g. [null, 7, 7, 1280]. */
  shape: (number | null)[];
  /** The node that produces it; -1 for a model input. */
  producer: number;
}

/** One application of a (non-container) layer. */
export interface GraphNode {
  index: number;
  /** Qualified name: the names of the enclosing models and the layer, joined by '/'. */
  path: string;
  name: string;
  className: string;
  layer: tfl.layers.Layer;
  inputs: ValueRef[];
  outputs: ValueRef[];
  /** Indices of nodes that consume one of this node's outputs. */
  consumers: number[];
}

export interface ModelGraph {
  nodes: GraphNode[];
  input: ValueRef;
  /** The model's outputs in order; output 0 is the one explained unless told otherwise. */
  outputs: ValueRef[];
  /** Container paths ('' for the top level) in the order met, for the layer tree. */
  containers: string[];
}

type AnyLayer = tfl.layers.Layer & Record<string, any>;

function isContainer(layer: AnyLayer): boolean {
  return Array.isArray(layer.layers) && (layer.inputs !== undefined || layer.getClassName() === 'Sequential');
}

export function buildGraph(model: tfl.LayersModel): ModelGraph {
  const nodes: GraphNode[] = [];
  const containers: string[] = [];
  let nextId = 0;
  const newRef = (shape: (number | null)[], producer: number): ValueRef => ({ id: nextId++, shape: [...shape], producer });

  const m = model as unknown as AnyLayer;
  if (!m.inputs || m.inputs.length === 0) throw new LensError('the model has no inputs');
  if (m.inputs.length > 1) {
    const names = m.inputs.map((t: { name?: string }) => (t.name ?? '?').replace(/:\d+$/, ''));
    throw new LensError(`the model has ${m.inputs.length} inputs (${names.join(', ')}); CNN Lens explains image models with one input`);
  }
  const input = newRef(m.inputs[0].shape, -1);

  const addNode = (layer: AnyLayer, prefix: string, ins: ValueRef[], outShapes: (number | null)[][]): ValueRef[] => {
    const index = nodes.length;
    const outs = outShapes.map((s) => newRef(s, index));
    nodes.push({ index, path: prefix + layer.name, name: layer.name, className: layer.getClassName(), layer, inputs: ins, outputs: outs, consumers: [] });
    for (const r of ins) if (r.producer >= 0 && !nodes[r.producer].consumers.includes(index)) nodes[r.producer].consumers.push(index);
    return outs;
  };

  const apply = (layer: AnyLayer, ins: ValueRef[], prefix: string, outShapes: (number | null)[][]): ValueRef[] => {
    if (isContainer(layer)) return flatten(layer, ins, prefix + layer.name + '/');
    return addNode(layer, prefix, ins, outShapes);
  };

  const flatten = (c: AnyLayer, ins: ValueRef[], prefix: string): ValueRef[] => {
    containers.push(prefix.replace(/\/$/, ''));
    if (c.getClassName() === 'Sequential') {
      // Sequential.layers excludes its InputLayer and is a chain by definition.
      let refs = ins;
      for (const l of c.layers as AnyLayer[]) {
        if (l.getClassName() === 'InputLayer') continue;
        refs = apply(l, refs, prefix, [outputShapeOf(l)]);
      }
      return refs;
    }
    // Functional: map each symbolic tensor of the container's own graph to a ValueRef.
    const byId = new Map<number, ValueRef>();
    (c.inputs as any[]).forEach((t, i) => {
      if (!ins[i]) throw new LensError(`nested model '${c.name}' expects ${c.inputs.length} inputs, got ${ins.length}`);
      byId.set(t.id, ins[i]);
    });
    const depths = Object.keys(c.nodesByDepth as Record<string, unknown>).map(Number).sort((a, b) => b - a);
    for (const d of depths) {
      for (const node of c.nodesByDepth[d] as any[]) {
        const layer = node.outboundLayer as AnyLayer;
        if (layer.getClassName() === 'InputLayer') continue;
        const nodeIns = (node.inputTensors as any[]).map((t) => {
          const r = byId.get(t.id);
          if (!r) throw new LensError(`layer '${prefix}${layer.name}' uses a tensor that is computed nowhere before it (a cycle or a broken graph)`);
          return r;
        });
        const outs = apply(layer, nodeIns, prefix, (node.outputTensors as any[]).map((t) => t.shape));
        (node.outputTensors as any[]).forEach((t, i) => byId.set(t.id, outs[i]));
      }
    }
    return (c.outputs as any[]).map((t) => {
      const r = byId.get(t.id);
      if (!r) throw new LensError(`model '${c.name}' has an output that no layer computes`);
      return r;
    });
  };

  const outputs = flatten(m, [input], '');
  return { nodes, input, outputs, containers };
}

function outputShapeOf(layer: AnyLayer): (number | null)[] {
  const s = layer.outputShape;
  if (Array.isArray(s) && Array.isArray(s[0])) return s[0] as (number | null)[];
  return s as (number | null)[];
}

/**
 * Every node the given nodes depend on, including themselves; `follow(i, r)` (default: always) says whether
 * node i's input r is walked back to its producer.
 */
export function ancestorsOf(graph: ModelGraph, targets: number[], follow: (node: number, input: ValueRef) => boolean = () => true): Set<number> {
  const seen = new Set<number>();
  const stack = [...targets];
  while (stack.length) {
    const i = stack.pop()!;
    if (i < 0 || seen.has(i)) continue;
    seen.add(i);
    for (const r of graph.nodes[i].inputs) if (follow(i, r)) stack.push(r.producer);
  }
  return seen;
}

/**
 * Finds a layer by qualified path ('model3/out_relu') or by plain name when that name is unique.
 * Unknown or ambiguous names are errors that list what exists.
 */
export function findNode(graph: ModelGraph, name: string): GraphNode {
  const exact = graph.nodes.filter((n) => n.path === name);
  if (exact.length >= 1) return exact[exact.length - 1];
  const byName = graph.nodes.filter((n) => n.name === name || n.path.endsWith('/' + name));
  const distinctPaths = [...new Set(byName.map((n) => n.path))];
  if (distinctPaths.length === 1) return byName[byName.length - 1];
  if (distinctPaths.length > 1) throw new LensError(`layer name '${name}' is ambiguous: ${distinctPaths.join(', ')}`);
  const lower = name.toLowerCase();
  const close = graph.nodes.filter((n) => n.name.toLowerCase().includes(lower) || lower.includes(n.name.toLowerCase())).map((n) => n.path);
  const hint = close.length ? `; did you mean ${[...new Set(close)].slice(0, 5).join(', ')}?` : '; run `cnn-lens info MODEL` to list the layers';
  throw new LensError(`no layer named '${name}'${hint}`);
}
