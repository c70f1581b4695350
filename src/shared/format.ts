// How the panels and the command line write numbers, shapes, layer names and input notes: one notation
// everywhere (plain functions; no vscode, DOM or tfjs imports, so the webviews, the host and the CLI share them).

/** A probability as a percentage: "93.4%", and "<0.1%" below a thousandth (never "1.3e-2%"). */
export function percent(p: number): string {
  if (!Number.isFinite(p)) return '—';
  if (p > 0 && p < 0.001) return '<0.1%';
  return `${(p * 100).toFixed(1)}%`;
}

/** A tensor shape without the batch dimension: "7×7×1280" (unknown sizes as "?"). */
export function shapeText(shape: readonly (number | null)[] | null | undefined): string {
  if (!shape || shape.length === 0) return '—';
  return shape.map((d) => (d === null || d === undefined ? '?' : String(d))).join('×');
}

/** The longest leading run of whole path segments ("sequential_9/model3/") that every path shares. */
export function commonPathPrefix(paths: readonly string[]): string {
  if (paths.length < 2) return '';
  const split = paths.map((p) => p.split('/'));
  const shortest = Math.min(...split.map((s) => s.length));
  let n = 0;
  // A layer's own name (the last segment) is never part of the prefix.
  while (n < shortest - 1 && split.every((s) => s[n] === split[0][n])) n++;
  return n === 0 ? '' : split[0].slice(0, n).join('/') + '/';
}

export interface LayerForChoice {
  path: string;
  className: string;
  shape: readonly (number | null)[];
  /** A target of the layer methods (spatial 4-D output). */
  explainable: boolean;
}

export interface LayerChoice {
  /** The engine's layer path ('' = the model's default layer). */
  value: string;
  /** The path without the prefix every layer shares. */
  name: string;
  detail: string;
  explainable: boolean;
  isDefault: boolean;
}

/**
 * The layer picker's rows: the default first, then the explainable layers deepest first (the usual
 * targets), then the others (not choosable); names without the prefix all layers share.
 */
export function layerChoices(layers: readonly LayerForChoice[], defaultLayer: string | null): { prefix: string; choices: LayerChoice[] } {
  // The prefix the targets share (a classifier head nested elsewhere keeps its full path).
  const targets = layers.filter((l) => l.explainable);
  const prefix = commonPathPrefix((targets.length ? targets : layers).map((l) => l.path));
  const row = (l: LayerForChoice): LayerChoice => ({
    value: l.path,
    name: l.path.startsWith(prefix) ? l.path.slice(prefix.length) : l.path,
    detail: `${l.className} · ${shapeText(l.shape)}`,
    explainable: l.explainable,
    isDefault: l.path === defaultLayer,
  });
  const def = layers.find((l) => l.path === defaultLayer);
  const rest = layers.filter((l) => l.path !== defaultLayer);
  const explainable = rest.filter((l) => l.explainable).reverse();
  const others = rest.filter((l) => !l.explainable).reverse();
  return { prefix, choices: [...(def ? [row(def)] : []), ...explainable.map(row), ...others.map(row)] };
}

export interface InputFacts {
  /** The image as decoded. */
  width: number;
  height: number;
  /** 1 for a grayscale file, 3 for colour (alpha is not counted). */
  channels: number;
}

/**
 * What happened to an image on its way into the model, in words ("8×8 upscaled to 224×224",
 * "converted to grayscale, aspect changed 9:16 → 1:1"), or null when it went in without a notable change.
 */
export function inputNote(image: InputFacts, model: { width: number; height: number; channels: number }): string | null {
  const parts: string[] = [];
  const scale = Math.min(model.width / image.width, model.height / image.height);
  if (scale >= 4) parts.push(`${image.width}×${image.height} upscaled to ${model.width}×${model.height}`);
  if (model.channels === 1 && image.channels >= 3) parts.push('converted to grayscale');
  else if (model.channels >= 3 && image.channels === 1) parts.push('grayscale copied into 3 channels');
  const a = image.width / image.height;
  const b = model.width / model.height;
  if (Math.abs(Math.log(a / b)) > Math.log(1.15)) parts.push(`aspect changed ${ratio(image.width, image.height)} → ${ratio(model.width, model.height)}`);
  return parts.length ? parts.join(', ') : null;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** "9:16" for 1152×2048; a rounded ratio when the sizes share no small divisor. */
function ratio(w: number, h: number): string {
  const g = gcd(w, h);
  if (w / g <= 32 && h / g <= 32) return `${w / g}:${h / g}`;
  return w >= h ? `${(w / h).toFixed(2)}:1` : `1:${(h / w).toFixed(2)}`;
}
