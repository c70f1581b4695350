// A description of a loaded model for people: `cnn-lens info` and the model browser's layer tree.
import type * as tfl from '@tensorflow/tfjs-layers';
import type { GraphNode } from './graph';
import type { LoadedModel } from './loadModel';
import type { LayerNode, ModelSummaryView } from '../../shared/protocol';
import { describeLayout } from './inputLayout';
import { activationName } from './layerOps';
import { layerKind } from './layerKinds';

// The shapes are the protocol's (the model browser receives them as they are): one definition for both.
export type { LayerKind } from '../../shared/protocol';
export type LayerSummary = LayerNode;
export type ModelSummary = ModelSummaryView;


type AnyLayer = tfl.layers.Layer & Record<string, any>;

function isContainer(l: AnyLayer): boolean {
  return Array.isArray(l.layers) && (l.inputs !== undefined || l.getClassName() === 'Sequential');
}

function safeOutputShape(l: AnyLayer): (number | null)[] | null {
  try {
    const s = l.outputShape;
    if (Array.isArray(s) && Array.isArray(s[0])) return s.length === 1 ? (s[0] as (number | null)[]) : null;
    return s as (number | null)[];
  } catch {
    return null; // shared layer with differently shaped outputs
  }
}

function countParams(l: AnyLayer): number {
  try {
    return l.countParams();
  } catch {
    return 0;
  }
}

export function summarizeModel(model: LoadedModel): ModelSummary {
  const net = model.network;
  const nodeByPath = new Map<string, GraphNode>();
  for (const n of net?.graph.nodes ?? []) if (!nodeByPath.has(n.path)) nodeByPath.set(n.path, n);
  let layerCount = 0;

  const describe = (l: AnyLayer, prefix: string): LayerSummary => {
    const path = prefix + l.name;
    const className = l.getClassName();
    if (isContainer(l)) {
      const kids = (l.layers as AnyLayer[]).map((c) => describe(c, path + '/'));
      return { path, name: l.name, className, kind: 'container', outputShape: safeOutputShape(l), params: countParams(l), activation: null, node: -1, spatial: false, children: kids };
    }
    layerCount++;
    const node = nodeByPath.get(path);
    const shape = node?.outputs[0]?.shape ?? safeOutputShape(l);
    const kernel = l.kernel ?? l.depthwiseKernel;
    return {
      path,
      name: l.name,
      className,
      kind: layerKind(className),
      outputShape: shape,
      params: countParams(l),
      activation: activationName(l) ?? (className === 'ReLU' ? 'relu' : null),
      node: node?.index ?? -1,
      spatial: !!shape && shape.length === 4 && ((shape[1] ?? 2) * (shape[2] ?? 2)) > 1,
      kernelShape: kernel?.shape ? [...kernel.shape] : undefined,
    };
  };

  let layers: LayerSummary[] = [];
  let total = 0;
  let trainable = 0;
  if (net) {
    const top = net.model as unknown as AnyLayer;
    layers = (top.layers as AnyLayer[]).map((l) => describe(l, ''));
    total = countParams(top);
    trainable = (top.trainableWeights as any[]).reduce((s: number, w: any) => s + w.shape.reduce((a: number, b: number) => a * b, 1), 0);
  } else if (model.graphModel) {
    // A graph model has no layers: list its nodes' count only.
    const weights = Object.values((model.graphModel as any).weights ?? {}) as any[];
    total = weights.flat().reduce((s: number, t: any) => s + (t?.size ?? 0), 0);
    trainable = 0;
  }
  return {
    file: model.file,
    format: model.format,
    kind: model.kind,
    input: model.inputSize,
    inputLayout: describeLayout(model.fileLayout ?? model.inputLayout),
    numClasses: model.numClasses,
    labels: model.labels,
    labelsSource: model.labelsSource,
    outputActivation: net?.binarySigmoid ? 'one sigmoid unit p: class 1 is p, class 0 is 1 − p' : (net?.outputActivation ?? 'unknown'),
    defaultPreprocess: model.defaultPreprocess,
    preprocessReason: model.preprocessReason,
    defaultLayer: net?.defaultLayer()?.path ?? null,
    defaultLayerReason: net?.defaultTarget()?.reason ?? null,
    params: { total, trainable },
    weightBytes: model.weightBytes,
    layerCount,
    layers,
  };
}

/** Every layer of the tree in order (containers before their children). */
export function flattenSummary(layers: LayerSummary[]): LayerSummary[] {
  const out: LayerSummary[] = [];
  const walk = (ls: LayerSummary[]) => {
    for (const l of ls) {
      out.push(l);
      if (l.children) walk(l.children);
    }
  };
  walk(layers);
  return out;
}
