// PNG encoding of RGBA images (8-bit RGBA, no filtering choices to make: pngjs picks per row).
import { PNG } from 'pngjs';
import type { RgbaImage } from './decode';

export function encodePng(img: RgbaImage): Buffer {
  const { width, height, data } = img;
  if (data.length !== width * height * 4) throw new Error(`encodePng: ${data.length} bytes for a ${width}x${height} RGBA image`);
  const png = new PNG({ width, height });
  png.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return PNG.sync.write(png, { colorType: 6, inputColorType: 6, bitDepth: 8 });
}
