// cnn-lens info MODEL [--json]
import { backendVersions } from '../../engine/backend';
import { summarizeModel, type LayerSummary } from '../../engine/model/summary';
import { flag, type OptionSpecs, type ParsedArgs } from '../args';
import { GLOBAL_OPTIONS, openModel } from '../common';
import type { CliIO } from '../io';
import { shapeText } from '../../shared/format';

export const INFO_OPTIONS: OptionSpecs = {
  ...GLOBAL_OPTIONS,
  json: { type: 'boolean', help: 'one JSON object on stdout' },
};

/** The output shape without the batch dimension, in the one notation of the panels ("7×7×1280"). */
function shape(s: (number | null)[] | null): string {
  return s ? shapeText(s.slice(1)) : '(several)';
}

function fmtCount(n: number): string {
  return n.toLocaleString('en-US');
}

export async function runInfo(args: ParsedArgs, io: CliIO): Promise<number> {
  const { model, backend, loadMs } = await openModel(args, args.positionals[0]);
  const s = summarizeModel(model);
  if (flag(args, 'json')) {
    io.out(JSON.stringify({ ...s, backend, versions: backendVersions(), timings: { loadMs: Math.round(loadMs) } }));
    return 0;
  }
  const kv = (k: string, v: string) => io.out(`${k.padEnd(15)}${v}`);
  kv('model', s.file);
  kv('format', s.format);
  kv('backend', backend);
  kv('input', `${s.input.height}×${s.input.width}×${s.input.channels} ${s.inputLayout}, preprocessing '${s.defaultPreprocess}' (${s.preprocessReason})`);
  kv('output', `${s.numClasses} classes (${s.outputActivation})${s.labels ? `, labels from ${s.labelsSource}` : ', no labels (indices shown)'}`);
  if (s.labels) kv('labels', s.labels.slice(0, 12).join(', ') + (s.labels.length > 12 ? `, … (${s.labels.length})` : ''));
  kv('parameters', `${fmtCount(s.params.total)} (${fmtCount(s.params.trainable)} trainable), ${(s.weightBytes / 1e6).toFixed(2)} MB of weights`);
  kv('default layer', s.defaultLayer ? `${s.defaultLayer}: ${s.defaultLayerReason}` : '(none: no layer has a spatial output; the layer methods do not apply, the input-gradient methods do)');
  io.out('');
  io.out(`${'layer'.padEnd(56)}${'class'.padEnd(24)}${'output shape'.padEnd(22)}params`);
  const walk = (ls: LayerSummary[], depth: number) => {
    for (const l of ls) {
      const mark = l.path === s.defaultLayer ? ' *' : '';
      io.out(`${('  '.repeat(depth) + l.name + mark).padEnd(56)}${l.className.padEnd(24)}${shape(l.outputShape).padEnd(22)}${fmtCount(l.params)}`);
      if (l.children) walk(l.children, depth + 1);
    }
  };
  walk(s.layers, 0);
  io.out('');
  io.out(`${s.layerCount} layers; * marks the default target layer; name nested layers by path (e.g. ${s.defaultLayer ?? 'model/layer'}) or by a unique name.`);
  return 0;
}
