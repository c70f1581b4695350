// HiResCAM (Draelos & Carin 2020): ReLU(Σ_k G_k ⊙ A_k), the gradient times the activation without
// averaging the gradient over positions. On a GAP + dense head the gradient is the same at every position,
// so HiResCAM is Grad-CAM there; elsewhere it shows what the score actually uses at each position.
import type * as tf from '@tensorflow/tfjs-core';
import { camVariant, type CamWeights } from './gradCam';

export const hiResCamWeights: CamWeights = (_A, G) => G as tf.Tensor3D;

export const hiResCam = camVariant('hirescam', hiResCamWeights);
