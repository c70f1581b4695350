import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, openSync, ftruncateSync, closeSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import * as jpeg from 'jpeg-js';
import { GifWriter } from 'omggif';
import { decodeImage, readImageFile, readImageHeader, sniffImageFormat, type RgbaImage } from '../../../src/engine/image/decode';
import { buildFlatJpeg, buildBmp, buildPng, exifApp1, fixturePath, insertAfterSoi, maxAbsDiff, rng } from './helpers';

function pixel(img: RgbaImage, x: number, y: number): number[] {
  const o = (y * img.width + x) * 4;
  return Array.from(img.data.subarray(o, o + 4));
}

function throwsLike(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof Error, 'an Error');
    assert.match(e.message, re);
    assert.ok(!e.message.includes('\n'), `one line: ${e.message}`);
    return true;
  });
}

describe('image/decode: PNG', () => {
  it('decodes 8-bit RGBA written by pngjs pixel for pixel', () => {
    const r = rng(1);
    const png = new PNG({ width: 7, height: 5 });
    for (let i = 0; i < png.data.length; i++) png.data[i] = Math.floor(r() * 256);
    const img = decodeImage(PNG.sync.write(png), 'rgba.png');
    assert.equal(img.width, 7);
    assert.equal(img.height, 5);
    assert.ok(img.data instanceof Uint8ClampedArray);
    assert.deepEqual(Array.from(img.data), Array.from(png.data));
  });

  it('decodes 16-bit gray built by hand, scaling 16 bits to 8 (v * 255 / 65535, rounded)', () => {
    const samples = [0, 257, 32768, 65535, 1000, 40000];
    const img = decodeImage(buildPng({ width: 3, height: 2, colorType: 0, bitDepth: 16, samples }), 'gray16.png');
    samples.forEach((v, i) => {
      const g = Math.round((v * 255) / 65535);
      assert.deepEqual(pixel(img, i % 3, Math.floor(i / 3)), [g, g, g, 255], `sample ${v}`);
    });
  });

  it('decodes 16-bit RGBA built by hand', () => {
    const samples = [65535, 0, 0, 65535, 0, 32896, 65535, 0];
    const img = decodeImage(buildPng({ width: 2, height: 1, colorType: 6, bitDepth: 16, samples }), 'rgba16.png');
    assert.deepEqual(pixel(img, 0, 0), [255, 0, 0, 255]);
    assert.deepEqual(pixel(img, 1, 0), [0, 128, 255, 0]);
  });

  it('decodes gray+alpha, RGB, 1-bit gray and palette with tRNS', () => {
    const ga = decodeImage(buildPng({ width: 2, height: 1, colorType: 4, bitDepth: 8, samples: [10, 255, 200, 0] }), 'ga.png');
    assert.deepEqual(pixel(ga, 0, 0), [10, 10, 10, 255]);
    assert.deepEqual(pixel(ga, 1, 0), [200, 200, 200, 0]);
    const rgb = decodeImage(buildPng({ width: 1, height: 2, colorType: 2, bitDepth: 8, samples: [1, 2, 3, 250, 251, 252] }), 'rgb.png');
    assert.deepEqual(pixel(rgb, 0, 0), [1, 2, 3, 255]);
    assert.deepEqual(pixel(rgb, 0, 1), [250, 251, 252, 255]);
    const bits = decodeImage(buildPng({ width: 9, height: 1, colorType: 0, bitDepth: 1, samples: [1, 0, 1, 1, 0, 0, 0, 1, 1] }), 'bits.png');
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map((x) => pixel(bits, x, 0)[0]), [255, 0, 255, 255, 0, 0, 0, 255, 255]);
    const pal = decodeImage(
      buildPng({ width: 3, height: 1, colorType: 3, bitDepth: 8, samples: [2, 0, 1], palette: [[255, 0, 0], [0, 255, 0], [0, 0, 255]], trns: [255, 100] }),
      'pal.png',
    );
    assert.deepEqual(pixel(pal, 0, 0), [0, 0, 255, 255]); // entry 2 has no tRNS value: opaque
    assert.deepEqual(pixel(pal, 1, 0), [255, 0, 0, 255]);
    assert.deepEqual(pixel(pal, 2, 0), [0, 255, 0, 100]);
  });

  it('refuses an image whose IHDR says 100000x100000 from the header, before touching its (garbage) data', () => {
    const huge = buildPng({ width: 1, height: 1, colorType: 6, bitDepth: 8, samples: [0, 0, 0, 0], ihdrWidth: 100000, ihdrHeight: 100000, idat: Uint8Array.from([1, 2, 3]) });
    assert.ok(huge.length < 100);
    assert.deepEqual(readImageHeader(huge, 'huge.png'), { format: 'png', width: 100000, height: 100000 });
    // Were the data decoded, the error would be about corrupt zlib data, not the size.
    throwsLike(() => decodeImage(huge, 'huge.png'), /^huge\.png: image is 100000×100000 \(10000 megapixels\), over the 50 megapixel limit$/);
    throwsLike(() => decodeImage(huge, 'huge.png', { maxPixels: 2.5e9 }), /^huge\.png: image is 100000×100000 \(10000 megapixels\), over the 2500 megapixel limit$/);
    throwsLike(() => decodeImage(buildPng({ width: 30, height: 30, colorType: 0, bitDepth: 8, samples: new Array(900).fill(0) }), 'x.png', { maxPixels: 899 }), /^x\.png: image is 30×30 \(0\.0009 megapixels\), over the 0\.0009 megapixel limit$/);
  });

  it('gives one-line errors for truncated and corrupt PNGs', () => {
    const good = buildPng({ width: 8, height: 8, colorType: 2, bitDepth: 8, samples: Array.from({ length: 192 }, (_, i) => i) });
    assert.equal(decodeImage(good, 'ok.png').width, 8);
    for (const cut of [12, 30, good.length - 30, good.length - 13]) {
      throwsLike(() => decodeImage(good.subarray(0, cut), 'cat.png'), /^cat\.png: (truncated or corrupt PNG data \(.+\)|corrupt PNG)/);
    }
    const flipped = Buffer.from(good);
    flipped[40] ^= 0xff; // inside IDAT: the CRC no longer matches
    throwsLike(() => decodeImage(flipped, 'cat.png'), /^cat\.png: truncated or corrupt PNG data \(/);
  });
});

describe('image/decode: JPEG', () => {
  function pattern(w: number, h: number): Buffer {
    // Smooth enough for JPEG: four flat quadrants aligned to 8x8 blocks.
    const data = Buffer.alloc(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const q = (y < h / 2 ? 0 : 2) + (x < w / 2 ? 0 : 1);
        const c = [[220, 20, 20], [20, 200, 40], [30, 40, 220], [250, 250, 250]][q];
        data.set([...c, 255], (y * w + x) * 4);
      }
    }
    return data;
  }

  it('round-trips a jpeg-js baseline JPEG within JPEG tolerance', () => {
    const src = pattern(32, 16);
    const bytes = jpeg.encode({ width: 32, height: 16, data: src }, 95).data;
    assert.deepEqual(readImageHeader(bytes, 'p.jpg'), { format: 'jpeg', width: 32, height: 16 });
    const img = decodeImage(bytes, 'p.jpg');
    assert.equal(img.width, 32);
    assert.equal(img.height, 16);
    // Block centres are far from edges, where chroma subsampling and ringing are small.
    for (const [x, y] of [[4, 4], [20, 4], [4, 12], [28, 12]]) {
      const o = (y * 32 + x) * 4;
      assert.ok(maxAbsDiff(pixel(img, x, y).slice(0, 3), Array.from(src.subarray(o, o + 3))) <= 12, `pixel ${x},${y}`);
      assert.equal(pixel(img, x, y)[3], 255);
    }
  });

  it('decodes a progressive JPEG to exactly the pixels of the baseline JPEG with the same coefficients', () => {
    // Both fixtures were written by libjpeg (ImageMagick) from pattern.png at the same quality; a progressive file
    // orders the same DCT coefficients differently, so a decoder must give identical pixels.
    const prog = readFileSync(fixturePath('pattern-progressive.jpg'));
    const base = readFileSync(fixturePath('pattern-baseline.jpg'));
    assert.ok(prog.includes(Buffer.from([0xff, 0xc2])), 'the fixture is progressive (SOF2)');
    const a = decodeImage(prog, 'progressive.jpg');
    const b = decodeImage(base, 'baseline.jpg');
    assert.equal(a.width, 24);
    assert.equal(a.height, 16);
    assert.deepEqual(Array.from(a.data), Array.from(b.data));
    // and close to the source (flattened over white where it was half transparent)
    const src = decodeImage(readFileSync(fixturePath('pattern.png')), 'pattern.png');
    assert.ok(maxAbsDiff(pixel(a, 3, 3).slice(0, 3), pixel(src, 3, 3).slice(0, 3)) <= 16);
  });

  // The displayed image for each orientation, as an operation on a 2x2 grid of quadrant labels
  // (rows top to bottom), following the EXIF 2.3 definitions of the tag values.
  const quads = [['R', 'G'], ['B', 'W']];
  const transpose = (m: string[][]) => m[0].map((_, i) => m.map((r) => r[i]));
  const flipH = (m: string[][]) => m.map((r) => [...r].reverse());
  const flipV = (m: string[][]) => [...m].reverse();
  const rotCw = (m: string[][]) => flipH(transpose(m));
  const displayed: Record<number, string[][]> = {
    1: quads,
    2: flipH(quads), // mirrored left-right
    3: flipV(flipH(quads)), // rotated 180
    4: flipV(quads), // mirrored top-bottom
    5: transpose(quads), // mirrored left-right then rotated 90 counter-clockwise = transpose
    6: rotCw(quads), // needs a 90 degree clockwise rotation to display
    7: flipV(flipH(transpose(quads))), // transverse
    8: flipV(transpose(quads)), // needs a 90 degree counter-clockwise rotation
  };
  const colour: Record<string, number[]> = { R: [220, 20, 20], G: [20, 200, 40], B: [30, 40, 220], W: [250, 250, 250] };

  for (const littleEndian of [true, false]) {
    it(`applies EXIF orientation 1-8 (${littleEndian ? 'II' : 'MM'} byte order) to a 32x16 quadrant pattern`, () => {
      const base = jpeg.encode({ width: 32, height: 16, data: pattern(32, 16) }, 95).data;
      for (let o = 1; o <= 8; o++) {
        const bytes = insertAfterSoi(base, exifApp1(o, littleEndian));
        const swap = o >= 5;
        const header = readImageHeader(bytes, 'o.jpg');
        assert.deepEqual([header.width, header.height], swap ? [16, 32] : [32, 16], `header size, orientation ${o}`);
        const img = decodeImage(bytes, 'o.jpg');
        assert.deepEqual([img.width, img.height], [header.width, header.height]);
        const grid = displayed[o];
        for (let qy = 0; qy < 2; qy++) {
          for (let qx = 0; qx < 2; qx++) {
            const x = Math.floor(((qx + 0.5) * img.width) / 2);
            const y = Math.floor(((qy + 0.5) * img.height) / 2);
            const got = pixel(img, x, y).slice(0, 3);
            assert.ok(maxAbsDiff(got, colour[grid[qy][qx]]) <= 12, `orientation ${o}: quadrant ${qx},${qy} should be ${grid[qy][qx]}, got ${got}`);
          }
        }
      }
    });
  }

  it('converts Adobe CMYK (inverted, as Photoshop writes it) and YCCK JPEGs to RGB', () => {
    // Stored CMYK values in the Adobe convention: 255 means no ink. RGB = stored C * stored K / 255, etc.
    const cmykBlocks = [[[255, 255, 255, 255], [0, 255, 255, 255]], [[255, 0, 128, 200], [40, 90, 160, 60]]];
    const img = decodeImage(buildFlatJpeg(cmykBlocks, 0), 'cmyk.jpg');
    assert.equal(img.width, 16);
    for (let by = 0; by < 2; by++) {
      for (let bx = 0; bx < 2; bx++) {
        const [c, m, y, k] = cmykBlocks[by][bx];
        const expected = [(c * k) / 255, (m * k) / 255, (y * k) / 255];
        assert.ok(maxAbsDiff(pixel(img, bx * 8 + 3, by * 8 + 4).slice(0, 3), expected) <= 1.01, `block ${bx},${by}: ${pixel(img, bx * 8 + 3, by * 8 + 4)} vs ${expected}`);
      }
    }
    // YCCK: the first three channels are YCbCr (JFIF equations) of the inverted CMY; K is stored inverted.
    const ycckBlocks = [[[200, 100, 150, 255], [60, 128, 128, 128]]];
    const img2 = decodeImage(buildFlatJpeg(ycckBlocks, 2), 'ycck.jpg');
    for (let bx = 0; bx < 2; bx++) {
      const [Y, Cb, Cr, K] = ycckBlocks[0][bx];
      const clamp = (v: number) => Math.min(255, Math.max(0, v));
      const rgbOfYcc = [clamp(Y + 1.402 * (Cr - 128)), clamp(Y - 0.344136 * (Cb - 128) - 0.714136 * (Cr - 128)), clamp(Y + 1.772 * (Cb - 128))];
      const expected = rgbOfYcc.map((v) => ((255 - v) * K) / 255);
      assert.ok(maxAbsDiff(pixel(img2, bx * 8 + 4, 4).slice(0, 3), expected) <= 1.51, `YCCK block ${bx}: ${pixel(img2, bx * 8 + 4, 4)} vs ${expected}`);
    }
    // Without the Adobe marker the CMYK convention is unknown: refused with a clear message.
    const noAdobe = buildFlatJpeg(cmykBlocks, 0);
    const app14 = noAdobe.indexOf(Buffer.from([0xff, 0xee]));
    const len = noAdobe.readUInt16BE(app14 + 2);
    const stripped = Buffer.concat([noAdobe.subarray(0, app14), noAdobe.subarray(app14 + 2 + len)]);
    throwsLike(() => decodeImage(stripped, 'cmyk.jpg'), /^cmyk\.jpg: 4-channel JPEG without an Adobe marker .* not supported$/);
  });

  it('decodes one-component (grayscale) JPEGs to gray RGB', () => {
    const blocks = [[[0], [77], [255]], [[128], [200], [13]]];
    const img = decodeImage(buildFlatJpeg(blocks), 'gray.jpg');
    assert.deepEqual([img.width, img.height], [24, 16]);
    for (let by = 0; by < 2; by++) {
      for (let bx = 0; bx < 3; bx++) {
        const v = blocks[by][bx][0];
        for (const [dx, dy] of [[0, 0], [7, 7], [3, 5]]) assert.deepEqual(pixel(img, bx * 8 + dx, by * 8 + dy), [v, v, v, 255]);
      }
    }
  });

  it('names JPEG kinds it cannot decode (lossless, 12-bit) instead of calling them corrupt', () => {
    const good = buildFlatJpeg([[[100]]]);
    const sof = good.indexOf(Buffer.from([0xff, 0xc0]));
    const lossless = Buffer.from(good);
    lossless[sof + 1] = 0xc3;
    throwsLike(() => decodeImage(lossless, 'l.jpg'), /^l\.jpg: lossless JPEG is not supported \(baseline and progressive are\)$/);
    const deep = Buffer.from(good);
    deep[sof + 4] = 12; // sample precision
    throwsLike(() => decodeImage(deep, 'd.jpg'), /^d\.jpg: 12-bit JPEG is not supported/);
  });

  it('refuses truncated JPEGs and oversized ones from the header', () => {
    const bytes = jpeg.encode({ width: 64, height: 48, data: pattern(64, 48) }, 90).data;
    for (const cut of [3, 100, bytes.length - 40, bytes.length - 2]) {
      throwsLike(() => decodeImage(bytes.subarray(0, cut), 'photo.jpg'), /^photo\.jpg: truncated or corrupt JPEG data \(.+\)$/);
    }
    throwsLike(() => decodeImage(bytes, 'photo.jpg', { maxPixels: 3000 }), /^photo\.jpg: image is 64×48 \(0\.0031 megapixels\), over the 0\.003 megapixel limit$/);
  });
});

describe('image/decode: GIF, BMP, WebP', () => {
  it('decodes the first GIF frame onto a transparent canvas', () => {
    const buf = new Uint8Array(1024);
    const gw = new GifWriter(buf, 4, 3, { palette: [0xff0000, 0x00ff00, 0x0000ff, 0xffffff], loop: 0 });
    // frame 0 covers only x 1..2, y 0..1; index 3 transparent
    gw.addFrame(1, 0, 2, 2, [0, 1, 2, 3], { transparent: 3 });
    gw.addFrame(0, 0, 4, 3, new Array(12).fill(0));
    const bytes = buf.subarray(0, gw.end());
    assert.equal(sniffImageFormat(bytes), 'gif');
    const img = decodeImage(bytes, 'a.gif');
    assert.equal(img.width, 4);
    assert.equal(img.height, 3);
    assert.deepEqual(pixel(img, 1, 0), [255, 0, 0, 255]);
    assert.deepEqual(pixel(img, 2, 0), [0, 255, 0, 255]);
    assert.deepEqual(pixel(img, 1, 1), [0, 0, 255, 255]);
    assert.equal(pixel(img, 2, 1)[3], 0, 'transparent index');
    assert.equal(pixel(img, 0, 0)[3], 0, 'outside the first frame');
    assert.equal(pixel(img, 3, 2)[3], 0, 'outside the first frame');
    throwsLike(() => decodeImage(bytes.subarray(0, 30), 'a.gif'), /^a\.gif: truncated or corrupt GIF data \(/);
    throwsLike(() => decodeImage(bytes, 'a.gif', { maxPixels: 11 }), /^a\.gif: image is 4×3 /);
  });

  it('decodes 24-bit bottom-up and 32-bit top-down BMPs', () => {
    const px = [[255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30], [40, 50, 60], [70, 80, 90]];
    // width 3 makes 9-byte rows padded to 12
    const b24 = decodeImage(buildBmp({ width: 3, height: 2, bpp: 24, pixels: px }), 'a.bmp');
    px.forEach((p, i) => assert.deepEqual(pixel(b24, i % 3, Math.floor(i / 3)), [...p, 255]));
    const b32 = decodeImage(buildBmp({ width: 3, height: 2, bpp: 32, pixels: px.map((p) => [...p, 0]), topDown: true }), 'b.bmp');
    px.forEach((p, i) => assert.deepEqual(pixel(b32, i % 3, Math.floor(i / 3)), [...p, 255]), 'all-zero fourth bytes are not alpha');
    const withAlpha = decodeImage(buildBmp({ width: 3, height: 2, bpp: 32, pixels: px.map((p, i) => [...p, i * 40]) }), 'c.bmp');
    px.forEach((p, i) => assert.deepEqual(pixel(withAlpha, i % 3, Math.floor(i / 3)), [...p, i * 40]));
  });

  it('decodes 8-bit palette and 16-bit 5-6-5 bitfield BMPs', () => {
    const pal = decodeImage(buildBmp({ width: 2, height: 2, bpp: 8, pixels: [[1], [0], [2], [1]], palette: [[9, 8, 7], [200, 100, 50], [0, 0, 0]] }), 'p.bmp');
    assert.deepEqual(pixel(pal, 0, 0), [200, 100, 50, 255]);
    assert.deepEqual(pixel(pal, 1, 0), [9, 8, 7, 255]);
    assert.deepEqual(pixel(pal, 0, 1), [0, 0, 0, 255]);
    const pack = (r: number, g: number, b: number) => (r << 11) | (g << 5) | b; // 5, 6, 5 bits
    const b16 = decodeImage(buildBmp({ width: 2, height: 1, bpp: 16, pixels: [[pack(31, 0, 0)], [pack(16, 63, 8)]], masks: [0xf800, 0x07e0, 0x001f] }), 'h.bmp');
    assert.deepEqual(pixel(b16, 0, 0), [255, 0, 0, 255]);
    assert.deepEqual(pixel(b16, 1, 0), [Math.round((16 * 255) / 31), 255, Math.round((8 * 255) / 31), 255]);
    const rle = buildBmp({ width: 2, height: 2, bpp: 8, pixels: [[0], [0], [0], [0]], palette: [[0, 0, 0]] });
    rle.writeUInt32LE(1, 30); // BI_RLE8
    throwsLike(() => decodeImage(rle, 'r.bmp'), /^r\.bmp: RLE-compressed BMP is not supported$/);
    throwsLike(() => decodeImage(buildBmp({ width: 3, height: 2, bpp: 24, pixels: new Array(6).fill([0, 0, 0]) }).subarray(0, 60), 't.bmp'), /^t\.bmp: truncated or corrupt BMP data \(pixel data ends early\)$/);
  });

  it('decodes lossless and lossy WebP (fixtures made with cwebp from pattern.png)', () => {
    const src = decodeImage(readFileSync(fixturePath('pattern.png')), 'pattern.png');
    const lossless = readFileSync(fixturePath('pattern-lossless.webp'));
    assert.deepEqual(readImageHeader(lossless, 'l.webp'), { format: 'webp', width: 24, height: 16 });
    const a = decodeImage(lossless, 'l.webp');
    assert.deepEqual(Array.from(a.data), Array.from(src.data), 'cwebp -lossless -exact keeps every RGBA value');
    const lossy = readFileSync(fixturePath('pattern-lossy.webp'));
    const b = decodeImage(lossy, 'q.webp');
    assert.equal(b.width, 24);
    assert.equal(b.height, 16);
    for (const [x, y] of [[3, 3], [18, 3], [3, 12]]) assert.ok(maxAbsDiff(pixel(b, x, y).slice(0, 3), pixel(src, x, y).slice(0, 3)) <= 24, `pixel ${x},${y}`);
    throwsLike(() => decodeImage(lossless.subarray(0, lossless.length - 20), 'l.webp'), /^l\.webp: truncated or corrupt WebP data \(/);
    throwsLike(() => decodeImage(readFileSync(fixturePath('animated.webp')), 'anim.webp'), /^anim\.webp: animated WebP is not supported/);
    throwsLike(() => decodeImage(lossless, 'l.webp', { maxPixels: 100 }), /^l\.webp: image is 24×16 /);
  });
});

describe('image/decode: not images, files', () => {
  it('names the file and what was expected', () => {
    throwsLike(() => decodeImage(Buffer.from('Shopping list:\n- eggs\n'), 'notes.txt'), /^notes\.txt: not an image \(PNG, JPEG, GIF, BMP or WebP expected\)$/);
    throwsLike(() => decodeImage(new Uint8Array(0), 'empty.png'), /^empty\.png: empty file, not an image/);
    throwsLike(() => decodeImage(Buffer.from([0x49, 0x49, 0x2a, 0x00, 8, 0, 0, 0]), 'scan.tif'), /^scan\.tif: TIFF images are not supported \(PNG, JPEG, GIF, BMP or WebP expected\)$/);
    throwsLike(() => decodeImage(Buffer.from('BM this is text, not a bitmap'), 'bm.txt'), /^bm\.txt: not an image/);
    // a PNG named .jpg is read as what it is
    const png = buildPng({ width: 1, height: 1, colorType: 0, bitDepth: 8, samples: [77] });
    assert.deepEqual(pixel(decodeImage(png, 'misnamed.jpg'), 0, 0), [77, 77, 77, 255]);
  });

  describe('readImageFile', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'cnn-lens-img-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('reads a file', async () => {
      const f = join(dir, 'one.png');
      writeFileSync(f, buildPng({ width: 2, height: 1, colorType: 2, bitDepth: 8, samples: [1, 2, 3, 4, 5, 6] }));
      const img = await readImageFile(f);
      assert.deepEqual(pixel(img, 1, 0), [4, 5, 6, 255]);
    });

    it('refuses missing files, folders and files over 512 MB by their size', async () => {
      await assert.rejects(readImageFile(join(dir, 'nope.png')), /nope\.png: file not found$/);
      mkdirSync(join(dir, 'folder.png'));
      await assert.rejects(readImageFile(join(dir, 'folder.png')), /folder\.png: is a folder, not an image file$/);
      // A sparse 600 MB file: refused by stat, never read (reading it would take noticeable time and memory).
      const big = join(dir, 'big.png');
      const fd = openSync(big, 'w');
      ftruncateSync(fd, 600 * 1024 * 1024);
      closeSync(fd);
      await assert.rejects(readImageFile(big), /big\.png: file is 600 MB, over the 512 MB limit for images$/);
    });
  });
});
