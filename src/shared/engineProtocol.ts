// host ↔ engine: the messages between the extension host and the engine child process (Node IPC,
// structured clone). Plain data only: no vscode, DOM or tfjs imports. Every union is keyed by `type`.
import type { AuditReport } from './auditRecords';
import type { AuditParams } from './auditProtocol';
import type { MethodGroup } from './methods';
import { isObject } from './guards';
import type { FaithfulnessRecord, SanityRecord, SanityStage } from './trustRecords';
import type { RunEstimate } from './runEstimate';

export type BackendPreference = 'auto' | 'native' | 'wasm' | 'cpu';
export const BACKEND_PREFERENCES: readonly BackendPreference[] = ['auto', 'native', 'wasm', 'cpu'];

export interface EngineInfo {
  pid: number;
  node: string;
  /** The backend that runs, after `auto` was resolved. */
  backend: 'native' | 'wasm' | 'cpu';
  versions: Record<string, string>;
  uptimeMs: number;
  memoryMB: number;
}

export type MapKind = 'layer-map' | 'input-map' | 'input-channels';

export interface MethodBrief {
  name: string;
  title: string;
  paper: string;
  usesLayer: boolean;
  output: MapKind;
  /** From src/shared/methods.ts. */
  group: MethodGroup;
  description: string;
  classIndependent: boolean;
  /** Why the method cannot run on this model (the panel disables it with this as its tooltip); null when it can. */
  unavailable: string | null;
}

export interface LayerBrief {
  /** Qualified path (nested models joined by '/'), as the engine's `layer` option takes it. */
  path: string;
  className: string;
  /** Output shape without the batch dimension. */
  shape: (number | null)[];
}

/** What a panel needs to know about a loaded model. */
export interface ModelBrief {
  file: string;
  format: string;
  kind: 'layers' | 'graph';
  inputSize: { height: number; width: number; channels: number };
  numClasses: number;
  /** One per class (the index as text where the model has no labels). */
  labels: string[];
  labelsSource: string | null;
  defaultPreprocess: string;
  preprocessReason: string;
  preprocessPresets: { name: string; description: string }[];
  /** Layers with a spatial 4-D output: the targets of the layer methods. */
  spatialLayers: LayerBrief[];
  /** The other layers (pooled, flattened, dense): no spatial grid, so not a target; the picker lists them disabled. */
  otherLayers: LayerBrief[];
  defaultLayer: string | null;
  /** Why the default layer is the default (one sentence). */
  defaultLayerReason: string | null;
  /** Gradients need a layers model; a graph model only predicts. */
  canExplain: boolean;
  methods: MethodBrief[];
  colormaps: string[];
  defaultColormap: string;
  weightBytes: number;
}

export interface Prediction {
  index: number;
  label: string;
  probability: number;
  logit: number;
}

export interface ExplainParams {
  model: string;
  image: string;
  method: string;
  classIndex: number;
  /** Target layer for the layer methods; default the model's default layer. */
  layer?: string;
  /** Preprocessing preset; default the model's. */
  preprocess?: string;
  colormap: string;
  /** Longest side of the rendered heatmap (the image's aspect ratio is kept). */
  maxSize?: number;
}

export interface ExplainOutput {
  method: string;
  classIndex: number;
  label: string;
  probability: number;
  layer: string | null;
  layerIsDefault: boolean;
  kind: MapKind;
  /** The raw map, unnormalized and not resized, with its shape. */
  map: Float32Array;
  shape: number[];
  min: number;
  max: number;
  ms: number;
  /** Zero everywhere; `advice` says what shows more (src/shared/methods.ts emptyMapAdvice). */
  empty?: { advice: string };
  /** The map rendered alone (colormap, or signed RGB for input-channels maps). */
  heatmap: PngImage;
}

/** One tile of a layer picture (a filter's weights, a channel's feature map) with the values it shows. */
export interface LayerTile extends PngImage {
  /** "#12": the filter or channel. */
  label: string;
  min: number;
  max: number;
}

export interface PngImage {
  png: Uint8Array;
  width: number;
  height: number;
}

export interface RenderParams {
  image: string;
  map: Float32Array;
  shape: number[];
  kind: MapKind;
  colormap: string;
  /** 'overlay': blended over the image at `alpha`; 'heatmap': the map alone. */
  style: 'overlay' | 'heatmap';
  alpha: number;
  /** Longest side of the output; default the image's own size (capped at 4096). */
  maxSize?: number;
}

export type LayerKind = 'input' | 'conv' | 'dense' | 'pool' | 'norm' | 'activation' | 'merge' | 'reshape' | 'container' | 'other';

/** One layer of a model's summary: `cnn-lens info` and the model browser's tree (nested models have children). */
export interface LayerNode {
  /** Qualified path, the name `--layer` accepts. */
  path: string;
  name: string;
  className: string;
  kind: LayerKind;
  /** Output shape with null batch; null when the layer has several differently shaped outputs. */
  outputShape: (number | null)[] | null;
  params: number;
  activation: string | null;
  /** Index in the flat graph (-1 for containers and input layers). */
  node: number;
  /** Whether the layer methods can target it (4-D spatial output). */
  spatial: boolean;
  /** Kernel shape for conv layers ([kh, kw, in, out] or depthwise [kh, kw, in, mult]). */
  kernelShape?: number[];
  children?: LayerNode[];
}

export interface ModelSummaryView {
  file: string;
  format: string;
  kind: 'layers' | 'graph';
  input: { height: number; width: number; channels: number };
  /** How the model's input holds the image, in words ("channels first (NCHW)"). */
  inputLayout: string;
  numClasses: number;
  labels: string[] | null;
  labelsSource: string | null;
  outputActivation: string;
  defaultPreprocess: string;
  preprocessReason: string;
  defaultLayer: string | null;
  /** Why the default layer is the default (one sentence). */
  defaultLayerReason: string | null;
  params: { total: number; trainable: number };
  weightBytes: number;
  layerCount: number;
  layers: LayerNode[];
}

/** Each request kind: its parameters and its result. */
export interface EngineCalls {
  ping: { params: Record<never, never>; result: { pid: number; uptimeMs: number } };
  info: { params: Record<never, never>; result: EngineInfo };
  /** Loads (and caches) a model file. */
  loadModel: { params: { model: string }; result: ModelBrief };
  /** All classes, best first. */
  /** `input`: the image as decoded (channels 1 when every pixel is gray), to say how it was changed for the model. */
  predict: { params: { model: string; image: string; preprocess?: string }; result: { predictions: Prediction[]; ms: number; input?: { width: number; height: number; channels: number } } };
  explain: { params: ExplainParams; result: ExplainOutput };
  /** Renders a map (from `explain`) as PNG: over the image, or alone. */
  render: { params: RenderParams; result: PngImage };
  /** A conv layer's kernels, one tile per filter, as a labelled grid. */
  filterWeights: { params: { model: string; layer: string }; result: { image: PngImage; description: string; count: number; tiles?: LayerTile[] } };
  /** A layer's feature maps for an image, as a labelled grid. */
  activations: { params: { model: string; layer: string; image: string; preprocess?: string; maxChannels?: number }; result: { image: PngImage; shape: number[]; layer: string; tiles?: LayerTile[] } };
  /** How long maximizeFilters with these parameters will take: a few of its steps timed (cached per model). */
  estimateFilters: { params: { model: string; layer: string; first: number; last: number }; result: RunEstimate };
  /** Activation maximization of channels first..last of a layer; tiles stream as each finishes. */
  maximizeFilters: { params: { model: string; layer: string; first: number; last: number; steps?: number; size?: number; seed?: number }; result: { tiles: TileResult[]; ms: number } };
  /** An image that maximizes a class logit; frames stream. */
  maximizeClass: { params: { model: string; classIndex: number; steps?: number; size?: number; seed?: number }; result: VisResult };
  /** DeepDream on an image; frames stream. */
  dream: { params: { model: string; image: string; layers?: string[]; octaves?: number; steps?: number; seed?: number }; result: VisResult };
  /** Feature inversion: an image whose activations at `layer` match the image's; frames stream. */
  invert: { params: { model: string; image: string; layer: string; steps?: number; seed?: number }; result: VisResult & { original: PngImage } };
  /** PNG tiles (e.g. streamed filter visualizations) composed into one labelled grid. */
  tileGrid: { params: { tiles: Uint8Array[]; labels: string[] }; result: PngImage };
  /** The model's summary and layer tree (the model browser). */
  summary: { params: { model: string }; result: ModelSummaryView };
  /** Audits a labelled folder; the report so far streams as `audit` events (the last one also when cancelled). */
  audit: { params: AuditParams; result: AuditReport };
  /** A map as float32 .npy bytes. */
  encodeNpy: { params: { map: Float32Array; shape: number[] }; result: { npy: Uint8Array } };
  /**
   * Sleeps `steps` times `ms` ms, checking for cancel between steps (or never, with `ignoreCancel`):
   * exercises queueing, progress, cancel, time limits and restarts without a model.
   */
  debugSleep: { params: { ms: number; steps: number; ignoreCancel?: boolean }; result: { steps: number } };
  // ── trust: src/engine/trust/ through src/engine/trustService.ts ──
  /** Deletion/insertion curves of a map (from `explain`), or of the seeded random map when no map is given. */
  faithfulness: { params: FaithfulnessParams; result: FaithfulnessRecord & { ms: number } };
  /** The cascading randomization test; the original map and each stage stream as `sanityStage` events. */
  sanity: { params: SanityParams; result: SanityRecord };
  /** The Compare view's grid as one PNG: rows of classes, columns of methods, captions, the best cell per row framed. */
  compareGrid: { params: CompareGridParams; result: PngImage };
}

export interface FaithfulnessParams {
  model: string;
  image: string;
  preprocess?: string;
  classIndex: number;
  /** The raw map with its shape and kind; absent: the random map of `seed`. */
  map?: { map: Float32Array; shape: number[]; kind: MapKind };
  seed?: number;
  steps?: number;
  baseline?: 'black' | 'blur' | 'mean';
}

export interface SanityParams {
  model: string;
  image: string;
  preprocess?: string;
  method: string;
  classIndex: number;
  layer?: string;
  seed?: number;
  colormap?: string;
  /** Longest side of the streamed stage images (default 128). */
  tileSize?: number;
}

export interface CompareGridParams {
  title: string;
  rowLabels: string[];
  colLabels: string[];
  /** Row-major, rows × cols; null where a cell was not computed. */
  cells: ({ png: Uint8Array; caption: string; best: boolean } | null)[];
}

export type EngineRequestType = keyof EngineCalls;
export type EngineRequest = { [K in EngineRequestType]: { type: K } & EngineCalls[K]['params'] }[EngineRequestType];
export type EngineRequestOf<K extends EngineRequestType> = Extract<EngineRequest, { type: K }>;
export type EngineResult<K extends EngineRequestType> = EngineCalls[K]['result'];

/** Streamed while a request runs: optimization frames (Deep Dream, class, inversion) and filter tiles. */
export type EngineEvent =
  | { type: 'note'; message: string }
  | { type: 'frame'; image: PngImage; step: number; total: number }
  /**
   * Deep Dream's run as the engine does it, before the first step: steps per octave as run (CNN_LENS_MAX_STEPS
   * caps them) and as asked, and the layers (the default ones resolved).
   */
  | { type: 'dreamPlan'; octaves: number; steps: number; stepsAsked: number; layers: string[]; layersAreDefault: boolean }
  | { type: 'tile'; index: number; channel: number; image: PngImage; objective: number; note?: string | null }
  /** A sanity check's map: index −1 is the original (stage null), then the stages in the order randomized. */
  | { type: 'sanityStage'; index: number; total: number; stage: SanityStage | null; layer: string | null; image: PngImage }
  | { type: 'audit'; report: AuditReport };

export interface TileResult {
  channel: number;
  image: PngImage;
  objective: number;
  /** A dead or input-independent channel, in one sentence (its image shows nothing). */
  note?: string | null;
}

export interface VisResult {
  image: PngImage;
  /** One line on what was made (target, layers, objective). */
  description: string;
  steps: number;
  ms: number;
}

export type HostToEngine =
  | { type: 'request'; id: number; request: EngineRequest }
  | { type: 'cancel'; id: number };

export type EngineToHost =
  /** Sent once when the message loop listens. */
  | { type: 'ready'; pid: number }
  | { type: 'result'; id: number; result: unknown }
  /** `user`: a problem with the user's input (one line, no stack); otherwise an internal fault. */
  | { type: 'error'; id: number; message: string; user: boolean; stack?: string }
  | { type: 'cancelled'; id: number }
  | { type: 'progress'; id: number; done: number; total: number; message?: string }
  | { type: 'event'; id: number; event: EngineEvent }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

/** What the status bar shows. */
export type EngineState =
  | { type: 'stopped' }
  | { type: 'starting' }
  | { type: 'idle'; backend: string; pid: number }
  | { type: 'busy'; backend: string; pid: number; pending: number }
  | { type: 'crashed'; reason: string };


/** Validates a message from the engine before use (it crosses a process boundary). */
export function parseEngineMessage(m: unknown): EngineToHost | null {
  if (!isObject(m) || typeof m.type !== 'string') return null;
  const id = m.id;
  switch (m.type) {
    case 'ready':
      return typeof m.pid === 'number' ? (m as EngineToHost) : null;
    case 'result':
      return typeof id === 'number' ? (m as EngineToHost) : null;
    case 'error':
      return typeof id === 'number' && typeof m.message === 'string' ? { type: 'error', id, message: m.message, user: m.user === true, stack: typeof m.stack === 'string' ? m.stack : undefined } : null;
    case 'cancelled':
      return typeof id === 'number' ? { type: 'cancelled', id } : null;
    case 'progress':
      return typeof id === 'number' && typeof m.done === 'number' && typeof m.total === 'number' ? (m as EngineToHost) : null;
    case 'event':
      return typeof id === 'number' && isObject(m.event) ? (m as EngineToHost) : null;
    case 'log':
      return typeof m.message === 'string' && (m.level === 'info' || m.level === 'warn' || m.level === 'error') ? (m as EngineToHost) : null;
    default:
      return null;
  }
}

