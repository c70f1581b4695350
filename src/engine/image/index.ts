// The engine's image input/output layer: decoding files, preprocessing for models, rendering explanations,
// PNG and .npy output.
export { decodeImage, readImageFile, readImageHeader, sniffImageFormat, checkPixelLimit, DEFAULT_MAX_PIXELS, MAX_IMAGE_FILE_BYTES } from './decode';
export type { RgbaImage, ImageFormat, ImageHeader, DecodeOptions } from './decode';
export { resizeBilinear, resizeRgba, upscaleNearest } from './resize';
export { toModelInput, fromModelInput, presetRange, isPreprocessPreset, PREPROCESS_PRESETS, PRESET_DESCRIPTIONS, CAFFE_BGR_MEANS, TORCH_MEAN, TORCH_STD } from './preprocess';
export type { PreprocessPreset, ModelInputSpec } from './preprocess';
export { colormapLut, colormapValue, isColormapName, COLORMAPS, DEFAULT_COLORMAP } from './colormap';
export type { ColormapName } from './colormap';
export { heatmapOverlay, heatmapImage, renderSignedOrRgb, tileGrid, featureMapTiles, featureMapGrid, scaleChannel, normalizeMap, channelAbsMax, absPercentile } from './render';
export type { HeatmapOptions, OverlayOptions, SignedOptions, FeatureMapOptions, GridOptions } from './render';
export { drawText, textWidth, fitText } from './font';
export { encodePng } from './png';
export { encodeNpy, decodeNpy } from './npy';
