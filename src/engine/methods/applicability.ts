// Which methods can run on a model, and in words why not: the panel disables the others with the reason
// as their tooltip, and the engine refuses them with the same sentence.
import { METHOD_INFO, usesLayer, type MethodId } from '../../shared/methods';
import type { GraphNode } from '../model/graph';
import type { LoadedModel } from '../model/loadModel';
import type { Network } from '../model/network';
import { findCamHead } from './cam';

/** The layer kinds after `layer` on the way to the output, e.g. "Flatten → Dense → Dense" (at most 5). */
function headChain(net: Network, layer: GraphNode): string {
  const kinds: string[] = [];
  let cur = layer;
  while (cur.consumers.length > 0 && kinds.length < 5) {
    cur = net.graph.nodes[cur.consumers[0]];
    kinds.push(cur.className);
  }
  return kinds.length ? kinds.join(' → ') + (cur.consumers.length ? ' → …' : '') : 'nothing';
}

/** Method id → null when it applies, else one sentence saying why it cannot. */
export function methodApplicability(model: LoadedModel): Record<MethodId, string | null> {
  const out = {} as Record<MethodId, string | null>;
  const net = model.network;
  const layer = net?.defaultLayer() ?? null;
  const head = net && layer ? findCamHead(net, layer) : null;
  for (const m of METHOD_INFO) {
    let reason: string | null = null;
    if (!net) reason = `${m.title} needs the model's layers; this is a TensorFlow.js graph model (a frozen inference graph)`;
    else if (usesLayer(m) && net.layerMapsProblem()) reason = `${m.title} reads a layer's feature maps, and in this model ${net.layerMapsProblem()}`;
    else if (usesLayer(m) && !layer) reason = `${m.title} works on a layer with a spatial output, and this model has none; the gradient methods apply`;
    else if (m.needs === 'cam-head' && !head) {
      reason = `CAM needs the target layer followed by global average pooling and one dense layer; after '${layer!.path}' this model has ${headChain(net, layer!)}; use Grad-CAM`;
    }
    out[m.id] = reason;
  }
  return out;
}
