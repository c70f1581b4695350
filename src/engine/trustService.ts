// The engine's trust requests (faithfulness, sanity, compareGrid) for the explain panel's Compare view and
// Sanity check. src/engine/service.ts spreads these into its handlers and lends its model/image caches.
import type { PngImage } from '../shared/engineProtocol';
import { PERTURBATION_BASELINES, type PerturbationBaseline } from '../shared/trustRecords';
import { LensError } from './errors';
import { imageToInput } from './explain';
import type { ColormapName } from './image/colormap';
import { decodeImage, type RgbaImage } from './image/decode';
import type { PreprocessPreset } from './image/preprocess';
import { heatmapImage } from './image/render';
import { isMethodName, METHOD_NAMES } from './methods';
import type { LoadedModel } from './model/loadModel';
import type { Handlers, RequestContext } from './service';
import { faithfulnessOf, randomOrder, renderCompareGrid, sanityCheck, weightedLayers } from './trust';

export interface ServiceHelpers {
  getModel(file: string, ctx: RequestContext): Promise<LoadedModel>;
  getImage(file: string): Promise<RgbaImage>;
  preprocessOf(model: LoadedModel, p: string | undefined): PreprocessPreset;
  colormapOf(c: string | undefined): ColormapName;
  png(img: RgbaImage): PngImage;
}

type TrustHandlers = Pick<Handlers, 'faithfulness' | 'sanity' | 'compareGrid'>;

function checkClass(model: LoadedModel, c: number): number {
  if (!Number.isInteger(c) || c < 0 || c >= model.numClasses) throw new LensError(`class ${c} is out of range: the model has ${model.numClasses} classes`);
  return c;
}

export function trustHandlers(s: ServiceHelpers): TrustHandlers {
  return {
    async faithfulness(p, ctx) {
      const m = await s.getModel(p.model, ctx);
      const img = await s.getImage(p.image);
      const preset = s.preprocessOf(m, p.preprocess);
      const baseline = (p.baseline ?? 'black') as PerturbationBaseline;
      if (!PERTURBATION_BASELINES.includes(baseline)) throw new LensError(`unknown baseline '${p.baseline}' (expected ${PERTURBATION_BASELINES.join(', ')})`);
      if (p.map && !(p.map.map instanceof Float32Array)) throw new LensError('faithfulness: the map must be a Float32Array');
      const classIndex = checkClass(m, p.classIndex);
      const x = imageToInput(m, img, preset);
      const t0 = performance.now();
      try {
        const source = p.map ?? { order: randomOrder(m.inputSize.height * m.inputSize.width, p.seed ?? 0) };
        const r = faithfulnessOf(m, x, source, classIndex, { steps: p.steps, baseline, preprocess: preset }, { onProgress: (q) => ctx.step(q.done, q.total, q.stage), isCancelled: () => ctx.cancelled }, p.map ? 'faithfulness curves' : 'random map curves');
        return { ...r, ms: performance.now() - t0 };
      } finally {
        x.dispose();
      }
    },

    async sanity(p, ctx) {
      if (!isMethodName(p.method)) throw new LensError(`unknown method '${p.method}' (expected one of ${METHOD_NAMES.join(', ')})`);
      const m = await s.getModel(p.model, ctx);
      const img = await s.getImage(p.image);
      const preset = s.preprocessOf(m, p.preprocess);
      const colormap = s.colormapOf(p.colormap);
      const classIndex = checkClass(m, p.classIndex);
      const { height, width } = m.inputSize;
      const side = Math.max(16, Math.min(512, p.tileSize ?? 128));
      const tile = (map01: Float32Array) =>
        s.png(heatmapImage(map01, height, width, { colormap, range: [0, 1], outW: Math.max(1, Math.round((side * width) / Math.max(height, width))), outH: Math.max(1, Math.round((side * height) / Math.max(height, width))) }));
      const x = imageToInput(m, img, preset);
      const total = m.network ? weightedLayers(m.network).length : 0;
      try {
        const r = sanityCheck(
          m,
          x,
          {
            method: p.method,
            class: classIndex,
            layer: p.layer || undefined,
            preprocess: preset,
            seed: p.seed,
            names: { model: p.model, image: p.image },
            onOriginal: (map01, layer) => ctx.emit({ type: 'sanityStage', index: -1, total, stage: null, layer, image: tile(map01) }),
            onStage: (stage, map01, index, n) => ctx.emit({ type: 'sanityStage', index, total: n, stage, layer: stage.layer, image: tile(map01) }),
          },
          {
            onProgress: (q) => ctx.step(q.done, q.total, q.stage),
            isCancelled: () => ctx.cancelled,
          },
        );
        return r.record;
      } finally {
        x.dispose();
      }
    },

    async compareGrid(p) {
      const rows = p.rowLabels?.length ?? 0;
      const cols = p.colLabels?.length ?? 0;
      if (!Array.isArray(p.cells) || p.cells.length !== rows * cols || rows === 0) throw new LensError(`compareGrid: ${p.cells?.length ?? 0} cells for ${rows} rows × ${cols} columns`);
      const cells = p.cells.map((c, i) => (c ? { image: decodeImage(c.png, `cell ${i}`), caption: String(c.caption ?? ''), best: c.best === true } : null));
      return s.png(renderCompareGrid(String(p.title ?? ''), p.rowLabels.map(String), p.colLabels.map(String), cells));
    },
  };
}
