// Which map to trust: faithfulness curves (evaluate) and the randomization sanity check, with their PNGs.
export { evaluateFaithfulness, faithfulnessOf, randomOrder, type EvaluateRequest, type EvaluateResult, type FaithfulnessOptions, type KindedMap } from './faithfulness';
export { cascadingRandomization, weightedLayers, type SanityMap, type SanityOptions } from './sanity';
export { pixelImportance, rankPixels, normalize01, pixelsAtStep, type MapKind } from './importance';
export { spearman, ssim, averageRanks } from './similarity';
export { curveAuc, perturbationCurves } from './curves';
export { baselineImage, gaussianBlur } from './baselines';
export { renderCurvesPlot } from './curvesPlot';
export { renderSanityStrip } from './sanityStrip';
export { sanityCheck, type SanityRequest, type SanityResult } from './sanityCheck';
export { renderCompareGrid, type GridCell } from './compareGrid';
