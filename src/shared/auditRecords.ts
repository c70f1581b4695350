// The records of a folder audit (`cnn-lens audit`, the Audit panel): what summary.json holds. The HTML
// report, the panel and the CLI's --json are views of one AuditReport. Plain data only: no vscode, DOM or
// tfjs imports.

/** One image of the gallery (a mistake, or one of the least-confident correct images). */
export interface GalleryItem {
  /** Path relative to the audited folder, '/'-separated. */
  image: string;
  /** The true class and the predicted one (label order indices and labels). */
  truth: number;
  label: string;
  predictedIndex: number;
  predicted: string;
  /** The model's probability for the predicted class, and for the true class. */
  probability: number;
  truthProbability: number;
  /** The best classes (up to 3) with their probabilities. */
  top: { label: string; probability: number }[];
  /** Files beside the report (relative to it): a thumbnail, the heatmaps for the predicted and the true class. Absent until made. */
  files: { thumb?: string; predicted?: string; truth?: string };
}

export interface ClassStats {
  label: string;
  /** null when the model never predicted the class (precision) or no image has it (recall). */
  precision: number | null;
  recall: number | null;
  /** Images whose true class this is. */
  support: number;
}

export type AuditStage = 'classifying' | 'explaining' | 'done';

export interface AuditReport {
  model: string;
  /** The audited folder (absolute). */
  folder: string;
  /** Images classified (failed ones not counted). */
  images: number;
  /** Images found to classify (images + failed + not yet done when partial). */
  found: number;
  /** Fraction of images whose top-1 class is the true one; null with no image. */
  accuracy: number | null;
  /** Fraction of images whose true class is among the `k` best. */
  topK: number | null;
  k: number;
  /** The classes of the matrix (that occur as a true or a predicted class, or have a subfolder), in label order. */
  classes: string[];
  /** Rows: true class, columns: predicted class, both in `classes` order. */
  confusion: number[][];
  perClass: ClassStats[];
  /** Every mistake, most confident first. */
  misclassified: { image: string; label: string; predicted: string; probability: number }[];
  failed: { image: string; error: string }[];
  /** Subfolders and files that were not audited, with the reason (no matching label, not in a class folder, …). */
  skipped: { path: string; reason: string }[];
  /** The report's folder; null while it is only in memory. */
  out: string | null;
  /** The mistakes shown with heatmaps (the most confident ones), and the least-confident correct images. */
  gallery: GalleryItem[];
  leastConfident: GalleryItem[];
  method: string;
  layer: string | null;
  preprocess: string;
  stage: AuditStage;
  /** Stopped before the end (Ctrl-C, Cancel): the numbers cover the images done. */
  partial: boolean;
  elapsedMs: number;
  /** A note on heatmaps that could not be made (graph models, …). */
  heatmapNote: string | null;
}

/** The object `cnn-lens audit --json` prints: the fields, exactly. */
export function auditJson(r: AuditReport) {
  return {
    model: r.model,
    folder: r.folder,
    images: r.images,
    accuracy: r.accuracy,
    topK: r.topK,
    classes: r.classes,
    confusion: r.confusion,
    perClass: r.perClass,
    misclassified: r.misclassified,
    failed: r.failed,
    out: r.out,
  };
}
