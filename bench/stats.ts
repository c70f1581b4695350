// Order statistics of run times.

/** The q-quantile by the nearest-rank rule (q = 0.5: median of an odd count; q = 0.9: p90). */
export function quantile(values: number[], q: number): number {
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b);
  if (q === 0.5 && s.length % 2 === 0) return (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  const rank = Math.max(1, Math.ceil(q * s.length));
  return s[rank - 1];
}

export function median(values: number[]): number {
  return quantile(values, 0.5);
}
