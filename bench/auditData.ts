// The labelled folders the audit entries of the bench run on, generated here (deterministic, from fixed
// seeds) in the ImageFolder layout `cnn-lens audit` reads: one subfolder per class, PNG files inside.
//
// 'shapes': the demo model's own kind of scene (src/demo/scenes.ts, the generator that trained it and drew
// media/samples), one object each, filed under the object's class, so the accuracy is a real one.
// 'scenes': the same kind of scene at another size, filed round-robin under a model's labels: for models
// that were not trained on shapes (Teachable Machine), where only the speed means something.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { mulberry32, randomScene, SHAPE_CLASSES, type RgbaImage } from '../src/demo/scenes';

/** Not the training stream's seed (1234) nor the held-out one (7 000 001) of scripts/train-demo.ts. */
const BENCH_SEED = 5_150_001;

export interface FolderSpec {
  kind: 'shapes' | 'scenes';
  images: number;
  /** Pixel size of the square images. */
  size: number;
  /** The subfolder names: the model's labels. 'shapes' needs every demo class among them. */
  labels: string[];
}

function writePng(file: string, image: RgbaImage): void {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  fs.writeFileSync(file, PNG.sync.write(png));
}

/** Writes the folder into `dir` (created; must not exist or be empty) and returns how many images each class got. */
export function writeAuditFolder(dir: string, spec: FolderSpec): Record<string, number> {
  if (spec.kind === 'shapes') {
    const missing = SHAPE_CLASSES.filter((c) => !spec.labels.includes(c));
    if (missing.length) throw new Error(`the model's labels lack the demo classes ${missing.join(', ')}`);
  }
  fs.mkdirSync(dir, { recursive: true });
  const rng = mulberry32(BENCH_SEED + spec.size);
  const counts: Record<string, number> = {};
  const made = new Set<string>();
  for (let i = 0; i < spec.images; i++) {
    const scene = randomScene(rng, { objects: 1, size: spec.size });
    const label = spec.kind === 'shapes' ? SHAPE_CLASSES[scene.objects[0].classIndex] : spec.labels[i % spec.labels.length];
    const sub = path.join(dir, label);
    if (!made.has(sub)) {
      fs.mkdirSync(sub, { recursive: true });
      made.add(sub);
    }
    writePng(path.join(sub, `img-${String(i).padStart(5, '0')}.png`), scene.image);
    counts[label] = (counts[label] ?? 0) + 1;
  }
  return counts;
}
