// The audit's running count: one ImageRecord per classified image goes in, the report's numbers come out.
// What it keeps grows with the classes and the mistakes, not with the images: counts, one small record
// per mistake, and bounded lists of the images the gallery shows.
import type { AuditReport, ClassStats, GalleryItem } from '../../shared/auditRecords';

/** What classifying one image gives (also what a --jobs worker prints, one JSON line each). */
export interface ImageRecord {
  /** Position in the audit's entry list. */
  i: number;
  image: string;
  truth: number;
  /** The best classes, best first (at least 3 and at least k where the model has them), with their probabilities. */
  top: number[];
  probs: number[];
  truthProbability: number;
  /** 0-based rank of the true class among all classes. */
  truthRank: number;
}

export interface TallyLimits {
  /** Mistakes shown with heatmaps (the most confident ones). */
  gallery: number;
  /** Least-confident correct images shown. */
  leastConfident: number;
}

export const DEFAULT_LIMITS: TallyLimits = { gallery: 48, leastConfident: 12 };

/** Inserts into a list kept sorted by `better` first and at most `limit` long. */
function keepBest<T>(list: T[], item: T, limit: number, better: (a: T, b: T) => boolean): void {
  if (limit <= 0) return;
  if (list.length >= limit && !better(item, list[list.length - 1])) return;
  let i = list.length;
  while (i > 0 && better(item, list[i - 1])) i--;
  list.splice(i, 0, item);
  if (list.length > limit) list.pop();
}

export class AuditTally {
  private readonly counts = new Map<number, number>();
  private readonly truthSeen = new Set<number>();
  private readonly predSeen = new Set<number>();
  private classified = 0;
  private correct = 0;
  private inTopK = 0;
  private readonly mistakes: { i: number; image: string; truth: number; predicted: number; probability: number }[] = [];
  private readonly failures: { i: number; image: string; error: string }[] = [];
  private readonly shownMistakes: GalleryItem[] = [];
  private readonly shownCorrect: GalleryItem[] = [];
  /** Entry position of each shown item (for ties). */
  private readonly order = new WeakMap<GalleryItem, number>();

  constructor(
    private readonly labels: string[],
    readonly k: number,
    private readonly limits: TallyLimits = DEFAULT_LIMITS,
    classesPresent: number[] = [],
  ) {
    for (const c of classesPresent) this.truthSeen.add(c);
  }

  get done(): number {
    return this.classified + this.failures.length;
  }

  add(r: ImageRecord): void {
    const n = this.labels.length;
    const predicted = r.top[0];
    this.counts.set(r.truth * n + predicted, (this.counts.get(r.truth * n + predicted) ?? 0) + 1);
    this.truthSeen.add(r.truth);
    this.predSeen.add(predicted);
    this.classified++;
    if (r.truthRank < this.k) this.inTopK++;
    const item = (): GalleryItem => {
      const it: GalleryItem = {
      image: r.image,
      truth: r.truth,
      label: this.labels[r.truth],
      predictedIndex: predicted,
      predicted: this.labels[predicted],
      probability: r.probs[0],
      truthProbability: r.truthProbability,
      top: r.top.slice(0, 3).map((c, j) => ({ label: this.labels[c], probability: r.probs[j] })),
      files: {},
      };
      this.order.set(it, r.i);
      return it;
    };
    // Ties go to the earlier image, so the lists do not depend on the order records arrive in.
    const byIndex = (a: GalleryItem, b: GalleryItem) => (this.order.get(a) ?? 0) < (this.order.get(b) ?? 0);
    if (predicted === r.truth) {
      this.correct++;
      keepBest(this.shownCorrect, item(), this.limits.leastConfident, (a, b) => a.probability < b.probability || (a.probability === b.probability && byIndex(a, b)));
    } else {
      this.mistakes.push({ i: r.i, image: r.image, truth: r.truth, predicted, probability: r.probs[0] });
      keepBest(this.shownMistakes, item(), this.limits.gallery, (a, b) => a.probability > b.probability || (a.probability === b.probability && byIndex(a, b)));
    }
  }

  fail(i: number, image: string, error: string): void {
    this.failures.push({ i, image, error });
  }

  /** The gallery lists (their `files` are filled in by whoever makes the heatmaps). */
  get gallery(): GalleryItem[] {
    return this.shownMistakes;
  }

  get leastConfident(): GalleryItem[] {
    return this.shownCorrect;
  }

  /** The report's numbers for what was added so far. */
  numbers(): Pick<AuditReport, 'images' | 'accuracy' | 'topK' | 'k' | 'classes' | 'confusion' | 'perClass' | 'misclassified' | 'failed' | 'gallery' | 'leastConfident'> {
    const n = this.labels.length;
    const idx = [...new Set([...this.truthSeen, ...this.predSeen])].sort((a, b) => a - b);
    const confusion = idx.map((t) => idx.map((p) => this.counts.get(t * n + p) ?? 0));
    const perClass: ClassStats[] = idx.map((c, j) => {
      const tp = confusion[j][j];
      const support = confusion[j].reduce((s, v) => s + v, 0);
      const predicted = confusion.reduce((s, row) => s + row[j], 0);
      return { label: this.labels[c], precision: predicted ? tp / predicted : null, recall: support ? tp / support : null, support };
    });
    const misclassified = [...this.mistakes]
      .sort((a, b) => b.probability - a.probability || a.i - b.i)
      .map((m) => ({ image: m.image, label: this.labels[m.truth], predicted: this.labels[m.predicted], probability: m.probability }));
    return {
      images: this.classified,
      accuracy: this.classified ? this.correct / this.classified : null,
      topK: this.classified ? this.inTopK / this.classified : null,
      k: this.k,
      classes: idx.map((c) => this.labels[c]),
      confusion,
      perClass,
      misclassified,
      failed: [...this.failures].sort((a, b) => a.i - b.i).map((f) => ({ image: f.image, error: f.error })),
      gallery: this.shownMistakes,
      leastConfident: this.shownCorrect,
    };
  }
}
