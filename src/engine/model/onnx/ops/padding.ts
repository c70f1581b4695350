// Spatial padding of ONNX Conv and pooling nodes (pads, auto_pad, ceil_mode), and when it is the
// padding tfjs calls 'same' or 'valid'.
import type { NodeCtx } from '../context';

export interface Padding {
  /** [top, left, bottom, right]. */
  pads: [number, number, number, number];
  out: [number, number];
  /** 'valid' when pads are 0, 'same' when they equal tfjs's 'same'; null otherwise (pad explicitly). */
  mode: 'valid' | 'same' | null;
}

/** Padding of a window op with kernel `k`, strides `s`, dilations `d` on an input of `inHW`. */
export function windowPadding(ctx: NodeCtx, inHW: [number, number], k: [number, number], s: [number, number], d: [number, number], ceilMode = false): Padding {
  const auto = ctx.attrs.s('auto_pad', 'NOTSET');
  const pads: [number, number, number, number] = [0, 0, 0, 0];
  const same: [number, number, number, number] = [0, 0, 0, 0];
  for (let a = 0; a < 2; a++) {
    const eff = (k[a] - 1) * d[a] + 1;
    const out = Math.ceil(inHW[a] / s[a]);
    const total = Math.max(0, (out - 1) * s[a] + eff - inHW[a]);
    same[a] = Math.floor(total / 2);
    same[a + 2] = total - same[a];
    if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
      pads[a] = auto === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      pads[a + 2] = total - pads[a];
    }
  }
  if (auto === 'NOTSET') {
    const p = ctx.attrs.ints('pads') ?? [0, 0, 0, 0];
    if (p.length !== 4 || p.some((v) => !Number.isSafeInteger(v) || v < 0)) ctx.fail(`pads ${JSON.stringify(p)} are not 4 whole numbers ≥ 0`);
    pads.splice(0, 4, p[0], p[1], p[2], p[3]);
  } else if (auto !== 'VALID' && auto !== 'SAME_UPPER' && auto !== 'SAME_LOWER') ctx.fail(`auto_pad '${auto}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER`);
  const out: [number, number] = [0, 0];
  for (let a = 0; a < 2; a++) {
    const eff = (k[a] - 1) * d[a] + 1;
    const span = inHW[a] + pads[a] + pads[a + 2] - eff;
    if (span < 0) ctx.fail(`its ${k[0]}×${k[1]} window is larger than the padded ${inHW[0]}×${inHW[1]} input`);
    let o = Math.floor(span / s[a]) + 1;
    if (ceilMode) {
      o = Math.ceil(span / s[a]) + 1;
      // PyTorch's rule: the last window must start inside the input or its leading padding.
      if ((o - 1) * s[a] >= inHW[a] + pads[a]) o--;
      const extra = (o - 1) * s[a] + eff - (inHW[a] + pads[a] + pads[a + 2]);
      if (extra > 0) pads[a + 2] += extra;
    }
    out[a] = o;
  }
  const zero = pads.every((p) => p === 0);
  const isSame = pads.every((p, i) => p === same[i]) && out[0] === Math.ceil(inHW[0] / s[0]) && out[1] === Math.ceil(inHW[1] / s[1]);
  return { pads, out, mode: zero ? 'valid' : isSame ? 'same' : null };
}

export function pair(ctx: NodeCtx, name: string, d: number): [number, number] {
  const v = ctx.attrs.ints(name);
  if (!v) return [d, d];
  if (v.length !== 2 || v.some((x) => !Number.isSafeInteger(x) || x < 1)) ctx.fail(`${name} ${JSON.stringify(v)} is not 2 whole numbers ≥ 1 (only 2-D windows are supported)`);
  return [v[0], v[1]];
}
