// Hostile images: decompression bombs refused from the header (the sizes the issue names), a GIF whose frame or
// LZW codes would keep the decoder busy forever, 16-bit JPEG, the first frame of an animated GIF, and files that
// are not regular files. Each refusal is one line naming the file and comes at once.
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GifWriter } from 'omggif';
import { decodeImage, readImageFile } from '../../../src/engine/image/decode';
import { gifLzwProblem } from '../../../src/engine/image/gifLzw';
import { makeRng } from '../../../src/engine/random';
import { tmpDir } from '../helpers';
import { buildPng } from '../image/helpers';

function corpus(name: string): Uint8Array {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    const p = path.join(dir, 'test', 'fuzz', 'corpus', 'images', name);
    if (fs.existsSync(p)) return new Uint8Array(fs.readFileSync(p));
    dir = path.dirname(dir);
  }
  throw new Error(`corpus image ${name} not found`);
}

/** Refused with one line naming the file, matching `re`, in well under a second. */
function refusedFast(bytes: Uint8Array, file: string, re: RegExp): void {
  const t0 = Date.now();
  assert.throws(() => decodeImage(bytes, file), (e: Error) => {
    assert.equal(e.name, 'LensError');
    assert.ok(e.message.startsWith(`${file}: `) && !e.message.includes('\n'), e.message);
    assert.match(e.message, re);
    return true;
  });
  assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
}

/** A GIF written by omggif's encoder: indices row by row, one frame, optional transparency. */
function writeGif(width: number, height: number, palette: number[], indices: number[], transparent?: number): Uint8Array {
  const buf = new Uint8Array(1024 + width * height * 2);
  const w = new GifWriter(buf, width, height, { palette });
  w.addFrame(0, 0, width, height, indices, transparent === undefined ? {} : { transparent });
  return buf.slice(0, w.end());
}

describe('hostile images', () => {
  it('refuses decompression bombs from the header: PNG 60000×60000, JPEG 65535×65535, GIF screen 65535×65535, BMP and WebP', () => {
    const png = buildPng({ width: 2, height: 2, colorType: 2, bitDepth: 8, samples: new Array(12).fill(7), ihdrWidth: 60000, ihdrHeight: 60000 });
    refusedFast(png, 'bomb.png', /image is 60000×60000 \(3600 megapixels\), over the 50 megapixel limit/);

    const jpg = corpus('baseline.jpg').slice();
    const sof = jpg.findIndex((b, i) => b === 0xff && jpg[i + 1] === 0xc0);
    jpg.set([0xff, 0xff, 0xff, 0xff], sof + 5); // height, width (big-endian)
    refusedFast(jpg, 'bomb.jpg', /image is 65535×65535 \(4295 megapixels\), over the 50 megapixel limit/);

    const gif = corpus('animated.gif').slice();
    gif.set([0xff, 0xff, 0xff, 0xff], 6); // logical screen width, height (little-endian)
    refusedFast(gif, 'bomb.gif', /image is 65535×65535/);

    const bmp = corpus('rgb24.bmp').slice();
    new DataView(bmp.buffer).setInt32(18, 100000, true);
    new DataView(bmp.buffer).setInt32(22, -100000, true); // top-down
    refusedFast(bmp, 'bomb.bmp', /image is 100000×100000 \(10000 megapixels\)/);

    const webp = corpus('lossless.webp');
    // An extended (VP8X) header claiming 16384×16384 in front of the lossless image chunk.
    const vp8x = Buffer.alloc(18);
    vp8x.write('VP8X', 0, 'latin1');
    vp8x.writeUInt32LE(10, 4);
    vp8x.writeUIntLE(16383, 12, 3);
    vp8x.writeUIntLE(16383, 15, 3);
    const body = Buffer.concat([Buffer.from('WEBP'), vp8x, Buffer.from(webp.subarray(12))]);
    const riff = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), body]);
    riff.writeUInt32LE(body.length, 4);
    refusedFast(riff, 'bomb.webp', /image is 16384×16384 \(268 megapixels\)/);
  });

  it('refuses a GIF frame far larger than its screen before decoding it (it took 75 s)', () => {
    const gif = corpus('animated.gif').slice();
    const desc = gif.indexOf(0x2c, 13);
    gif.set([0xff, 0xff, 0xff, 0xff], desc + 5); // the first frame's width, height
    refusedFast(gif, 'frame.gif', /the first GIF frame is 65535×65535, over the 50 megapixel limit/);
  });

  it('refuses LZW codes that would keep the GIF decoder looping forever', () => {
    // The fuzz case: the first frame's codes (minimum size 2, so codes 4 = clear, 5 = end, 6.. table) replaced.
    const gif = corpus('animated.gif').slice();
    const desc = gif.indexOf(0x2c, 13);
    gif.set([0x00, 0x00, 0xff, 0xff], desc + 12);
    refusedFast(gif, 'loop.gif', /truncated or corrupt GIF data \(invalid LZW data in the first frame: code \d+ refers to no table entry/);
    const big = corpus('animated.gif').slice();
    big[desc + 10] = 200; // minimum code size: 1 << 200 is not a table size
    refusedFast(big, 'size.gif', /LZW minimum code size 200/);
  });

  it('the LZW check accepts what a real encoder writes (random images, 2 to 256 colours, tables up to 12-bit codes)', () => {
    const rng = makeRng(8);
    for (let t = 0; t < 30; t++) {
      const colours = [2, 4, 16, 64, 256][t % 5];
      const width = 1 + Math.floor(rng() * 120);
      const height = 1 + Math.floor(rng() * 90);
      const palette = Array.from({ length: colours }, (_, i) => (i * 0x010203 * 7) & 0xffffff);
      // Runs of repeated indices as well as noise, so that long table entries and the KwKwK case occur.
      const indices = Array.from({ length: width * height }, (_, i) => (t % 2 ? Math.floor(rng() * colours) : Math.floor(i / 7) % colours));
      const gif = writeGif(width, height, palette, indices);
      const frameStart = gif.indexOf(0x2c, 13 + colours * 3) + 10;
      assert.equal(gifLzwProblem(gif, frameStart, width * height), null, `image ${t} (${width}x${height}, ${colours} colours)`);
      const img = decodeImage(gif, `random-${t}.gif`);
      for (let i = 0; i < width * height; i++) {
        const c = palette[indices[i]];
        assert.deepEqual([img.data[i * 4], img.data[i * 4 + 1], img.data[i * 4 + 2], img.data[i * 4 + 3]], [c >> 16, (c >> 8) & 255, c & 255, 255]);
      }
    }
  });

  it('decodes the first frame of an animated GIF only, with its transparency', () => {
    // test/fuzz/corpus/images/animated.gif (scripts/fuzz/make-corpus.ts): 6×5, palette [black, red, green, blue],
    // frame 1 indices (y*6+x) % 4 with index 0 transparent; frame 2 paints a 3×2 patch at (1,1) in other colours.
    const img = decodeImage(corpus('animated.gif'), 'animated.gif');
    assert.deepEqual([img.width, img.height], [6, 5]);
    const colours = [[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]];
    for (let y = 0; y < 5; y++) {
      for (let x = 0; x < 6; x++) {
        const k = (y * 6 + x) % 4;
        const i = (y * 6 + x) * 4;
        const got = [img.data[i], img.data[i + 1], img.data[i + 2], img.data[i + 3]];
        assert.deepEqual(got, k === 0 ? [0, 0, 0, 0] : [...colours[k], 255], `pixel ${x},${y}`);
      }
    }
  });

  it('names 16-bit JPEGs as unsupported instead of calling them corrupt', () => {
    const jpg = corpus('baseline.jpg').slice();
    const sof = jpg.findIndex((b, i) => b === 0xff && jpg[i + 1] === 0xc0);
    jpg[sof + 4] = 16; // sample precision
    refusedFast(jpg, 'deep.jpg', /16-bit JPEG is not supported \(8-bit expected\)$/);
  });

  it('refuses a FIFO or a device instead of blocking on it', async function () {
    const dir = tmpDir('cnn-lens-hostile-img-');
    try {
      const fifo = path.join(dir, 'pipe.png');
      try {
        execFileSync('mkfifo', [fifo]);
      } catch {
        console.log('      (skipped: mkfifo is not available)');
        return this.skip();
      }
      await assert.rejects(readImageFile(fifo), (e: Error) => e.message === `${fifo}: is not a regular file`);
      await assert.rejects(readImageFile('/dev/zero'), (e: Error) => e.message === '/dev/zero: is not a regular file');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
