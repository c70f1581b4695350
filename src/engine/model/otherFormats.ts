// Model files of formats CNN Lens does not read, recognized by their extension or their first bytes, so that
// opening one says what the file is and what opens it, instead of "not valid JSON".
import * as fs from 'node:fs';
import * as path from 'node:path';

const EXPORT_ONNX = 'export it to ONNX with torch.onnx.export';

const BY_EXTENSION: Record<string, string> = {
  '.pt': `is a PyTorch file (pickled Python objects), which only PyTorch can read; ${EXPORT_ONNX}`,
  '.pth': `is a PyTorch file (pickled Python objects), which only PyTorch can read; ${EXPORT_ONNX}`,
  '.pt2': `is a PyTorch 2 exported program, which only PyTorch can read; ${EXPORT_ONNX}`,
  '.ckpt': `is a training checkpoint (PyTorch Lightning or TensorFlow), which only its framework can read; load the model there and ${EXPORT_ONNX} (PyTorch) or save it as .keras (Keras)`,
  '.safetensors': `holds tensors only, without the network that uses them; load them into the model in PyTorch and ${EXPORT_ONNX}`,
  '.pkl': `is a pickled Python object, which only Python can read; load it there and ${EXPORT_ONNX} (PyTorch) or save it as .keras (Keras)`,
  '.pickle': `is a pickled Python object, which only Python can read; load it there and ${EXPORT_ONNX} (PyTorch) or save it as .keras (Keras)`,
  '.joblib': `is a joblib dump of Python objects, which only Python can read; load it there and ${EXPORT_ONNX} (PyTorch) or save it as .keras (Keras)`,
  '.pb': 'is a TensorFlow SavedModel or frozen graph (protocol buffers); convert it with tensorflowjs_converter --input_format=tf_saved_model (or tf_frozen_model) and open the model.json it writes',
  '.tflite': 'is a TensorFlow Lite model, which keeps no gradients; open the model it was converted from (.keras, .h5, or a SavedModel converted with tensorflowjs_converter)',
  '.mlmodel': 'is a Core ML model, which only Apple\'s Core ML reads; open the model it was converted from (Keras .keras/.h5, or ONNX)',
  '.caffemodel': 'is a Caffe model; convert it to ONNX (or Keras) first',
  '.params': 'is an MXNet parameter file (weights only); export the network to ONNX with mxnet.onnx.export_model',
  '.npy': 'is a NumPy array, not a model (CNN Lens writes these with --raw)',
  '.npz': 'is a NumPy archive of arrays, without the network that uses them; save the model as .keras or export it to ONNX',
  '.bin': 'is a weight file of a TensorFlow.js model; open the model.json beside it',
  '.index': 'is part of a TensorFlow checkpoint (weights only); load it into the model in TensorFlow and save it as .keras',
};

/** Recognizes PyTorch's zip files, Python pickles and TensorFlow Lite flatbuffers from their first bytes. */
function sniff(file: string): string | null {
  const b = readHead(file, 512);
  if (!b) return null;
  const n = b.length;
  if (n >= 4 && b.readUInt32LE(0) === 0x04034b50) {
    // A zip: PyTorch's torch.save writes "<name>/data.pkl" as its first member.
    const nameLen = n >= 28 ? b.readUInt16LE(26) : 0;
    const first = b.subarray(30, 30 + nameLen).toString('latin1');
    if (/(^|\/)data\.pkl$/.test(first) || /(^|\/)version$/.test(first)) return BY_EXTENSION['.pt'];
    return null;
  }
  if (n >= 2 && b[0] === 0x80 && b[1] >= 2 && b[1] <= 5) return BY_EXTENSION['.pkl'];
  if (n >= 8 && b.subarray(4, 8).toString('latin1') === 'TFL3') return BY_EXTENSION['.tflite'];
  return null;
}

/** The file's first `size` bytes (fewer when it is shorter), or null when it cannot be read. */
function readHead(file: string, size: number): Buffer | null {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return null;
  }
  try {
    const b = Buffer.alloc(size);
    return b.subarray(0, fs.readSync(fd, b, 0, size, 0));
  } catch {
    return null;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A stand-in for the model rather than the model, whatever its extension: a Git LFS pointer (a clone without
 * `git lfs pull`: a 130-byte text file named model.h5) or a web page saved instead of the file (the GitHub page
 * of model.onnx, downloaded with "Save link as"). Both are common in repositories of trained models.
 */
export function standInProblem(file: string): string | null {
  const head = readHead(file, 1024)?.toString('latin1');
  if (head === undefined) return null;
  // An interrupted download or copy (also what a repository snapshot without its large files holds).
  if (head.length === 0) return 'is empty (0 bytes): the download or copy did not finish; get the file again';
  if (head.startsWith('version https://git-lfs.github.com/spec/')) {
    const size = /\nsize (\d+)/.exec(head)?.[1];
    const real = size ? ` (the real file has ${(Number(size) / 1e6).toFixed(1)} MB)` : '';
    return `is a Git LFS pointer, not the model${real}: run 'git lfs pull' in the repository, or download the file itself`;
  }
  if (/^[\s\ufeff]*(<!doctype html|<html)/i.test(head)) return 'is a web page (HTML), not a model: it was saved from a browser instead of the file; download the raw file';
  return null;
}

/**
 * What the file is and what opens it, when it is a model format CNN Lens does not read; null otherwise.
 * `.onnx` is not named here: ONNX files have their own reader.
 */
export function otherFormatProblem(file: string): string | null {
  const ext = path.extname(file).toLowerCase();
  if (Object.prototype.hasOwnProperty.call(BY_EXTENSION, ext)) return BY_EXTENSION[ext];
  if (/\.data-\d+-of-\d+$/.test(file)) return BY_EXTENSION['.index'];
  if (['.json', '.h5', '.hdf5', '.keras', '.onnx'].includes(ext)) return ext === '.json' ? sniff(file) : null;
  return sniff(file);
}
