// The engine's answers to the extension's requests (src/shared/protocol.ts EngineCalls), run in the
// engine's compute thread by src/engine/main.ts. Loaded models and decoded images are cached by path and
// modification time, so a panel's follow-up requests (another class, another method) skip the loading.
import * as fs from 'node:fs';
import type {
  EngineCalls,
  EngineEvent,
  EngineRequest,
  EngineRequestType,
  ExplainOutput,
  LayerBrief,
  MethodBrief,
  MapKind,
  ModelBrief,
  PngImage,
  RenderParams,
} from '../shared/protocol';
import { BACKEND_PREFERENCES, type BackendPreference } from '../shared/protocol';
import { auditForPanel } from './audit/serve';
import { backendVersions, initBackend } from './backend';
import { LensError } from './errors';
import { explain, imageToInput, labelOf, predict } from './explain';
import { COLORMAPS, DEFAULT_COLORMAP, isColormapName, type ColormapName } from './image/colormap';
import { decodeImage, readImageFile, type RgbaImage } from './image/decode';
import { encodeNpy } from './image/npy';
import { encodePng } from './image/png';
import { isPreprocessPreset, PRESET_DESCRIPTIONS, PREPROCESS_PRESETS, type PreprocessPreset } from './image/preprocess';
import { absPercentile, featureMapTiles, heatmapImage, heatmapOverlay, renderSignedOrRgb } from './image/render';
import { resizeRgba, upscaleNearest } from './image/resize';
import { isMethodName, METHOD_NAMES, METHODS } from './methods';
import { methodApplicability } from './methods/applicability';
import { emptyMapAdvice, methodInfo } from '../shared/methods';
import { loadAnyModel, type LoadedModel } from './model/loadModel';
import { summarizeModel } from './model/summary';
import { trustHandlers } from './trustService';
import { dream, type DreamPlan, estimateMaximize, filterWeights, invert, layerActivations, maximize, maximizeRange, type VisHooks } from './vis';
import { featureMapGrid, tileGrid } from './image/render';

/** What a handler gets besides its parameters. */
export interface RequestContext {
  id: number;
  /** Reports progress (throttled) and throws CancelledError when the request was cancelled. */
  step(done: number, total: number, message?: string): void;
  readonly cancelled: boolean;
  emit(event: EngineEvent): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

type Handler<K extends EngineRequestType> = (params: Extract<EngineRequest, { type: K }>, ctx: RequestContext) => Promise<EngineCalls[K]['result']>;
export type Handlers = { [K in EngineRequestType]: Handler<K> };

const startedAt = Date.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function backendPreference(): BackendPreference {
  const v = process.env.CNN_LENS_BACKEND ?? 'auto';
  return (BACKEND_PREFERENCES as readonly string[]).includes(v) ? (v as BackendPreference) : 'auto';
}

// ─────────────────────────── caches ───────────────────────────

function fileKey(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${file}\0${st.mtimeMs}\0${st.size}`;
  } catch {
    return file;
  }
}

const MODEL_CACHE_SIZE = 2;
const models = new Map<string, Promise<LoadedModel>>();

async function getModel(file: string, ctx: RequestContext): Promise<LoadedModel> {
  await initBackend(backendPreference());
  const key = fileKey(file);
  let p = models.get(key);
  if (p) {
    models.delete(key);
    models.set(key, p); // most recently used last
    return p;
  }
  ctx.log('info', `loading model ${file}`);
  p = loadAnyModel(file);
  models.set(key, p);
  p.catch(() => models.delete(key));
  while (models.size > MODEL_CACHE_SIZE) {
    const [oldKey, old] = models.entries().next().value as [string, Promise<LoadedModel>];
    models.delete(oldKey);
    old.then((m) => m.dispose(), () => undefined);
  }
  return p;
}

const IMAGE_CACHE_SIZE = 4;
const images = new Map<string, RgbaImage>();

async function getImage(file: string): Promise<RgbaImage> {
  const key = fileKey(file);
  const hit = images.get(key);
  if (hit) return hit;
  const img = await readImageFile(file);
  images.set(key, img);
  while (images.size > IMAGE_CACHE_SIZE) images.delete(images.keys().next().value as string);
  return img;
}

// ─────────────────────────── helpers ───────────────────────────

function preprocessOf(model: LoadedModel, p: string | undefined): PreprocessPreset {
  if (!p || p === 'auto') return model.defaultPreprocess;
  if (!isPreprocessPreset(p)) throw new LensError(`unknown preprocessing '${p}' (expected auto or one of ${PREPROCESS_PRESETS.join(', ')})`);
  return p;
}

function colormapOf(c: string | undefined): ColormapName {
  if (!c) return DEFAULT_COLORMAP;
  if (!isColormapName(c)) throw new LensError(`unknown colormap '${c}' (expected one of ${COLORMAPS.join(', ')})`);
  return c;
}

function png(img: RgbaImage): PngImage {
  const buf = encodePng(img);
  return { png: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), width: img.width, height: img.height };
}

/** Output size with the image's aspect ratio and the longest side at most `maxSize`. */
function fitSize(w: number, h: number, maxSize: number): { width: number; height: number } {
  const s = Math.min(1, maxSize / Math.max(w, h));
  return { width: Math.max(1, Math.round(w * s)), height: Math.max(1, Math.round(h * s)) };
}

/** The map alone, as the panel shows it: colormapped (one channel) or signed RGB (input channels). */
function renderMapAlone(map: Float32Array, shape: number[], kind: MapKind, colormap: ColormapName, out: { width: number; height: number }): RgbaImage {
  if (kind === 'input-channels') {
    const img = renderSignedOrRgb(map, shape[0], shape[1], shape[2] ?? 1);
    return img.width === out.width && img.height === out.height ? img : resizeRgba(img, out.width, out.height);
  }
  return heatmapImage(map, shape[0], shape[1], { colormap, range: mapRange(map, kind), outW: out.width, outH: out.height });
}

/**
 * The value range the colormap spans. Input-resolution maps are clipped at their 99.5th percentile, as
 * the CLI draws them (src/engine/renderExplanation.ts): a few extreme pixels would hide the rest.
 */
function mapRange(map: Float32Array, kind: MapKind): [number, number] | undefined {
  if (kind !== 'input-map') return undefined;
  let lo = Infinity;
  for (const v of map) if (v < lo) lo = v;
  const hi = absPercentile(map, 99.5);
  return hi > lo ? [lo, hi] : undefined;
}

function render(p: RenderParams, base: RgbaImage): RgbaImage {
  const colormap = colormapOf(p.colormap);
  const size = fitSize(base.width, base.height, Math.min(p.maxSize ?? 4096, 4096));
  const img = size.width === base.width && size.height === base.height ? base : resizeRgba(base, size.width, size.height);
  if (p.style === 'heatmap') return renderMapAlone(p.map, p.shape, p.kind, colormap, size);
  if (p.kind === 'input-channels') {
    // A signed RGB map has no colormap to blend; blend its picture instead.
    const alone = renderMapAlone(p.map, p.shape, p.kind, colormap, size);
    const out = new Uint8ClampedArray(alone.data.length);
    const a = Math.max(0, Math.min(1, p.alpha));
    for (let i = 0; i < out.length; i += 4) {
      const t = img.data[i + 3] / 255;
      for (let k = 0; k < 3; k++) out[i + k] = (1 - a) * (img.data[i + k] * t + 255 * (1 - t)) + a * alone.data[i + k];
      out[i + 3] = 255;
    }
    return { width: size.width, height: size.height, data: out };
  }
  return heatmapOverlay(p.map, p.shape[0], p.shape[1], img, { colormap, range: mapRange(p.map, p.kind), alpha: Math.max(0, Math.min(1, p.alpha)) });
}

function methodBriefs(m: LoadedModel): MethodBrief[] {
  const unavailable = methodApplicability(m);
  return METHOD_NAMES.map((name) => {
    const d = METHODS[name];
    const info = methodInfo(name);
    return { name, title: d.title, paper: d.paper, usesLayer: d.usesLayer, output: d.output, group: info.group, description: info.description, classIndependent: info.classIndependent === true, unavailable: unavailable[name] };
  });
}

/**
 * The weight range of each filter tile: per output filter over [kh, kw, in], or per (input, multiplier)
 * for depthwise kernels (tiles in the order filterWeights draws them).
 */
function filterRanges(kernel: Float32Array, shape: number[], depthwise: boolean): [number, number][] {
  const [kh, kw, cin, cout] = shape;
  const n = depthwise ? cin * cout : cout;
  const out: [number, number][] = Array.from({ length: n }, () => [Infinity, -Infinity]);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < cin; i++) {
        for (let o = 0; o < cout; o++) {
          const v = kernel[((y * kw + x) * cin + i) * cout + o];
          const r = out[depthwise ? i * cout + o : o];
          if (v < r[0]) r[0] = v;
          if (v > r[1]) r[1] = v;
        }
      }
    }
  }
  return out;
}

/** Whether every pixel has R = G = B (a grayscale file, whatever its encoding). */
function isGray(img: RgbaImage): boolean {
  const d = img.data;
  for (let i = 0; i < d.length; i += 4) if (d[i] !== d[i + 1] || d[i] !== d[i + 2]) return false;
  return true;
}

/** The layers with a spatial 4-D output (the layer methods' targets) and the others (pooled, flat, dense), in graph order. */
function layersBySpace(model: LoadedModel): { spatial: LayerBrief[]; other: LayerBrief[] } {
  const spatial: LayerBrief[] = [];
  const other: LayerBrief[] = [];
  for (const n of model.network?.graph.nodes ?? []) {
    const s = n.outputs[0]?.shape;
    if (!s) continue;
    const brief = { path: n.path, className: n.className, shape: s.slice(1) };
    if (s.length === 4 && (s[1] ?? 2) * (s[2] ?? 2) > 1) spatial.push(brief);
    else other.push(brief);
  }
  return { spatial, other };
}

/** Optimization callbacks: progress per step, a frame every few steps (streamed), cancel between steps. */
function visHooks(ctx: RequestContext, frames: boolean): VisHooks {
  let steps = 0;
  return {
    onStep: (step, total) => {
      steps = total;
      ctx.step(step, total);
    },
    onFrame: frames ? (frame, step) => ctx.emit({ type: 'frame', image: png(frame), step, total: steps }) : undefined,
    frameEvery: 5,
    isCancelled: () => ctx.cancelled,
  };
}

// ─────────────────────────── the handlers ───────────────────────────

export const handlers: Handlers = {
  async ping() {
    return { pid: process.pid, uptimeMs: Date.now() - startedAt };
  },

  async info() {
    const name = await initBackend(backendPreference());
    return {
      pid: process.pid,
      node: process.version,
      backend: name,
      versions: backendVersions(),
      uptimeMs: Date.now() - startedAt,
      memoryMB: Math.round(process.memoryUsage().rss / 2 ** 20),
    };
  },

  async debugSleep(p, ctx) {
    const steps = Math.max(0, Math.min(10_000, Math.floor(p.steps)));
    const ms = Math.max(0, Math.min(60_000, p.ms));
    for (let i = 0; i < steps; i++) {
      if (p.ignoreCancel) {
        // Stuck like a long kernel that never reaches a step boundary.
        const until = Date.now() + ms;
        while (Date.now() < until) {
          /* busy */
        }
      } else {
        await sleep(ms);
        ctx.step(i + 1, steps);
      }
    }
    return { steps };
  },

  async loadModel(p, ctx): Promise<ModelBrief> {
    const m = await getModel(p.model, ctx);
    const labels = Array.from({ length: m.numClasses }, (_, i) => labelOf(m, i));
    return {
      file: m.file,
      format: m.format,
      kind: m.kind,
      inputSize: m.inputSize,
      numClasses: m.numClasses,
      labels,
      labelsSource: m.labelsSource,
      defaultPreprocess: m.defaultPreprocess,
      preprocessReason: m.preprocessReason,
      preprocessPresets: PREPROCESS_PRESETS.map((name) => ({ name, description: PRESET_DESCRIPTIONS[name] })),
      spatialLayers: layersBySpace(m).spatial,
      otherLayers: layersBySpace(m).other,
      defaultLayer: m.network?.defaultLayer()?.path ?? null,
      defaultLayerReason: m.network?.defaultTarget()?.reason ?? null,
      canExplain: m.network !== null,
      methods: methodBriefs(m),
      colormaps: [...COLORMAPS],
      defaultColormap: DEFAULT_COLORMAP,
      weightBytes: m.weightBytes,
    };
  },

  async predict(p, ctx) {
    const m = await getModel(p.model, ctx);
    ctx.step(0, 2, `Decoding ${p.image.split(/[\\/]/).pop()}…`);
    const img = await getImage(p.image);
    ctx.step(1, 2, 'Predicting the classes…');
    const t0 = performance.now();
    const x = imageToInput(m, img, preprocessOf(m, p.preprocess));
    try {
      const input = { width: img.width, height: img.height, channels: isGray(img) ? 1 : 3 };
      return { predictions: predict(m, x).map((q) => ({ index: q.index, label: q.label, probability: q.probability, logit: q.logit })), ms: performance.now() - t0, input };
    } finally {
      x.dispose();
    }
  },

  async explain(p, ctx): Promise<ExplainOutput> {
    if (!isMethodName(p.method)) throw new LensError(`unknown method '${p.method}' (expected one of ${METHOD_NAMES.join(', ')})`);
    const m = await getModel(p.model, ctx);
    const img = await getImage(p.image);
    const preset = preprocessOf(m, p.preprocess);
    const colormap = colormapOf(p.colormap);
    const x = imageToInput(m, img, preset);
    let r;
    try {
      r = explain(m, x, { method: p.method, classes: [p.classIndex], layer: p.layer || undefined, preprocess: preset }, {
        onProgress: (q) => ctx.step(q.done, q.total, q.stage),
        isCancelled: () => ctx.cancelled,
      });
    } finally {
      x.dispose();
    }
    const e = r.explanations[0];
    const kind = METHODS[p.method].output;
    const size = fitSize(img.width, img.height, p.maxSize ?? 512);
    return {
      method: r.method,
      classIndex: e.class.index,
      label: e.class.label,
      probability: e.class.probability,
      layer: r.layer,
      layerIsDefault: r.layerIsDefault,
      kind,
      map: e.map,
      shape: e.shape,
      min: e.min,
      max: e.max,
      ms: e.ms,
      ...(e.empty ? { empty: { advice: emptyMapAdvice(p.method, { layer: r.layer, label: e.class.label, cli: false }) } } : {}),
      heatmap: png(renderMapAlone(e.map, e.shape, kind, colormap, size)),
    };
  },

  async render(p) {
    if (!(p.map instanceof Float32Array)) throw new LensError('render: the map must be a Float32Array');
    return png(render(p, await getImage(p.image)));
  },

  async filterWeights(p, ctx) {
    const m = await getModel(p.model, ctx);
    const f = filterWeights(m, p.layer);
    const shown = f.tiles.slice(0, 256);
    const scale = Math.max(1, Math.floor(32 / Math.max(shown[0]?.width ?? 1, shown[0]?.height ?? 1)));
    const grid = tileGrid(shown.map((t) => upscaleNearest(t, scale)), { labels: shown.map((_, i) => `#${i}`) });
    const ranges = filterRanges(f.kernel, f.shape, f.kind === 'depthwise');
    const tiles = shown.map((t, i) => ({ ...png(upscaleNearest(t, scale)), label: `#${i}`, min: ranges[i][0], max: ranges[i][1] }));
    return { image: png(grid), description: f.description + (f.tiles.length > shown.length ? ` (first ${shown.length} of ${f.tiles.length})` : ''), count: f.tiles.length, tiles };
  },

  async activations(p, ctx) {
    const m = await getModel(p.model, ctx);
    const img = await getImage(p.image);
    const x = imageToInput(m, img, preprocessOf(m, p.preprocess));
    try {
      const a = layerActivations(m, x, p.layer);
      const [h, w, c] = a.shape;
      const maxChannels = p.maxChannels ?? 64;
      const tiles = featureMapTiles(a.data, h, w, c, { maxChannels }).map((t, k) => {
        let lo = Infinity;
        let hi = -Infinity;
        for (let i = k; i < a.data.length; i += c) {
          if (a.data[i] < lo) lo = a.data[i];
          if (a.data[i] > hi) hi = a.data[i];
        }
        return { ...png(t), label: `#${k}`, min: lo, max: hi };
      });
      return { image: png(featureMapGrid(a.data, h, w, c, { maxChannels })), shape: a.shape, layer: a.layer, tiles };
    } finally {
      x.dispose();
    }
  },

  async estimateFilters(p, ctx) {
    const m = await getModel(p.model, ctx);
    return estimateMaximize(m, { layer: p.layer, first: p.first, last: p.last }, undefined, () => ctx.cancelled);
  },

  async maximizeFilters(p, ctx) {
    const m = await getModel(p.model, ctx);
    const t0 = performance.now();
    const tiles: { channel: number; image: PngImage; objective: number }[] = [];
    maximizeRange(m, { layer: p.layer, first: p.first, last: p.last, steps: p.steps, size: p.size, seed: p.seed }, visHooks(ctx, false), (index, r) => {
      const tile = { channel: p.first + index, image: png(r.rgba), objective: r.objective, note: r.note ?? null };
      tiles.push(tile);
      ctx.emit({ type: 'tile', index, ...tile });
    });
    return { tiles, ms: performance.now() - t0 };
  },

  async maximizeClass(p, ctx) {
    const m = await getModel(p.model, ctx);
    const r = maximize(m, { classIndex: p.classIndex, steps: p.steps, size: p.size, seed: p.seed }, visHooks(ctx, true));
    return { image: png(r.rgba), description: `${r.target}: logit ${r.objective.toFixed(3)} after ${r.steps} steps`, steps: r.steps, ms: r.ms };
  },

  async dream(p, ctx) {
    const m = await getModel(p.model, ctx);
    const img = await getImage(p.image);
    const hooks = { ...visHooks(ctx, true), onPlan: (plan: DreamPlan) => ctx.emit({ type: 'dreamPlan', ...plan }) };
    const r = dream(m, img, { layers: p.layers, octaves: p.octaves, steps: p.steps, seed: p.seed }, hooks);
    const layers = `${r.layers.join(', ')}${r.layersAreDefault ? ' (default)' : ''}`;
    return { image: png(r.rgba), description: `DeepDream on ${layers}: activation norm ×${r.normGain.toFixed(2)} over ${r.octaveSizes.length} octaves`, steps: r.steps, ms: r.ms };
  },

  async invert(p, ctx) {
    const m = await getModel(p.model, ctx);
    const img = await getImage(p.image);
    const r = invert(m, img, { layer: p.layer, steps: p.steps, seed: p.seed }, visHooks(ctx, true));
    return {
      image: png(r.rgba),
      original: png(r.original),
      description: `inversion of ${r.layer}: relative distance ${r.relativeDistance.toFixed(3)} after ${r.steps} steps`,
      steps: r.steps,
      ms: r.ms,
    };
  },

  async tileGrid(p) {
    if (!Array.isArray(p.tiles) || p.tiles.length === 0) throw new LensError('tileGrid: no tiles');
    const tiles = p.tiles.map((b, i) => decodeImage(b, `tile ${i}`));
    return png(tileGrid(tiles, { labels: p.labels }));
  },

  async summary(p, ctx) {
    return summarizeModel(await getModel(p.model, ctx));
  },

  async audit(p, ctx) {
    const m = await getModel(p.model, ctx);
    return auditForPanel(m, p, preprocessOf(m, p.preprocess), {
      cancelled: () => ctx.cancelled,
      report: (report) => ctx.emit({ type: 'audit', report }),
      progress: (done, total, message) => {
        if (!ctx.cancelled) ctx.step(done, total, message);
      },
    });
  },
  // faithfulness, sanity, compareGrid: the explain panel's Compare view and Sanity check.
  ...trustHandlers({ getModel, getImage, preprocessOf, colormapOf, png }),

  async encodeNpy(p) {
    const buf = encodeNpy(p.map, p.shape);
    return { npy: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) };
  },
};
