// cnn-lens sanity MODEL IMAGE [--method M] [--class C] [--layer L] [--seed S] [--out grid.png] [--json]
// The cascading model-parameter randomization test for one method, with the verdict in words.
import * as path from 'node:path';
import { encodePng } from '../../engine/image/png';
import { isMethodName, METHOD_NAMES } from '../../engine/methods';
import { renderSanityStrip, sanityCheck } from '../../engine/trust';
import { sanityVerdict, type SanityRecord } from '../../shared/trustRecords';
import { num, str, UsageError, type OptionSpecs, type ParsedArgs } from '../args';
import { GLOBAL_OPTIONS, onOneImage, PREPROCESS_OPTION, round } from '../common';
import { writeResult, type CliIO } from '../io';

export const SANITY_OPTIONS: OptionSpecs = {
  ...GLOBAL_OPTIONS,
  ...PREPROCESS_OPTION,
  method: { type: 'string', choices: METHOD_NAMES, help: 'the method to check (default gradcam)' },
  class: { type: 'string', valueName: 'INDEX|LABEL', help: 'the class explained (default: the top-1)' },
  layer: { type: 'string', valueName: 'NAME', help: 'target layer of a layer method (default: the last spatial layer)' },
  seed: { type: 'number', valueName: 'S', help: 'seed of the random weights (default 0)' },
  out: { type: 'string', valueName: 'FILE.png', help: 'the maps stage by stage in a strip, with layer names, Spearman and SSIM' },
  json: { type: 'boolean', help: '{ method, stages: [{ layer, spearman, ssim }] } and the rest of the record on stdout' },
};

export function sanityTable(r: SanityRecord): string[] {
  const rows = [['stage', 'randomized down to', 'Spearman', 'SSIM'], ...r.stages.map((s, i) => [String(i + 1), s.layer, s.spearman.toFixed(3), s.ssim.toFixed(3)])];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return [
    `${path.basename(r.image)}: ${r.method}${r.layer ? ` at ${r.layer}` : ''} for '${r.class.label}', cascading randomization from the output layer (seed ${r.seed})`,
    ...rows.map((row) => '  ' + row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()),
    sanityVerdict(r).sentence,
  ];
}

export async function runSanity(args: ParsedArgs, io: CliIO): Promise<number> {
  const method = str(args, 'method') ?? 'gradcam';
  if (!isMethodName(method)) throw new UsageError(`unknown method '${method}'`);
  const seed = num(args, 'seed', { integer: true }) ?? 0;
  const { model, image, json, result } = await onOneImage(args, io, 'sanity', (model, x, preset, image, hooks) =>
    sanityCheck(model, x, { method, class: str(args, 'class'), layer: str(args, 'layer'), preprocess: preset, seed, names: { model: model.file, image } }, hooks),
  );
  const out = str(args, 'out');
  if (out) writeResult(out, encodePng(renderSanityStrip(result.record, result.maps, model.inputSize.height, model.inputSize.width)), [model.file, image]);
  const r = result.record;
  if (json) {
    const v = sanityVerdict(r);
    io.out(JSON.stringify({ ...r, stages: r.stages.map((s) => ({ layer: s.layer, spearman: round(s.spearman), ssim: round(s.ssim) })), passed: v.passed, verdict: v.sentence }));
  } else {
    for (const l of sanityTable(r)) io.out(l);
    if (out) io.out(`  strip → ${out}`);
  }
  model.dispose();
  return 0;
}
