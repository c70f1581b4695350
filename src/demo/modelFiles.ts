// Minimal fs-based TensorFlow.js IO handlers for the demo model (model.json + one weights file).
// tfjs-node's file:// handler is not available without the native backend; the engine's own model
// loader supersedes loadHandler for general models, this covers the demo's training script and tests.
import * as tf from '@tensorflow/tfjs-core';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const DEMO_WEIGHTS_FILE = 'weights.bin';

/** Saves a model as dir/model.json + dir/weights.bin. */
export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    if (!(artifacts.modelTopology instanceof Object) || artifacts.modelTopology instanceof ArrayBuffer) {
      throw new Error(`${dir}: only JSON model topologies can be saved`);
    }
    fs.mkdirSync(dir, { recursive: true });
    const data = artifacts.weightData ? tf.io.CompositeArrayBuffer.join(artifacts.weightData) : new ArrayBuffer(0);
    const json: tf.io.ModelJSON = {
      modelTopology: artifacts.modelTopology,
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_core}`,
      convertedBy: null,
      weightsManifest: [{ paths: [DEMO_WEIGHTS_FILE], weights: artifacts.weightSpecs ?? [] }],
    };
    if (artifacts.trainingConfig) json.trainingConfig = artifacts.trainingConfig;
    if (artifacts.userDefinedMetadata) json.userDefinedMetadata = artifacts.userDefinedMetadata;
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    fs.writeFileSync(path.join(dir, DEMO_WEIGHTS_FILE), Buffer.from(data));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: data.byteLength } };
  });
}

/** Loads a tfjs model.json and the weight files it lists (paths relative to the model.json). */
export function fileLoadHandler(modelJsonPath: string): tf.io.IOHandler {
  return {
    load: async () => {
      let json: tf.io.ModelJSON;
      try {
        json = JSON.parse(fs.readFileSync(modelJsonPath, 'utf8'));
      } catch (e) {
        throw new Error(`${modelJsonPath}: cannot read model.json (${(e as Error).message})`, { cause: e });
      }
      if (!json.modelTopology) throw new Error(`${modelJsonPath}: no modelTopology in model.json`);
      const dir = path.dirname(modelJsonPath);
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          for (const p of group.paths) {
            const file = path.join(dir, p);
            if (!fs.existsSync(file)) throw new Error(`${modelJsonPath}: weights file ${p} is missing`);
            const b = fs.readFileSync(file);
            buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
          }
        }
        return [tf.io.getWeightSpecs(manifest), tf.io.concatenateArrayBuffers(buffers)];
      });
    },
  };
}
