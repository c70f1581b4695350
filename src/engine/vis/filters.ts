// A convolution layer's kernels as pictures. The first layer's filters look at the image itself, so each
// is shown in colour; deeper filters look at feature maps, so each is shown as a signed map (blue
// negative, white zero, red positive), each tile scaled to its own largest weight.
import * as tf from '@tensorflow/tfjs-core';
import { LensError } from '../errors';
import type { RgbaImage } from '../image/decode';
import type { PreprocessPreset } from '../image/preprocess';
import type { LoadedModel } from '../model/loadModel';
import { resolveNode, visNetwork } from './common';
import { inputSpace } from './space';

/**
 * - rgb: first-layer Conv2D, one kh×kw colour tile per filter (model channels mapped back to RGB);
 * - spatial: deeper Conv2D with kh×kw > 1, one kh×kw tile per filter: the mean over input channels;
 * - depthwise: one kh×kw tile per input channel (and depth multiplier);
 * - pointwise: 1×1 Conv2D, one tile per filter showing its weight for every input channel in a square.
 */
export type FilterKind = 'rgb' | 'spatial' | 'depthwise' | 'pointwise';

export interface FilterWeights {
  layer: string;
  className: string;
  kind: FilterKind;
  /** The kernel as stored: Conv2D [kh, kw, cin, cout], DepthwiseConv2D [kh, kw, cin, multiplier]. */
  kernel: Float32Array;
  shape: number[];
  /** One small tile per filter, all the same size (not upscaled). */
  tiles: RgbaImage[];
  /** What the tiles show, one line. */
  description: string;
}

/** Blue (−1) → white (0) → red (+1). */
export function diverging(v: number): [number, number, number] {
  const t = Math.max(-1, Math.min(1, v));
  if (t >= 0) return [255, Math.round(255 * (1 - t)), Math.round(255 * (1 - t))];
  return [Math.round(255 * (1 + t)), Math.round(255 * (1 + t)), 255];
}

function signedTile(values: number[], h: number, w: number): RgbaImage {
  let m = 0;
  for (const v of values) m = Math.max(m, Math.abs(v));
  const data = new Uint8ClampedArray(h * w * 4);
  values.forEach((v, i) => {
    const [r, g, b] = diverging(m > 0 ? v / m : 0);
    data.set([r, g, b, 255], i * 4);
  });
  // Cells beyond the values (a pointwise square with fewer inputs than cells) stay transparent.
  return { width: w, height: h, data };
}

/** Whether the node reads the model input directly (through padding or rescaling only). */
function readsInput(model: LoadedModel, nodeIndex: number): boolean {
  const net = model.network!;
  let ref = net.graph.nodes[nodeIndex].inputs[0];
  while (ref.producer >= 0) {
    const p = net.graph.nodes[ref.producer];
    if (!['ZeroPadding2D', 'Rescaling', 'InputLayer', 'Dropout', 'GaussianNoise'].includes(p.className)) return false;
    ref = p.inputs[0];
  }
  return true;
}

/** `preprocess` maps first-layer input channels back to RGB (caffe models read BGR); default the model's. */
export function filterWeights(model: LoadedModel, layer: string, preprocess?: PreprocessPreset): FilterWeights {
  const net = visNetwork(model, 'filters');
  const node = resolveNode(net, layer, 'filters');
  const l = node.layer as any;
  const cls = node.className;
  let kernelVar: any;
  if (cls === 'Conv2D') kernelVar = l.kernel;
  else if (cls === 'DepthwiseConv2D' || cls === 'SeparableConv2D') kernelVar = l.depthwiseKernel;
  if (!kernelVar) throw new LensError(`layer '${node.path}' is a ${cls}; filters needs a Conv2D, DepthwiseConv2D or SeparableConv2D layer`);
  const kt = kernelVar.read() as tf.Tensor;
  if (kt.rank !== 4) throw new LensError(`layer '${node.path}' has a ${kt.rank}-D kernel; expected 4-D`);
  const kernel = Float32Array.from(kt.dataSync() as Float32Array);
  const shape = kt.shape.slice();
  const [kh, kw, cin, cout] = shape;
  const at = (y: number, x: number, i: number, o: number) => kernel[((y * kw + x) * cin + i) * cout + o];
  const tiles: RgbaImage[] = [];
  let kind: FilterKind;
  let description: string;
  if (cls !== 'Conv2D') {
    kind = 'depthwise';
    description = `${cin * cout} depthwise ${kh}×${kw} kernels, one per input channel${cout > 1 ? ' and multiplier' : ''} (blue negative, red positive)`;
    for (let i = 0; i < cin; i++) {
      for (let o = 0; o < cout; o++) {
        const vals: number[] = [];
        for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) vals.push(at(y, x, i, o));
        tiles.push(signedTile(vals, kh, kw));
      }
    }
  } else if (readsInput(model, node.index) && (cin === 3 || cin === 4 || cin === 1)) {
    kind = 'rgb';
    description = `${cout} filters of ${kh}×${kw} on the input image, ${cin === 1 ? 'dark negative, light positive' : 'in colour'} (mid-gray = 0; each scaled to its largest weight)`;
    const space = inputSpace(preprocess ?? model.defaultPreprocess, cin);
    for (let o = 0; o < cout; o++) {
      let m = 0;
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) for (let i = 0; i < cin; i++) m = Math.max(m, Math.abs(at(y, x, i, o)));
      const data = new Uint8ClampedArray(kh * kw * 4);
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          const px = [0, 0, 0];
          for (let i = 0; i < Math.min(cin, 3); i++) px[space.source[i]] = at(y, x, i, o);
          if (cin === 1) px[1] = px[2] = px[0];
          const p = (y * kw + x) * 4;
          for (let c = 0; c < 3; c++) data[p + c] = Math.round(127.5 + (m > 0 ? (127.5 * px[c]) / m : 0));
          data[p + 3] = 255;
        }
      }
      tiles.push({ width: kw, height: kh, data });
    }
  } else if (kh * kw > 1) {
    kind = 'spatial';
    description = `${cout} filters of ${kh}×${kw}×${cin}, each shown as its mean over the ${cin} input channels (blue negative, red positive)`;
    for (let o = 0; o < cout; o++) {
      const vals: number[] = [];
      for (let y = 0; y < kh; y++) {
        for (let x = 0; x < kw; x++) {
          let s = 0;
          for (let i = 0; i < cin; i++) s += at(y, x, i, o);
          vals.push(s / cin);
        }
      }
      tiles.push(signedTile(vals, kh, kw));
    }
  } else {
    kind = 'pointwise';
    const side = Math.ceil(Math.sqrt(cin));
    const rows = Math.ceil(cin / side);
    description = `${cout} 1×1 filters, each a ${rows}×${side} square of its weights for the ${cin} input channels, row by row (blue negative, red positive)`;
    for (let o = 0; o < cout; o++) {
      const vals: number[] = [];
      for (let i = 0; i < cin; i++) vals.push(at(0, 0, i, o));
      tiles.push(signedTile(vals, rows, side));
    }
  }
  return { layer: node.path, className: cls, kind, kernel, shape, tiles, description };
}
