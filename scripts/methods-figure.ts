// One image explained with every method, as one labelled grid PNG for the README:
//   npm run methods-figure -- [MODEL IMAGE OUT.png] [--class C]
// Each map is written by the cnn-lens CLI itself (dist/cli.js explain --method M --out …); this script only
// lays the PNGs out, in the registry's order (src/shared/methods.ts), with the input first.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodeImage } from '../src/engine/image/decode';
import { encodePng } from '../src/engine/image/png';
import { tileGrid } from '../src/engine/image/render';
import { resizeRgba, upscaleNearest } from '../src/engine/image/resize';
import { METHOD_INFO } from '../src/shared/methods';

/** Tile size (longer side, px). */
const TILE = 192;

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const ci = args.indexOf('--class');
  const cls = ci >= 0 ? args.splice(ci, 2)[1] : undefined;
  const [model = 'media/demo/model.json', image = 'media/samples/cross-and-arrow.png', out = 'media/examples/methods.png'] = args;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cnn-lens-figure-'));
  const tiles = [];
  const labels = [];
  const read = (f: string) => decodeImage(fs.readFileSync(f), f);
  const first = read(image);
  // Overlays come at the image's size, [H, W, C] gradient maps at the model's: every tile to 192 px on its
  // longer side, pixel maps by whole factors (crisp), others resampled.
  const fit = (img: ReturnType<typeof read>) => {
    const side = Math.max(img.width, img.height);
    if (side === TILE) return img;
    if (TILE % side === 0) return upscaleNearest(img, TILE / side);
    return resizeRgba(img, Math.round((img.width * TILE) / side), Math.round((img.height * TILE) / side));
  };
  tiles.push(fit(first));
  labels.push('input');
  for (const m of METHOD_INFO) {
    const file = path.join(tmp, `${m.id}.png`);
    try {
      execFileSync(process.execPath, ['dist/cli.js', 'explain', model, image, '--method', m.id, '--out', file, ...(cls ? ['--class', cls] : [])], { stdio: ['ignore', 'inherit', 'inherit'] });
      tiles.push(fit(read(file)));
      labels.push(m.id);
    } catch {
      console.error(`(${m.id} failed; left out of the figure)`);
    }
  }
  fs.writeFileSync(out, encodePng(tileGrid(tiles, { cols: 5, labels, pad: 6 })));
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(`wrote ${out} (${tiles.length - 1} methods)`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
