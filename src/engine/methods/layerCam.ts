// LayerCAM (Jiang et al. 2021): each position and channel weighted by its own positive gradient,
// ReLU(Σ_k ReLU(G_k) ⊙ A_k). Unlike Grad-CAM nothing is averaged over positions, which keeps shallow
// layers' maps sharp.
import * as tf from '@tensorflow/tfjs-core';
import { camVariant, type CamWeights } from './gradCam';

export const layerCamWeights: CamWeights = (_A, G) => tf.relu(G) as tf.Tensor3D;

export const layerCam = camVariant('layercam', layerCamWeights);
