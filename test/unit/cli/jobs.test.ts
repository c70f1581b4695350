// `cnn-lens explain --jobs N`: the same files, maps and order as one process, from worker processes
// running the built command line (dist/cli.js).
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { main } from '../../../src/cli/main';
import { cliScript, contiguousShares, optionsToArgv } from '../../../src/cli/jobs';
import { initBackend } from '../../../src/engine/backend';
import { decodeNpy } from '../../../src/engine/image/npy';
import { captureIO, gapModel, listFiles, saveLayersModel, tmpDir, writePng } from '../helpers';

const S = 16;

async function run(args: string[]) {
  const c = captureIO();
  const code = await main(args, c.io);
  return { code, out: c.out, err: c.err };
}

describe('cnn-lens explain --jobs', function () {
  this.timeout(120000);
  let dir: string;
  let modelFile: string;
  let images: string[];

  before(async function () {
    if (!cliScript()) {
      console.log('      (skipped: dist/cli.js is not built)');
      this.skip();
    }
    await initBackend((process.env.CNN_LENS_BACKEND as any) ?? 'auto');
    dir = tmpDir('cnn-lens-jobs-');
    modelFile = await saveLayersModel(gapModel(S), path.join(dir, 'model'), { metadata: { labels: ['red', 'green', 'blue'] } });
    images = [0, 1, 2, 3, 4].map((k) => writePng(path.join(dir, `img${k}.png`), 20 + k, 18, (x, y) => [(x * (k + 3) * 9) % 256, (y * 11 + k * 40) % 256, ((x + y) * (k + 1) * 7) % 256]));
  });

  it('splits work into contiguous shares and passes every option on', () => {
    assert.deepEqual(contiguousShares([1, 2, 3, 4, 5], 2), [[1, 2, 3], [4, 5]]);
    assert.deepEqual(contiguousShares([1, 2], 4), [[1], [2]]);
    const argv = optionsToArgv({ positionals: [], options: { jobs: 3, method: 'saliency', class: ['red', 'blue'], npy: true, json: false, steps: 8 } }, ['jobs']);
    assert.deepEqual(argv, ['--method=saliency', '--class=red,blue', '--npy', '--steps=8']);
  });

  it('writes the same maps as one process, and merges --json results in image order', async () => {
    const one = path.join(dir, 'one');
    const two = path.join(dir, 'two');
    const common = ['--method', 'saliency', '--npy', '--json', '--backend', (process.env.CNN_LENS_BACKEND as string) ?? 'auto'];
    const a = await run(['explain', modelFile, ...images, '--out-dir', one, ...common]);
    assert.equal(a.code, 0, a.err.join('\n'));
    const b = await run(['explain', modelFile, ...images, '--out-dir', two, '--jobs', '2', ...common]);
    assert.equal(b.code, 0, b.err.join('\n'));
    const names = (d: string) => listFiles(d).map((f) => path.basename(f));
    assert.deepEqual(names(two), names(one));
    assert.equal(names(two).filter((n) => n.endsWith('.npy')).length, images.length);
    for (const n of names(one).filter((f) => f.endsWith('.npy'))) {
      const x = decodeNpy(fs.readFileSync(path.join(one, n)));
      const y = decodeNpy(fs.readFileSync(path.join(two, n)));
      assert.deepEqual(y.shape, x.shape);
      let diff = 0;
      for (let i = 0; i < x.data.length; i++) diff = Math.max(diff, Math.abs((x.data[i] as number) - (y.data[i] as number)));
      assert.ok(diff < 1e-5, `${n}: max diff ${diff}`);
    }
    const ra = JSON.parse(a.out.join('\n')) as { results: { image: string; class: { index: number } }[] };
    const rb = JSON.parse(b.out.join('\n')) as { results: { image: string; class: { index: number } }[] };
    assert.deepEqual(rb.results.map((r) => r.image), images);
    assert.deepEqual(rb.results.map((r) => r.class.index), ra.results.map((r) => r.class.index));
  });

  it('prints the text lines in image order and reports a failing image with exit 1', async () => {
    const broken = path.join(dir, 'broken.png');
    fs.writeFileSync(broken, 'not a png');
    const r = await run(['explain', modelFile, images[0], images[1], broken, images[2], '--jobs', '3', '--method', 'gradcam']);
    assert.equal(r.code, 1);
    assert.ok(r.err.some((l) => l.includes('broken.png')), r.err.join('\n'));
    const firstLines = r.out.filter((l) => !l.startsWith(' '));
    assert.deepEqual(firstLines.map((l) => l.split(':')[0]), ['img0.png', 'img1.png', 'img2.png']);
  });

  it('refuses bad --jobs values and --out with several images before starting workers', async () => {
    assert.equal((await run(['explain', modelFile, ...images, '--jobs', '0'])).code, 2);
    assert.equal((await run(['explain', modelFile, ...images, '--jobs', '1.5'])).code, 2);
    const r = await run(['explain', modelFile, ...images, '--jobs', '2', '--out', path.join(dir, 'x.png')]);
    assert.equal(r.code, 2);
    assert.match(r.err[0], /--out-dir/);
  });
});
