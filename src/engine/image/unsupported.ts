/** A readable image that uses a feature we do not decode (RLE BMP, animated WebP, lossless JPEG...). */
export class UnsupportedImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedImageError';
  }
}
