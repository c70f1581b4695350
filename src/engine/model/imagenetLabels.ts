// Class names for models that have exactly 1000 outputs and nothing that names them: the ImageNet-1k
// classes, in the order every ImageNet classifier uses. `info` and the panels say the names were assumed.
import { IMAGENET_CLASSES } from './imagenetClasses';

export const ASSUMED_IMAGENET_SOURCE = 'ImageNet-1k class names (assumed: the model has 1000 outputs and no labels)';

/** The assumed labels for a model with `numClasses` outputs and no labels, or null. */
export function assumedLabels(numClasses: number): { labels: string[]; source: string } | null {
  return numClasses === 1000 ? { labels: [...IMAGENET_CLASSES], source: ASSUMED_IMAGENET_SOURCE } : null;
}
