// The ONNX rows against their layers twins (issue 12: an ONNX export runs within 1.2× of the same architecture
// loaded as a layers model): per operation that ran on both, the two medians and their ratio, and the targets.
import type { ModelResult, TargetCheck } from './bench';
import { isOnnxBenchName, ONNX_BENCH } from './models/onnx';

/** An ONNX model's median may be at most this times its twin's. */
export const ONNX_TWIN_LIMIT = 1.2;

interface TwinRow {
  model: string;
  op: string;
  twinMs: number;
  onnxMs: number;
  ratio: number;
}

function twinRows(results: ModelResult[]): TwinRow[] {
  const rows: TwinRow[] = [];
  for (const r of results) {
    const name = r.model;
    if (!isOnnxBenchName(name) || r.error) continue;
    const twin = results.find((t) => t.model === ONNX_BENCH[name].twin && !t.error);
    if (!twin) continue;
    for (const o of r.ops) {
      const t = twin.ops.find((x) => x.op === o.op);
      if (!t || o.error || t.error || !Number.isFinite(o.medianMs) || !Number.isFinite(t.medianMs) || t.medianMs <= 0) continue;
      rows.push({ model: r.title, op: o.title, twinMs: t.medianMs, onnxMs: o.medianMs, ratio: o.medianMs / t.medianMs });
    }
  }
  return rows;
}

const fmt = (ms: number) => (ms >= 10000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);

/** The side-by-side lines, or none when no ONNX model ran beside its twin. */
export function formatOnnxTwinTable(results: ModelResult[]): string[] {
  const rows = twinRows(results);
  if (rows.length === 0) return [];
  const table = [['ONNX model', 'operation', 'layers twin', 'ONNX', 'ratio'], ...rows.map((r) => [r.model, r.op, fmt(r.twinMs), fmt(r.onnxMs), `${r.ratio.toFixed(2)}×`])];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  return [`ONNX exports beside the same architecture built as a layers model (medians; goal ≤ ${ONNX_TWIN_LIMIT}×):`, ...table.map((row) => '  ' + row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd())];
}

export function checkOnnxTwinTargets(results: ModelResult[]): TargetCheck[] {
  return twinRows(results).map((r) => ({ what: `${r.model} ${r.op} ≤ ${ONNX_TWIN_LIMIT}× its layers twin (%)`, value: 100 * r.ratio, limit: 100 * ONNX_TWIN_LIMIT, ok: r.ratio <= ONNX_TWIN_LIMIT }));
}
