// cnn-lens predict MODEL IMAGE|FOLDER... [--top K] [--json]
import * as path from 'node:path';
import { imageToInput, predict } from '../../engine/explain';
import { readImageFile } from '../../engine/image/decode';
import { flag, num, type OptionSpecs, type ParsedArgs } from '../args';
import { percent } from '../../shared/format';
import { expandImages, runBatch } from '../batch';
import { GLOBAL_OPTIONS, openModel, PREPROCESS_OPTION, preprocessOf, round, uniformNote } from '../common';
import type { CliIO } from '../io';

export const PREDICT_OPTIONS: OptionSpecs = {
  ...GLOBAL_OPTIONS,
  ...PREPROCESS_OPTION,
  top: { type: 'number', valueName: 'K', help: 'how many classes to show (default 5)' },
  json: { type: 'boolean', help: 'one JSON object on stdout' },
};

export async function runPredict(args: ParsedArgs, io: CliIO): Promise<number> {
  const [modelFile, ...images] = args.positionals;
  const top = num(args, 'top', { min: 1, integer: true }) ?? 5;
  const batch = expandImages(images);
  const { model, backend } = await openModel(args, modelFile);
  const preset = preprocessOf(args, model);
  const json = flag(args, 'json');
  const results: unknown[] = [];
  const code = await runBatch(io, 'predict', 'predicted', batch, json, async (image) => {
    const img = await readImageFile(image);
    const t0 = performance.now();
    const x = imageToInput(model, img, preset);
    const all = predict(model, x);
    const preds = all.slice(0, top);
    x.dispose();
    const ms = performance.now() - t0;
    const note = uniformNote(all, preset);
    results.push({ image, top: preds.map((p) => ({ index: p.index, label: p.label, logit: round(p.logit), probability: round(p.probability) })), ...(note ? { nearUniform: true, note } : {}), ms: Math.round(ms) });
    if (!json) {
      io.out(`${path.basename(image)}:`);
      for (const p of preds) io.out(`  ${percent(p.probability).padStart(6)}  ${p.label}${p.label !== String(p.index) ? ` (${p.index})` : ''}`);
      if (note) io.out(`  note: ${note}`);
    }
  }, (image, error) => results.push({ image, error }));
  if (json) io.out(JSON.stringify({ model: model.file, backend, preprocess: preset, results }));
  model.dispose();
  return code;
}
