// cnn-lens predict MODEL IMAGE... [--top K] [--json]
import * as path from 'node:path';
import { imageToInput, predict } from '../../engine/explain';
import { readImageFile } from '../../engine/image/decode';
import { flag, num, type OptionSpecs, type ParsedArgs } from '../args';
import { GLOBAL_OPTIONS, openModel, PREPROCESS_OPTION, preprocessOf, requireImages, round } from '../common';
import { progressBar, type CliIO } from '../io';

export const PREDICT_OPTIONS: OptionSpecs = {
  ...GLOBAL_OPTIONS,
  ...PREPROCESS_OPTION,
  top: { type: 'number', valueName: 'K', help: 'how many classes to show (default 5)' },
  json: { type: 'boolean', help: 'one JSON object on stdout' },
};

export async function runPredict(args: ParsedArgs, io: CliIO): Promise<number> {
  const [modelFile, ...images] = args.positionals;
  const top = num(args, 'top', { min: 1, integer: true }) ?? 5;
  const { model, backend } = await openModel(args, modelFile);
  requireImages(images);
  const preset = preprocessOf(args, model);
  const json = flag(args, 'json');
  const bar = images.length > 1 ? progressBar(io, 'predict') : null;
  const results = [];
  for (let i = 0; i < images.length; i++) {
    const img = await readImageFile(images[i]);
    const t0 = performance.now();
    const x = imageToInput(model, img, preset);
    const preds = predict(model, x).slice(0, top);
    x.dispose();
    const ms = performance.now() - t0;
    results.push({ image: images[i], top: preds.map((p) => ({ index: p.index, label: p.label, logit: round(p.logit), probability: round(p.probability) })), ms: Math.round(ms) });
    if (!json) {
      io.out(`${path.basename(images[i])}:`);
      for (const p of preds) io.out(`  ${(p.probability * 100).toFixed(1).padStart(5)}%  ${p.label}${p.label !== String(p.index) ? ` (${p.index})` : ''}`);
    }
    bar?.update(i + 1, images.length);
  }
  bar?.finish(`${images.length} images`);
  if (json) io.out(JSON.stringify({ model: model.file, backend, preprocess: preset, results }));
  model.dispose();
  return 0;
}
