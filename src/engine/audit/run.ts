// One audit: every image classified (one forward pass each), counted, then heatmaps for the images the
// report shows only (the most confident mistakes, for the predicted and for the true class, and the
// least-confident correct images). Stops between images when cancelled and returns what it has, marked
// partial. Used by `cnn-lens audit` and by the engine process behind the Audit panel.
import type { AuditReport, AuditStage, GalleryItem } from '../../shared/auditRecords';
import { errorMessage, LensError } from '../errors';
import { explain, imageToInput, predict } from '../explain';
import type { ColormapName } from '../image/colormap';
import { readImageFile, type RgbaImage } from '../image/decode';
import { encodePng } from '../image/png';
import type { PreprocessPreset } from '../image/preprocess';
import { resizeRgba } from '../image/resize';
import type { MethodName } from '../methods';
import type { LoadedModel } from '../model/loadModel';
import { renderExplanation } from '../renderExplanation';
import type { AuditEntry, AuditPlan } from './scan';
import { AuditTally, DEFAULT_LIMITS, type ImageRecord, type TallyLimits } from './tally';

export interface AuditOptions {
  method: MethodName;
  layer?: string;
  preprocess: PreprocessPreset;
  /** Top-K accuracy's K. */
  k: number;
  colormap?: ColormapName;
  limits?: TallyLimits;
  /** Longest side of the thumbnails and heatmaps in the report. */
  thumbSize?: number;
  /** Audit only the first N images. */
  limit?: number;
}

/** Where the report's pictures go: returns the path the report links (relative to the report). */
export type ImageSink = (name: string, png: Uint8Array) => string;

export interface AuditHooks {
  isCancelled?: () => boolean;
  /** After each image (classification and heatmaps): the count, and a way to get the report so far. */
  onProgress?: (p: { stage: AuditStage; done: number; total: number; report: () => AuditReport }) => void;
}

/**
 * Classifies entries, calling `onRecord`/`onFail` per image (in any order); stops early when cancelled.
 * The default runs in this process; `cnn-lens audit --jobs N` passes one that uses worker processes.
 */
export type Classifier = (entries: AuditEntry[], sink: { onRecord(r: ImageRecord): void; onFail(i: number, image: string, error: string): void }, isCancelled: () => boolean) => Promise<void>;

/** One image's forward pass → its record. */
export async function classifyEntry(model: LoadedModel, entry: AuditEntry, i: number, preset: PreprocessPreset, k: number): Promise<ImageRecord> {
  const img = await readImageFile(entry.file);
  const x = imageToInput(model, img, preset);
  let preds;
  try {
    preds = predict(model, x);
  } finally {
    x.dispose();
  }
  const keep = Math.min(preds.length, Math.max(3, k));
  const truthRank = preds.findIndex((p) => p.index === entry.truth);
  return {
    i,
    image: entry.image,
    truth: entry.truth,
    top: preds.slice(0, keep).map((p) => p.index),
    probs: preds.slice(0, keep).map((p) => p.probability),
    truthProbability: truthRank >= 0 ? preds[truthRank].probability : 0,
    truthRank: truthRank >= 0 ? truthRank : preds.length,
  };
}

export function inProcessClassifier(model: LoadedModel, preset: PreprocessPreset, k: number): Classifier {
  return async (entries, sink, isCancelled) => {
    for (let i = 0; i < entries.length; i++) {
      if (isCancelled()) return;
      try {
        sink.onRecord(await classifyEntry(model, entries[i], i, preset, k));
      } catch (e) {
        sink.onFail(i, entries[i].image, errorMessage(e));
      }
    }
  };
}

function fit(img: RgbaImage, size: number): RgbaImage {
  const s = Math.min(1, size / Math.max(img.width, img.height));
  if (s === 1) return img;
  return resizeRgba(img, Math.max(1, Math.round(img.width * s)), Math.max(1, Math.round(img.height * s)));
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '').slice(0, 40) || 'x';

export async function runAudit(
  model: LoadedModel,
  folder: string,
  plan: AuditPlan,
  opts: AuditOptions,
  sink: ImageSink,
  hooks: AuditHooks = {},
  classifier?: Classifier,
): Promise<AuditReport> {
  const t0 = performance.now();
  const labels = Array.from({ length: model.numClasses }, (_, i) => model.labels?.[i] ?? String(i));
  const entries = opts.limit !== undefined ? plan.entries.slice(0, opts.limit) : plan.entries;
  const k = Math.min(opts.k, model.numClasses);
  const tally = new AuditTally(labels, k, opts.limits ?? DEFAULT_LIMITS, plan.classesPresent);
  const isCancelled = hooks.isCancelled ?? (() => false);
  let stage: AuditStage = 'classifying';
  let layer: string | null = null;
  let heatmapNote: string | null = null;
  let partial = false;
  const report = (): AuditReport => ({
    model: model.file,
    folder,
    found: entries.length,
    ...tally.numbers(),
    skipped: plan.skipped,
    out: null,
    method: opts.method,
    layer,
    preprocess: opts.preprocess,
    stage,
    partial,
    elapsedMs: Math.round(performance.now() - t0),
    heatmapNote,
  });
  const progress = (done: number, total: number) => hooks.onProgress?.({ stage, done, total, report });

  const classify = classifier ?? inProcessClassifier(model, opts.preprocess, k);
  progress(0, entries.length);
  await classify(
    entries,
    {
      onRecord: (r) => {
        tally.add(r);
        progress(tally.done, entries.length);
      },
      onFail: (i, image, error) => {
        tally.fail(i, image, error);
        progress(tally.done, entries.length);
      },
    },
    isCancelled,
  );
  if (tally.done < entries.length) partial = true;

  // Heatmaps for the shown images only.
  stage = 'explaining';
  const shown: GalleryItem[] = [...tally.gallery, ...tally.leastConfident];
  const byImage = new Map(entries.map((e) => [e.image, e.file]));
  const size = opts.thumbSize ?? 224;
  const canExplain = !!model.network;
  if (!canExplain) heatmapNote = 'no heatmaps: the model is a TensorFlow.js graph model (prediction only); export a layers model to see them';
  for (let n = 0; n < shown.length; n++) {
    if (isCancelled()) {
      partial = true;
      break;
    }
    progress(n, shown.length);
    const item = shown[n];
    const file = byImage.get(item.image)!;
    const base = `${String(n + 1).padStart(3, '0')}-${slug(item.image.replace(/\.[^.]*$/, ''))}`;
    try {
      const original = await readImageFile(file);
      const small = fit(original, size);
      item.files.thumb = sink(`${base}.png`, encodePng(small));
      if (!canExplain || heatmapNote) continue;
      const classes = item.predictedIndex === item.truth ? [item.truth] : [item.predictedIndex, item.truth];
      const x = imageToInput(model, original, opts.preprocess);
      try {
        const r = explain(model, x, { method: opts.method, classes, layer: opts.layer, preprocess: opts.preprocess }, { isCancelled });
        layer = r.layer;
        const draw = (j: number) => encodePng(renderExplanation(opts.method, r.explanations[j].map, r.explanations[j].shape, small, { colormap: opts.colormap ?? 'viridis', alpha: 0.5 }));
        item.files.predicted = sink(`${base}.${slug(item.predicted)}.png`, draw(0));
        if (classes.length > 1) item.files.truth = sink(`${base}.${slug(item.label)}.png`, draw(1));
      } finally {
        x.dispose();
      }
    } catch (e) {
      if (isCancelled()) {
        partial = true;
        break;
      }
      // A method that cannot apply to this model (no spatial layer, …) would fail the same way for every image.
      if (e instanceof LensError) heatmapNote = `no heatmaps: ${errorMessage(e)}`;
      else throw e;
    }
  }
  stage = 'done';
  progress(shown.length, shown.length);
  return report();
}
