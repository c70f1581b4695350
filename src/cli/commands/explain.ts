// cnn-lens explain MODEL IMAGE|FOLDER... [--method M] [--class C] [--layer L] [--out heat.png | --out-dir DIR] [--raw map.npy] …
import * as path from 'node:path';
import { explain, imageToInput, type ClassExplanation, type ExplainResult } from '../../engine/explain';
import { COLORMAPS, type ColormapName } from '../../engine/image/colormap';
import { readImageFile } from '../../engine/image/decode';
import { encodeNpy } from '../../engine/image/npy';
import { encodePng } from '../../engine/image/png';
import { isMethodName, METHOD_NAMES, type SmoothMode } from '../../engine/methods';
import { RISE_MASKS } from '../../engine/methods/rise';
import { SMOOTHGRAD_SAMPLES } from '../../engine/methods/smoothGrad';
import { emptyMapAdvice, METHOD_GROUPS, METHOD_INFO, methodTitle, usesLayer } from '../../shared/methods';
import { renderExplanation } from '../../engine/renderExplanation';
import { flag, list, num, str, UsageError, type OptionSpecs, type ParsedArgs } from '../args';
import { expandImages, runBatch } from '../batch';
import { GLOBAL_OPTIONS, openModel, PREPROCESS_OPTION, preprocessOf, round, uniformNote } from '../common';
import { percent, shapeText } from '../../shared/format';
import { progressBar, writeResult, type CliIO, type ProgressBar } from '../io';
import { runExplainJobs } from '../jobs';

export const EXPLAIN_OPTIONS: OptionSpecs = {
  ...GLOBAL_OPTIONS,
  ...PREPROCESS_OPTION,
  method: { type: 'string', choices: METHOD_NAMES, valueName: 'NAME', help: 'attribution method (default gradcam; the list below)' },
  class: { type: 'list', valueName: 'INDEX|LABEL[,…]', help: 'class(es) to explain (default: the top-1)' },
  'top-k': { type: 'number', valueName: 'K', help: 'explain the K best classes' },
  layer: { type: 'string', valueName: 'NAME', help: `target layer for the layer methods (${METHOD_INFO.filter(usesLayer).map((m) => m.id).join(', ')}; default: the last spatial layer)` },
  score: { type: 'string', choices: ['logit', 'probability'], help: "what is explained: the class's pre-softmax logit (default) or its probability" },
  out: { type: 'string', valueName: 'FILE.png', help: 'heatmap over the image (one image)' },
  'out-dir': { type: 'string', valueName: 'DIR', help: 'one PNG per image (and class) in DIR' },
  raw: { type: 'string', valueName: 'FILE.npy', help: 'the raw map, unnormalized and not resized, as float32 .npy (one image)' },
  npy: { type: 'boolean', help: 'with --out-dir: also write each raw map as .npy' },
  colormap: { type: 'string', choices: COLORMAPS, help: 'heatmap colours (default viridis)' },
  alpha: { type: 'number', valueName: 'A', help: 'heatmap opacity over the image, 0..1 (default 0.5)' },
  samples: { type: 'number', valueName: 'N', help: `smoothgrad: noisy samples (default ${SMOOTHGRAD_SAMPLES}); rise: random masks (default ${RISE_MASKS})` },
  noise: { type: 'number', valueName: 'S', help: "smoothgrad: noise σ as a fraction of the input's range (default 0.15)" },
  smooth: { type: 'string', choices: ['mean', 'square', 'var'], help: 'smoothgrad: mean of |gradient| (default), mean of squared gradients, or their variance' },
  steps: { type: 'number', valueName: 'N', help: 'integrated-gradients: path steps (default 64)' },
  seed: { type: 'number', valueName: 'S', help: 'smoothgrad, rise: random seed (default 0)' },
  'no-relu': { type: 'boolean', help: "CAM methods: keep the map's negative part (no ReLU)" },
  'max-channels': { type: 'number', valueName: 'N', help: 'scorecam: only the N channels of largest activation variance (Faster Score-CAM; default all)' },
  patch: { type: 'number', valueName: 'P', help: 'occlusion: patch side in input pixels (default ⌈min(H, W)/8⌉)' },
  stride: { type: 'number', valueName: 'S', help: 'occlusion: patch step in input pixels (default ⌈P/2⌉)' },
  grid: { type: 'number', valueName: 'G', help: 'rise: mask cells per side (default 7)' },
  json: { type: 'boolean', help: 'one JSON object on stdout' },
  jobs: { type: 'number', valueName: 'N', help: 'spread the images over N worker processes (each loads the model; default 1)' },
};

/** The methods by group, one line each with its description, and the papers (for `explain --help`). */
export function methodsHelp(): string {
  const w = Math.max(...METHOD_INFO.map((m) => m.id.length)) + 2;
  const lines: string[] = [];
  for (const g of METHOD_GROUPS) {
    lines.push(`${g.title}:`);
    for (const m of METHOD_INFO.filter((x) => x.group === g.id)) lines.push(`  ${m.id.padEnd(w)}${m.title}: ${m.description}${m.classIndependent ? ' (class-independent)' : ''}`);
  }
  lines.push('', 'Papers:', ...METHOD_INFO.map((m) => `  ${m.id.padEnd(w)}${m.paper}`));
  return 'Methods:\n' + lines.map((l) => (l && !l.startsWith(' ') && l !== 'Papers:' ? '  ' + l : l)).join('\n');
}

function safeName(s: string): string {
  return s.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '') || 'class';
}

/** heat.png + 'cat' → heat.cat.png */
function withSuffix(file: string, suffix: string): string {
  const ext = path.extname(file);
  return file.slice(0, file.length - ext.length) + '.' + suffix + ext;
}

export async function runExplain(args: ParsedArgs, io: CliIO): Promise<number> {
  const [modelFile, ...images] = args.positionals;
  const methodName = str(args, 'method') ?? 'gradcam';
  if (!isMethodName(methodName)) throw new UsageError(`unknown method '${methodName}'`);
  const out = str(args, 'out');
  const outDir = str(args, 'out-dir');
  const raw = str(args, 'raw');
  if (out && outDir) throw new UsageError('give --out or --out-dir, not both');
  const alpha = num(args, 'alpha', { min: 0, max: 1 }) ?? 0.5;
  const colormap = (str(args, 'colormap') as ColormapName | undefined) ?? 'viridis';
  const topK = num(args, 'top-k', { min: 1, integer: true });
  const classes = list(args, 'class');
  if (topK && classes) throw new UsageError('give --class or --top-k, not both');
  const options = {
    score: (str(args, 'score') as 'logit' | 'probability' | undefined) ?? 'logit',
    samples: num(args, 'samples', { min: 1, max: 100000, integer: true }),
    noise: num(args, 'noise', { min: 0 }),
    steps: num(args, 'steps', { min: 1, max: 100000, integer: true }),
    seed: num(args, 'seed', { integer: true }),
    smooth: str(args, 'smooth') as SmoothMode | undefined,
    relu: flag(args, 'no-relu') ? false : undefined,
    maxChannels: num(args, 'max-channels', { min: 1, integer: true }),
    patch: num(args, 'patch', { min: 1, integer: true }),
    stride: num(args, 'stride', { min: 1, integer: true }),
    grid: num(args, 'grid', { min: 1, max: 64, integer: true }),
  };
  const methodOptions = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));

  const jobs = num(args, 'jobs', { min: 1, max: 64, integer: true }) ?? 1;
  const batch = expandImages(images);
  if (jobs > 1 && batch.images.length > 1) return runExplainJobs(args, io, modelFile, batch.images, jobs);
  const { model, backend, loadMs } = await openModel(args, modelFile);
  if (batch.batch && (out || raw)) throw new UsageError('with several images use --out-dir (and --npy for raw maps), not --out/--raw');
  if (flag(args, 'npy') && !outDir) throw new UsageError('--npy goes with --out-dir');
  const preset = preprocessOf(args, model);
  const protectedFiles = [model.file, ...batch.images];
  const json = flag(args, 'json');
  const results: unknown[] = [];

  const code = await runBatch(io, 'explain', 'explained', batch, json, async (image) => {
    const t0 = performance.now();
    const original = await readImageFile(image);
    const x = imageToInput(model, original, preset);
    const tPre = performance.now();
    let r: ExplainResult;
    let singleBar: ProgressBar | null = null;
    try {
      r = explain(model, x, { method: methodName, classes, topK, layer: str(args, 'layer'), preprocess: preset, options: methodOptions }, {
        onProgress: !batch.batch && !json && io.interactive ? (p) => (singleBar ??= progressBar(io, methodTitle(methodName))).update(p.done, p.total, p.stage) : undefined,
      });
    } finally {
      x.dispose();
    }
    (singleBar as ProgressBar | null)?.finish();
    const tExplain = performance.now();
    const written: { png?: string; npy?: string }[] = [];
    const many = r.explanations.length > 1;
    for (const e of r.explanations) {
      const files: { png?: string; npy?: string } = {};
      const classSuffix = safeName(e.class.label);
      let pngFile: string | undefined;
      let npyFile: string | undefined;
      if (outDir) {
        const base = `${path.basename(image, path.extname(image))}.${methodName}${many ? '.' + classSuffix : ''}`;
        pngFile = path.join(outDir, base + '.png');
        if (flag(args, 'npy')) npyFile = path.join(outDir, base + '.npy');
      } else {
        if (out) pngFile = many ? withSuffix(out, classSuffix) : out;
        if (raw) npyFile = many ? withSuffix(raw, classSuffix) : raw;
      }
      if (pngFile) {
        writeResult(pngFile, encodePng(renderExplanation(methodName, e.map, e.shape, original, { colormap, alpha })), protectedFiles);
        files.png = pngFile;
      }
      if (npyFile) {
        writeResult(npyFile, encodeNpy(e.map, e.shape), protectedFiles);
        files.npy = npyFile;
      }
      written.push(files);
    }
    const top = r.predictions.slice(0, 5).map((p) => ({ index: p.index, label: p.label, logit: round(p.logit), probability: round(p.probability) }));
    const note = uniformNote(r.predictions, preset);
    const advice = (e: ClassExplanation) => emptyMapAdvice(methodName, { layer: r.layer, label: e.class.label, cli: true });
    const mapInfo = (e: ClassExplanation) => ({ shape: e.shape, min: e.min, max: e.max, ...(e.empty ? { empty: true, advice: advice(e) } : {}) });
    const classInfo = (e: ClassExplanation) => ({ index: e.class.index, label: e.class.label, logit: round(e.class.logit), probability: round(e.class.probability) });
    const result = {
      model: model.file,
      backend,
      image,
      method: methodName,
      layer: r.layer,
      preprocess: preset,
      score: options.score,
      class: classInfo(r.explanations[0]),
      top,
      ...(note ? { nearUniform: true, note } : {}),
      map: mapInfo(r.explanations[0]),
      outputs: written[0],
      ...(many ? { explanations: r.explanations.map((e, k) => ({ class: classInfo(e), map: mapInfo(e), outputs: written[k], ms: Math.round(e.ms) })) } : {}),
      timings: { loadMs: Math.round(loadMs), preprocessMs: Math.round(tPre - t0), explainMs: Math.round(tExplain - tPre) },
    };
    results.push(result);
    if (!json) {
      // The header is the model's prediction; each explained class follows on its own line (a class asked
      // for with --class is not the prediction).
      const best = r.predictions[0];
      io.out(`${path.basename(image)}: ${best ? `${best.label} ${percent(best.probability)}` : 'no prediction'}`);
      if (note) io.out(`  note: ${note}`);
      for (let k = 0; k < r.explanations.length; k++) {
        const e = r.explanations[k];
        const where = [written[k].png, written[k].npy].filter(Boolean).join(', ');
        io.out(`  ${methodTitle(methodName)}${r.layer ? ` at ${r.layer}` : ''} for '${e.class.label}' (${percent(e.class.probability)}): map ${shapeText(e.shape)} in [${e.min.toPrecision(3)}, ${e.max.toPrecision(3)}], ${Math.round(e.ms)} ms${where ? ` → ${where}` : ''}`);
        if (e.empty) io.out(`  ${advice(e)}`);
      }
    }
  }, (image, message) => results.push({ image, error: message }));
  if (json) io.out(JSON.stringify(!batch.batch ? results[0] : { results }));
  model.dispose();
  return code;
}

