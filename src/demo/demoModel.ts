// Where the shipped demo model lives and what its metadata.json says.
import * as tfl from '@tensorflow/tfjs-layers';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileLoadHandler } from './modelFiles';

/** Contents of media/demo/metadata.json. */
export interface DemoMetadata {
  name: string;
  labels: string[];
  /** Square input side in pixels. */
  imageSize: number;
  /** "unit": RGB values divided by 255. */
  preprocess: 'unit';
  /** Name of the last convolutional layer (the one Grad-CAM and CAM use). */
  lastConvLayer: string;
  [key: string]: unknown;
}

/**
 * The media/demo folder of this checkout: found by walking up from `from` (default: this bundle's
 * folder, then the working directory) to the first folder that has media/demo/model.json.
 */
export function findDemoDir(from?: string): string {
  const starts = from ? [from] : [__dirname, process.cwd()];
  for (const start of starts) {
    let dir = path.resolve(start);
    for (;;) {
      const candidate = path.join(dir, 'media', 'demo');
      if (fs.existsSync(path.join(candidate, 'model.json'))) return candidate;
      const parent = path.dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new Error(`media/demo/model.json: not found above ${starts.join(' or ')} (run npm run train-demo to create it)`);
}

export function readDemoMetadata(demoDir: string): DemoMetadata {
  const file = path.join(demoDir, 'metadata.json');
  let m: DemoMetadata;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file}: cannot read metadata (${(e as Error).message})`, { cause: e });
  }
  if (!Array.isArray(m.labels) || m.labels.length === 0) throw new Error(`${file}: "labels" must be a non-empty array`);
  if (!Number.isInteger(m.imageSize) || m.imageSize <= 0) throw new Error(`${file}: "imageSize" must be a positive integer`);
  if (m.preprocess !== 'unit') throw new Error(`${file}: "preprocess" must be "unit", found ${JSON.stringify(m.preprocess)}`);
  return m;
}

/** Loads the demo model with tfjs-layers (the backend must already be initialized). */
export async function loadDemoModel(demoDir = findDemoDir()): Promise<{ model: tfl.LayersModel; metadata: DemoMetadata }> {
  const metadata = readDemoMetadata(demoDir);
  const model = await tfl.loadLayersModel(fileLoadHandler(path.join(demoDir, 'model.json')));
  const outUnits = model.outputs[0].shape[model.outputs[0].shape.length - 1];
  if (outUnits !== metadata.labels.length) {
    model.dispose();
    throw new Error(`${path.join(demoDir, 'metadata.json')}: ${metadata.labels.length} labels but the model has ${outUnits} outputs`);
  }
  return { model, metadata };
}
