// The benchmark's models by name. Built models get seeded random weights (./seeded.ts); 'demo' is the
// project's demo model, loaded from disk like a user's model when it exists; the '-onnx' ones are PyTorch
// exports of the same architectures, loaded like a user's .onnx file (./onnx.ts).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type * as tfl from '@tensorflow/tfjs-layers';
import { loadAnyModel, wrapLayersModel, type LoadedModel } from '../../src/engine/model/loadModel';
import { buildInceptionV3 } from './inceptionV3';
import { buildMobileNetV2 } from './mobilenetV2';
import { isOnnxBenchName, ONNX_BENCH, onnxBenchFile } from './onnx';
import { buildResNet50 } from './resnet50';
import { countParams } from './seeded';
import { buildVgg16 } from './vgg16';

export const MODEL_NAMES = ['vgg16', 'mobilenetv2', 'inceptionv3', 'resnet50', 'vgg16-onnx', 'mobilenetv2-onnx', 'resnet50-onnx', 'demo'] as const;
export type BenchModelName = (typeof MODEL_NAMES)[number];

export interface BenchModel {
  name: BenchModelName;
  title: string;
  model: LoadedModel;
  params: number;
  weightBytes: number;
  buildMs: number;
}

const BUILDERS: Record<'vgg16' | 'mobilenetv2' | 'inceptionv3' | 'resnet50', { title: string; build: () => tfl.LayersModel }> = {
  vgg16: { title: 'VGG16 (224)', build: () => buildVgg16() },
  mobilenetv2: { title: 'MobileNetV2 α=1 (224)', build: () => buildMobileNetV2() },
  inceptionv3: { title: 'InceptionV3 (299)', build: () => buildInceptionV3() },
  resnet50: { title: 'ResNet-50 (224)', build: () => buildResNet50() },
};

/** media/demo/model.json of the repository (relative to the working directory or to this bundle). */
export function demoModelPath(): string | null {
  const candidates = [path.resolve('media/demo/model.json'), path.resolve(__dirname, '..', '..', 'media', 'demo', 'model.json')];
  return candidates.find((p) => fs.existsSync(p)) ?? null;
}

export async function openBenchModel(name: BenchModelName): Promise<BenchModel> {
  const t0 = performance.now();
  if (name === 'demo') {
    const file = demoModelPath();
    if (!file) throw new Error('media/demo/model.json: not present (the demo model has not been added yet)');
    const model = await loadAnyModel(file);
    const params = model.network ? countParams(model.network.model) : 0;
    return { name, title: `demo (${model.inputSize.height})`, model, params, weightBytes: params * 4, buildMs: performance.now() - t0 };
  }
  if (isOnnxBenchName(name)) {
    const model = await loadAnyModel(onnxBenchFile(name));
    const params = model.network ? countParams(model.network.model) : 0;
    return { name, title: ONNX_BENCH[name].title, model, params, weightBytes: params * 4, buildMs: performance.now() - t0 };
  }
  const spec = BUILDERS[name];
  const m = spec.build();
  const params = countParams(m);
  const model = wrapLayersModel(m, `bench/${name}/model.json`, {}, params * 4);
  return { name, title: spec.title, model, params, weightBytes: params * 4, buildMs: performance.now() - t0 };
}
