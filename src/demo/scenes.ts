// Procedural scenes for the demo model: coloured shapes on textured backgrounds, drawn with
// anti-aliased edges from signed distances. Pure TypeScript and fully determined by a seed, so the
// training script, the sample images and the tests all draw the same scenes from the same seeds.
//
// A scene is first described by a SceneSpec in normalized coordinates (0..1 across the image) and then
// rendered at any pixel size, so one spec can be drawn at the model's input size or larger for a sample.
import { makeRng } from '../engine/random';

export const SHAPE_CLASSES = ['circle', 'square', 'triangle', 'star', 'cross', 'ring', 'arrow', 'crescent'] as const;
export type ShapeClass = (typeof SHAPE_CLASSES)[number];

/** A source of uniform numbers in [0, 1). */
export type Rng = () => number;

/** mulberry32, the engine's seeded generator (the demo's scenes and samples depend on its exact sequence). */
export const mulberry32: (seed: number) => Rng = makeRng;

export type Rgb = [number, number, number];

export interface RgbaImage {
  width: number;
  height: number;
  /** RGBA, row-major, 4 bytes per pixel. */
  data: Uint8ClampedArray;
}

/** Axis-aligned box in pixels of the rendered image: columns x..x+width-1, rows y..y+height-1. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface ObjectSpec {
  shape: ShapeClass;
  /** Centre, normalized 0..1. */
  cx: number;
  cy: number;
  /** Radius of the shape's bounding circle as a fraction of the image side. */
  radius: number;
  /** Radians, clockwise on screen. */
  rotation: number;
  color: Rgb;
  /** Linear shading across the object: the colour changes by ±shade (0..255 units) along shadeAngle. */
  shade: number;
  shadeAngle: number;
}

export interface ClutterSpec {
  kind: 'line' | 'dot';
  /** Line: from (x0,y0) to (x1,y1); dot: centre (x0,y0). Normalized. */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** Line half-width or dot radius, normalized. */
  radius: number;
  color: Rgb;
}

export type BackgroundPattern = 'plain' | 'stripes' | 'checker' | 'noise';

export interface BackgroundSpec {
  /** Colours at the two ends of a linear gradient along gradientAngle. */
  color0: Rgb;
  color1: Rgb;
  gradientAngle: number;
  pattern: BackgroundPattern;
  /** Pattern strength in 0..255 units. */
  patternAmplitude: number;
  /** Pattern cells (or stripe periods) across the image. */
  patternFrequency: number;
  patternAngle: number;
  /** Per-pixel grain strength in 0..255 units. */
  grain: number;
}

export interface SceneSpec {
  background: BackgroundSpec;
  clutter: ClutterSpec[];
  objects: ObjectSpec[];
  /** Seed of the hashed noise fields (value noise, grain). */
  noiseSeed: number;
}

export interface SceneObject {
  label: ShapeClass;
  classIndex: number;
  /** Where the object's pixels are (coverage ≥ 0.5) in the rendered image. */
  box: Box;
}

export interface RenderedScene {
  image: RgbaImage;
  objects: SceneObject[];
}

export interface RandomSceneOptions {
  /** How many objects (of different classes). */
  objects: 1 | 2;
  /** Pixel size of the square image; default 64. */
  size?: number;
  /** Restrict the object classes, in order (the first object gets classes[0], ...). */
  classes?: ShapeClass[];
}

// ---------------------------------------------------------------------------------------------------
// Shape geometry. Every shape lives in a local frame where it fits the unit circle; sdf() returns a
// signed distance in local units (negative inside).

type Point = [number, number];

function regularPolygon(n: number, radius: number, phase: number): Point[] {
  const pts: Point[] = [];
  for (let i = 0; i < n; i++) {
    const a = phase + (2 * Math.PI * i) / n;
    pts.push([radius * Math.cos(a), radius * Math.sin(a)]);
  }
  return pts;
}

function starPolygon(points: number, outer: number, inner: number): Point[] {
  const pts: Point[] = [];
  for (let i = 0; i < 2 * points; i++) {
    const a = -Math.PI / 2 + (Math.PI * i) / points;
    const r = i % 2 === 0 ? outer : inner;
    pts.push([r * Math.cos(a), r * Math.sin(a)]);
  }
  return pts;
}

function crossPolygon(arm: number, half: number): Point[] {
  // A plus sign: arms of half-width `half` reaching `arm` from the centre.
  return [
    [-half, -arm], [half, -arm], [half, -half], [arm, -half], [arm, half], [half, half],
    [half, arm], [-half, arm], [-half, half], [-arm, half], [-arm, -half], [-half, -half],
  ];
}

function arrowPolygon(): Point[] {
  // Pointing along +x: a triangular head on a straight shaft, fitting the unit circle.
  return [[0.98, 0], [0.2, 0.6], [0.2, 0.22], [-0.95, 0.22], [-0.95, -0.22], [0.2, -0.22], [0.2, -0.6]];
}

function polygonSdf(pts: Point[], x: number, y: number): number {
  let d = Infinity;
  let inside = false;
  for (let i = 0, j = pts.length - 1; i < pts.length; j = i++) {
    const [xi, yi] = pts[i];
    const [xj, yj] = pts[j];
    const ex = xi - xj;
    const ey = yi - yj;
    const wx = x - xj;
    const wy = y - yj;
    const t = Math.max(0, Math.min(1, (wx * ex + wy * ey) / (ex * ex + ey * ey)));
    const dx = wx - ex * t;
    const dy = wy - ey * t;
    d = Math.min(d, dx * dx + dy * dy);
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside ? -Math.sqrt(d) : Math.sqrt(d);
}

const POLYGONS: Partial<Record<ShapeClass, Point[]>> = {
  square: regularPolygon(4, 1, Math.PI / 4),
  triangle: regularPolygon(3, 1, -Math.PI / 2),
  star: starPolygon(5, 1, 0.45),
  cross: crossPolygon(0.95, 0.32),
  arrow: arrowPolygon(),
};

/** Signed distance of local point (x, y) to the shape, in local units (the shape fits the unit circle). */
export function shapeSdf(shape: ShapeClass, x: number, y: number): number {
  switch (shape) {
    case 'circle':
      return Math.hypot(x, y) - 0.92;
    case 'ring':
      return Math.abs(Math.hypot(x, y) - 0.72) - 0.25;
    case 'crescent': {
      const outer = Math.hypot(x, y) - 0.95;
      const bite = Math.hypot(x - 0.5, y) - 0.78;
      return Math.max(outer, -bite);
    }
    case 'square':
    case 'triangle':
    case 'star':
    case 'cross':
    case 'arrow':
      return polygonSdf(POLYGONS[shape]!, x, y);
  }
}

// ---------------------------------------------------------------------------------------------------
// Hashed noise (deterministic, resolution independent for value noise).

function hash3(x: number, y: number, seed: number): number {
  let h = Math.imul(x | 0, 0x27d4eb2d) ^ Math.imul(y | 0, 0x165667b1) ^ Math.imul(seed | 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

function valueNoise(u: number, v: number, seed: number): number {
  const x0 = Math.floor(u);
  const y0 = Math.floor(v);
  const fx = u - x0;
  const fy = v - y0;
  const sx = fx * fx * (3 - 2 * fx);
  const sy = fy * fy * (3 - 2 * fy);
  const a = hash3(x0, y0, seed);
  const b = hash3(x0 + 1, y0, seed);
  const c = hash3(x0, y0 + 1, seed);
  const d = hash3(x0 + 1, y0 + 1, seed);
  return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
}

// ---------------------------------------------------------------------------------------------------
// Rendering.

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

function backgroundAt(bg: BackgroundSpec, seed: number, u: number, v: number, out: Float32Array): void {
  const g = clamp01((u - 0.5) * Math.cos(bg.gradientAngle) + (v - 0.5) * Math.sin(bg.gradientAngle) + 0.5);
  let p = 0;
  const f = bg.patternFrequency;
  const ca = Math.cos(bg.patternAngle);
  const sa = Math.sin(bg.patternAngle);
  const ru = u * ca + v * sa;
  const rv = -u * sa + v * ca;
  switch (bg.pattern) {
    case 'plain':
      break;
    case 'stripes':
      p = Math.sin(2 * Math.PI * f * ru);
      break;
    case 'checker':
      p = Math.sin(2 * Math.PI * f * ru) * Math.sin(2 * Math.PI * f * rv) > 0 ? 0.6 : -0.6;
      break;
    case 'noise':
      p = 2 * (0.65 * valueNoise(f * u, f * v, seed) + 0.35 * valueNoise(2.3 * f * u, 2.3 * f * v, seed + 7)) - 1;
      break;
  }
  for (let c = 0; c < 3; c++) out[c] = bg.color0[c] + (bg.color1[c] - bg.color0[c]) * g + bg.patternAmplitude * p;
}

/** Renders a scene at size×size pixels; also returns where each object landed. */
export function renderSceneWithBoxes(spec: SceneSpec, size = 64): RenderedScene {
  if (!Number.isInteger(size) || size < 8 || size > 4096) throw new Error(`renderScene: size must be an integer in 8..4096, got ${size}`);
  const n = size * size;
  const rgb = new Float32Array(n * 3);
  const px = new Float32Array(3);
  const seed = spec.noiseSeed;
  const bg = spec.background;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      backgroundAt(bg, seed, (x + 0.5) / size, (y + 0.5) / size, px);
      const grain = bg.grain * (2 * hash3(x, y, seed + 101) - 1);
      const i = (y * size + x) * 3;
      rgb[i] = px[0] + grain;
      rgb[i + 1] = px[1] + grain;
      rgb[i + 2] = px[2] + grain;
    }
  }

  for (const c of spec.clutter) {
    const r = c.radius * size;
    const ax = c.x0 * size;
    const ay = c.y0 * size;
    const bx = (c.kind === 'line' ? c.x1 : c.x0) * size;
    const by = (c.kind === 'line' ? c.y1 : c.y0) * size;
    const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - r - 1));
    const x1 = Math.min(size - 1, Math.ceil(Math.max(ax, bx) + r + 1));
    const y0 = Math.max(0, Math.floor(Math.min(ay, by) - r - 1));
    const y1 = Math.min(size - 1, Math.ceil(Math.max(ay, by) + r + 1));
    const ex = bx - ax;
    const ey = by - ay;
    const len2 = ex * ex + ey * ey;
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const wx = x + 0.5 - ax;
        const wy = y + 0.5 - ay;
        const t = len2 > 0 ? clamp01((wx * ex + wy * ey) / len2) : 0;
        const d = Math.hypot(wx - ex * t, wy - ey * t) - r;
        const cov = clamp01(0.5 - d);
        if (cov <= 0) continue;
        const i = (y * size + x) * 3;
        for (let k = 0; k < 3; k++) rgb[i + k] += (c.color[k] - rgb[i + k]) * cov;
      }
    }
  }

  const objects: SceneObject[] = [];
  for (const o of spec.objects) {
    const scale = o.radius * size; // pixels per local unit
    const cx = o.cx * size;
    const cy = o.cy * size;
    const cos = Math.cos(o.rotation);
    const sin = Math.sin(o.rotation);
    const sc = Math.cos(o.shadeAngle);
    const ss = Math.sin(o.shadeAngle);
    const reach = scale * 1.05 + 2;
    const x0 = Math.max(0, Math.floor(cx - reach));
    const x1 = Math.min(size - 1, Math.ceil(cx + reach));
    const y0 = Math.max(0, Math.floor(cy - reach));
    const y1 = Math.min(size - 1, Math.ceil(cy + reach));
    let bx0 = Infinity;
    let by0 = Infinity;
    let bx1 = -Infinity;
    let by1 = -Infinity;
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const dx = (x + 0.5 - cx) / scale;
        const dy = (y + 0.5 - cy) / scale;
        // Rotate the pixel into the shape's frame (inverse rotation).
        const lx = cos * dx + sin * dy;
        const ly = -sin * dx + cos * dy;
        const d = shapeSdf(o.shape, lx, ly) * scale;
        const cov = clamp01(0.5 - d);
        if (cov <= 0) continue;
        if (cov >= 0.5) {
          if (x < bx0) bx0 = x;
          if (x > bx1) bx1 = x;
          if (y < by0) by0 = y;
          if (y > by1) by1 = y;
        }
        const shade = o.shade * (dx * sc + dy * ss);
        const i = (y * size + x) * 3;
        for (let k = 0; k < 3; k++) rgb[i + k] += (o.color[k] + shade - rgb[i + k]) * cov;
      }
    }
    const classIndex = SHAPE_CLASSES.indexOf(o.shape);
    const box: Box = bx1 >= bx0 ? { x: bx0, y: by0, width: bx1 - bx0 + 1, height: by1 - by0 + 1 } : { x: Math.round(cx), y: Math.round(cy), width: 0, height: 0 };
    objects.push({ label: o.shape, classIndex, box });
  }

  const data = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    data[i * 4] = rgb[i * 3];
    data[i * 4 + 1] = rgb[i * 3 + 1];
    data[i * 4 + 2] = rgb[i * 3 + 2];
    data[i * 4 + 3] = 255;
  }
  return { image: { width: size, height: size, data }, objects };
}

/** Renders a scene at size×size pixels. */
export function renderScene(spec: SceneSpec, size = 64): RgbaImage {
  return renderSceneWithBoxes(spec, size).image;
}

// ---------------------------------------------------------------------------------------------------
// Random scenes.

function uniform(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[Math.floor(rng() * items.length) % items.length];
}

function hsv(h: number, s: number, v: number): Rgb {
  const f = (n: number) => {
    const k = (n + h * 6) % 6;
    return 255 * (v - v * s * Math.max(0, Math.min(k, 4 - k, 1)));
  };
  return [f(5), f(3), f(1)];
}

function luma(c: Rgb): number {
  return 0.299 * c[0] + 0.587 * c[1] + 0.114 * c[2];
}

function colorDistance(a: Rgb, b: Rgb): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** An object colour that stands out from every one of the given background colours. */
function contrastingColor(rng: Rng, against: Rgb[]): Rgb {
  let best: Rgb = [0, 0, 0];
  let bestScore = -Infinity;
  for (let attempt = 0; attempt < 40; attempt++) {
    const c = hsv(rng(), uniform(rng, 0.3, 1), uniform(rng, 0.3, 1));
    const score = Math.min(...against.map((b) => Math.min(colorDistance(c, b) / 130, Math.abs(luma(c) - luma(b)) / 45)));
    if (score >= 1) return c;
    if (score > bestScore) {
      bestScore = score;
      best = c;
    }
  }
  // Fall back to black or white, whichever is further from the background.
  const meanLuma = against.reduce((s, b) => s + luma(b), 0) / against.length;
  return bestScore >= 0.8 ? best : meanLuma > 128 ? [15, 15, 15] : [240, 240, 240];
}

function randomBackground(rng: Rng): BackgroundSpec {
  const base = hsv(rng(), uniform(rng, 0, 0.7), uniform(rng, 0.1, 0.95));
  const shift = uniform(rng, -50, 50);
  const color1: Rgb = [base[0] + shift + uniform(rng, -25, 25), base[1] + shift + uniform(rng, -25, 25), base[2] + shift + uniform(rng, -25, 25)];
  const pattern = pick<BackgroundPattern>(rng, ['plain', 'stripes', 'checker', 'noise', 'noise']);
  return {
    color0: base,
    color1,
    gradientAngle: uniform(rng, 0, 2 * Math.PI),
    pattern,
    patternAmplitude: pattern === 'plain' ? 0 : uniform(rng, 6, 28),
    patternFrequency: pattern === 'noise' ? uniform(rng, 3, 10) : uniform(rng, 2, 7),
    patternAngle: uniform(rng, 0, Math.PI),
    grain: uniform(rng, 0, 14),
  };
}

function randomClutter(rng: Rng): ClutterSpec[] {
  const count = Math.floor(uniform(rng, 0, 5));
  const out: ClutterSpec[] = [];
  for (let i = 0; i < count; i++) {
    const color = hsv(rng(), uniform(rng, 0, 1), uniform(rng, 0.2, 1));
    const x0 = rng();
    const y0 = rng();
    if (rng() < 0.6) {
      const len = uniform(rng, 0.08, 0.3);
      const a = uniform(rng, 0, 2 * Math.PI);
      out.push({ kind: 'line', x0, y0, x1: x0 + len * Math.cos(a), y1: y0 + len * Math.sin(a), radius: uniform(rng, 0.006, 0.014), color });
    } else {
      out.push({ kind: 'dot', x0, y0, x1: x0, y1: y0, radius: uniform(rng, 0.008, 0.022), color });
    }
  }
  return out;
}

/** Centres and radii for n objects that do not overlap, each fully inside the image. */
function placeObjects(rng: Rng, n: number): { cx: number; cy: number; radius: number }[] {
  for (let attempt = 0; ; attempt++) {
    const placed: { cx: number; cy: number; radius: number }[] = [];
    for (let k = 0; k < n; k++) {
      const radius = n === 1 ? uniform(rng, 0.15, 0.32) : uniform(rng, 0.14, 0.22);
      const m = radius + 0.02;
      placed.push({ cx: uniform(rng, m, 1 - m), cy: uniform(rng, m, 1 - m), radius });
    }
    let ok = true;
    for (let i = 0; i < n && ok; i++) {
      for (let j = i + 1; j < n && ok; j++) {
        const gap = Math.hypot(placed[i].cx - placed[j].cx, placed[i].cy - placed[j].cy) - placed[i].radius - placed[j].radius;
        if (gap < 0.08) ok = false;
      }
    }
    if (ok || attempt > 200) return placed;
  }
}

/** A random scene description with `objects` objects of different classes. */
export function randomSceneSpec(rng: Rng, options: RandomSceneOptions): SceneSpec {
  const n = options.objects;
  if (n !== 1 && n !== 2) throw new Error(`randomScene: objects must be 1 or 2, got ${n}`);
  if (options.classes && options.classes.length !== n) throw new Error(`randomScene: ${n} object(s) but ${options.classes.length} classes given`);
  const background = randomBackground(rng);
  const clutter = randomClutter(rng);
  const classes: ShapeClass[] = [];
  for (let k = 0; k < n; k++) {
    if (options.classes) {
      classes.push(options.classes[k]);
    } else {
      let c: ShapeClass;
      do c = pick(rng, SHAPE_CLASSES);
      while (classes.includes(c));
      classes.push(c);
    }
  }
  const places = placeObjects(rng, n);
  const objects: ObjectSpec[] = classes.map((shape, k) => ({
    shape,
    ...places[k],
    rotation: uniform(rng, 0, 2 * Math.PI),
    color: contrastingColor(rng, [background.color0, background.color1]),
    shade: rng() < 0.5 ? 0 : uniform(rng, 10, 40),
    shadeAngle: uniform(rng, 0, 2 * Math.PI),
  }));
  return { background, clutter, objects, noiseSeed: Math.floor(rng() * 2 ** 31) };
}

/** A random scene rendered at options.size (default 64) with its objects' classes and boxes. */
export function randomScene(rng: Rng, options: RandomSceneOptions): RenderedScene & { spec: SceneSpec } {
  const spec = randomSceneSpec(rng, options);
  return { spec, ...renderSceneWithBoxes(spec, options.size ?? 64) };
}

// ---------------------------------------------------------------------------------------------------
// Helpers for feeding images to a model.

/** RGB values scaled to 0..1 ("unit" preprocessing), HWC order, appended to `out` at `offset`. */
export function toUnitRgb(image: RgbaImage, out = new Float32Array(image.width * image.height * 3), offset = 0): Float32Array {
  const n = image.width * image.height;
  for (let i = 0; i < n; i++) {
    out[offset + i * 3] = image.data[i * 4] / 255;
    out[offset + i * 3 + 1] = image.data[i * 4 + 1] / 255;
    out[offset + i * 3 + 2] = image.data[i * 4 + 2] / 255;
  }
  return out;
}

/**
 * Bilinear resize as TensorFlow does it by default (no corner alignment, no half-pixel centres), or
 * with `box` an area average: used to train the model on scenes drawn at other sizes and scaled.
 */
export function resizeImage(image: RgbaImage, width: number, height: number, mode: 'bilinear' | 'box' = 'bilinear'): RgbaImage {
  const { width: w0, height: h0, data: src } = image;
  const out = new Uint8ClampedArray(width * height * 4);
  const sx = w0 / width;
  const sy = h0 / height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      if (mode === 'box') {
        const xa = x * sx;
        const xb = (x + 1) * sx;
        const ya = y * sy;
        const yb = (y + 1) * sy;
        const acc = [0, 0, 0, 0];
        let wsum = 0;
        for (let yy = Math.floor(ya); yy < Math.ceil(yb) && yy < h0; yy++) {
          const wy = Math.min(yb, yy + 1) - Math.max(ya, yy);
          for (let xx = Math.floor(xa); xx < Math.ceil(xb) && xx < w0; xx++) {
            const wgt = wy * (Math.min(xb, xx + 1) - Math.max(xa, xx));
            const i = (yy * w0 + xx) * 4;
            for (let k = 0; k < 4; k++) acc[k] += src[i + k] * wgt;
            wsum += wgt;
          }
        }
        for (let k = 0; k < 4; k++) out[o + k] = acc[k] / wsum;
      } else {
        const fx = x * sx;
        const fy = y * sy;
        const x0 = Math.min(w0 - 1, Math.floor(fx));
        const y0 = Math.min(h0 - 1, Math.floor(fy));
        const x1 = Math.min(w0 - 1, x0 + 1);
        const y1 = Math.min(h0 - 1, y0 + 1);
        const ax = fx - x0;
        const ay = fy - y0;
        for (let k = 0; k < 4; k++) {
          const top = src[(y0 * w0 + x0) * 4 + k] * (1 - ax) + src[(y0 * w0 + x1) * 4 + k] * ax;
          const bot = src[(y1 * w0 + x0) * 4 + k] * (1 - ax) + src[(y1 * w0 + x1) * 4 + k] * ax;
          out[o + k] = top * (1 - ay) + bot * ay;
        }
      }
    }
  }
  return { width, height, data: out };
}
