// Hand-drawn digits in the MNIST style: white strokes on black, 28x28, the digit inside the central 20x20
// box. Strokes are polylines drawn with a round pen of radius ~1.4 px and a soft edge.

type Pt = [number, number];

function arc(cx: number, cy: number, rx: number, ry: number, from: number, to: number, n = 24): Pt[] {
  const out: Pt[] = [];
  for (let i = 0; i <= n; i++) {
    const a = ((from + ((to - from) * i) / n) * Math.PI) / 180;
    out.push([cx + rx * Math.cos(a), cy + ry * Math.sin(a)]);
  }
  return out;
}

/** Strokes of each digit (x right, y down, in pixels of the 28x28 image). Angles in degrees, clockwise from +x. */
export const DIGITS: Record<number, Pt[][]> = {
  0: [arc(14, 14, 5.5, 8, 0, 360, 48)],
  1: [[[15, 5.5], [13.5, 22.5]]],
  2: [[...arc(14, 10, 5, 4.5, 200, 360 + 20, 20), [9, 22], [19.5, 22]]],
  3: [arc(13.5, 9.5, 4.5, 4, 210, 360 + 90, 20), arc(13.5, 17.5, 5, 4.5, 270, 360 + 150, 20)],
  4: [[[16.5, 5.5], [8, 17], [20.5, 17]], [[16.5, 5.5], [16.5, 23]]],
  5: [[[19, 6], [11, 6], [10, 13]], arc(14, 17, 5, 5, 235, 360 + 150, 24)],
  6: [[[17.5, 5.5], ...arc(14, 17.5, 4.8, 4.8, 210, 210, 2).slice(0, 1)], arc(14, 17.5, 4.8, 4.8, 0, 360, 36)],
  7: [[[8.5, 6.5], [19.5, 6.5], [12.5, 22.5]]],
  8: [arc(14, 9.5, 4, 3.8, 0, 360, 32), arc(14, 17.5, 4.8, 4.6, 0, 360, 36)],
  9: [arc(14, 10, 4.8, 4.8, 0, 360, 36), [[18.8, 10], [17, 22.5]]],
};

function distToSegment(px: number, py: number, a: Pt, b: Pt): number {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((px - a[0]) * dx + (py - a[1]) * dy) / len2));
  return Math.hypot(px - (a[0] + t * dx), py - (a[1] + t * dy));
}

/** 28x28 grayscale, values 0..255 (row-major). */
export function drawDigit(digit: number, radius = 1.4): Uint8Array {
  const strokes = DIGITS[digit];
  const img = new Uint8Array(28 * 28);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      let d = Infinity;
      for (const s of strokes) for (let i = 0; i + 1 < s.length; i++) d = Math.min(d, distToSegment(x + 0.5, y + 0.5, s[i], s[i + 1]));
      // Full ink inside the pen, a one-pixel soft edge outside it.
      const v = Math.max(0, Math.min(1, radius + 0.8 - d));
      img[y * 28 + x] = Math.round(255 * v);
    }
  }
  return img;
}
