// cnn-lens evaluate MODEL IMAGE [--method M[,M…] | --method all] [--class C] [--layer L] [--steps N]
//                   [--baseline black|blur|mean] [--raw map.npy] [--plot curves.png] [--json]
// Deletion/insertion curves and their AUCs for each method, beside a seeded random map.
import * as path from 'node:path';
import { encodeNpy } from '../../engine/image/npy';
import { encodePng } from '../../engine/image/png';
import { isMethodName, METHOD_NAMES, type MethodName } from '../../engine/methods';
import { evaluateFaithfulness, renderCurvesPlot } from '../../engine/trust';
import { DEFAULT_CURVE_STEPS, isSkipped, PERTURBATION_BASELINES, type EvaluationRecord, type PerturbationBaseline } from '../../shared/trustRecords';
import { percent } from '../../shared/format';
import { methodTitle } from '../../shared/methods';
import { list, num, str, UsageError, type OptionSpecs, type ParsedArgs } from '../args';
import { GLOBAL_OPTIONS, onOneImage, PREPROCESS_OPTION, round } from '../common';
import { writeResult, type CliIO } from '../io';

export const EVALUATE_OPTIONS: OptionSpecs = {
  ...GLOBAL_OPTIONS,
  ...PREPROCESS_OPTION,
  method: { type: 'list', valueName: 'M[,M…]|all', help: `methods to score (default gradcam; all: ${METHOD_NAMES.join(', ')})` },
  class: { type: 'string', valueName: 'INDEX|LABEL', help: 'the class whose probability the curves follow (default: the top-1)' },
  layer: { type: 'string', valueName: 'NAME', help: 'target layer of the layer methods (default: the last spatial layer)' },
  steps: { type: 'number', valueName: 'N', help: `points per curve minus one (default ${DEFAULT_CURVE_STEPS})` },
  baseline: { type: 'string', choices: PERTURBATION_BASELINES, help: "what deleted pixels become: black (default, preprocessed), blur (Gaussian σ = 5% of the side) or mean (the image's mean colour)" },
  seed: { type: 'number', valueName: 'S', help: 'seed of the random map (default 0)' },
  raw: { type: 'string', valueName: 'FILE.npy', help: "the first method's raw map as float32 .npy (as explain --raw)" },
  plot: { type: 'string', valueName: 'FILE.png', help: 'both curves of every method and the random map in one PNG' },
  json: { type: 'boolean', help: 'the evaluation record as one JSON object on stdout' },
};

function methodsOf(args: ParsedArgs): MethodName[] {
  const given = list(args, 'method') ?? ['gradcam'];
  if (given.includes('all')) return [...METHOD_NAMES];
  const out: MethodName[] = [];
  for (const m of given) {
    if (!isMethodName(m)) throw new UsageError(`unknown method '${m}' (methods: ${METHOD_NAMES.join(', ')}, or all)`);
    if (!out.includes(m)) out.push(m);
  }
  return out;
}

/** The record rounded for JSON (curves to 4 decimals). */
function rounded(r: EvaluationRecord): EvaluationRecord {
  const c = (x: { auc: number; curve: number[] }) => ({ auc: round(x.auc), curve: x.curve.map((v) => round(v)) });
  return {
    ...r,
    class: { ...r.class, probability: round(r.class.probability) },
    methods: r.methods.map((m) => (isSkipped(m) ? m : { ...m, deletion: c(m.deletion), insertion: c(m.insertion) })),
    random: { seed: r.random.seed, deletion: c(r.random.deletion), insertion: c(r.random.insertion) },
  };
}

/** The table a person reads: one row per method and the random map. */
export function evaluationTable(r: EvaluationRecord): string[] {
  const rows: string[][] = [['method', 'layer', 'deletion AUC (lower better)', 'insertion AUC (higher better)', 'ms']];
  for (const m of r.methods) {
    if (isSkipped(m)) rows.push([methodTitle(m.method), '-', 'skipped', '', '']);
    else rows.push([methodTitle(m.method), m.layer ?? '-', m.deletion.auc.toFixed(3), m.insertion.auc.toFixed(3), String(m.ms)]);
  }
  rows.push([`random (seed ${r.random.seed})`, '-', r.random.deletion.auc.toFixed(3), r.random.insertion.auc.toFixed(3), '']);
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const lines = [
    `${path.basename(r.image)}: class '${r.class.label}' (${percent(r.class.probability)}), ${r.steps} steps, ${r.baseline} baseline`,
    ...rows.map((row) => '  ' + row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()),
  ];
  for (const m of r.methods) if (isSkipped(m)) lines.push(`  ${methodTitle(m.method)} skipped: ${m.skipped}`);
  return lines;
}

export async function runEvaluate(args: ParsedArgs, io: CliIO): Promise<number> {
  const methods = methodsOf(args);
  const steps = num(args, 'steps', { min: 1, max: 10000, integer: true }) ?? DEFAULT_CURVE_STEPS;
  const seed = num(args, 'seed', { integer: true }) ?? 0;
  const baseline = (str(args, 'baseline') as PerturbationBaseline | undefined) ?? 'black';
  const { model, image, json, result } = await onOneImage(args, io, 'evaluate', (model, x, preset, image, hooks) =>
    evaluateFaithfulness(model, x, { methods, class: str(args, 'class'), layer: str(args, 'layer'), preprocess: preset, steps, baseline, seed, names: { model: model.file, image } }, hooks),
  );
  const protectedFiles = [model.file, image];
  const written: string[] = [];
  const raw = str(args, 'raw');
  if (raw) {
    const first = result.maps[0];
    if (!first) throw new UsageError('--raw: no method produced a map');
    writeResult(raw, encodeNpy(first.map, first.shape), protectedFiles);
    written.push(`${first.method} map → ${raw}`);
  }
  const plot = str(args, 'plot');
  if (plot) {
    writeResult(plot, encodePng(renderCurvesPlot(result.record)), protectedFiles);
    written.push(`curves → ${plot}`);
  }
  if (json) io.out(JSON.stringify(rounded(result.record)));
  else {
    for (const l of evaluationTable(result.record)) io.out(l);
    for (const w of written) io.out(`  ${w}`);
  }
  model.dispose();
  return 0;
}
