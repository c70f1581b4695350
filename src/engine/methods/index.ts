// The attribution methods by name. Names, groups, descriptions and papers: src/shared/methods.ts.
import { ablationCam } from './ablationCam';
import { cam } from './cam';
import { deconvnet } from './deconvnet';
import { eigenCam } from './eigenCam';
import { gradCam, gradCamPlusPlus } from './gradCam';
import { guidedBackprop } from './guidedBackprop';
import { guidedGradCam } from './guidedGradCam';
import { hiResCam } from './hiResCam';
import { inputXGradient } from './inputXGradient';
import { integratedGradients } from './integratedGradients';
import { layerCam } from './layerCam';
import { occlusion } from './occlusion';
import { rise } from './rise';
import { saliency } from './saliency';
import { scoreCam } from './scoreCam';
import { smoothGrad } from './smoothGrad';
import { xGradCam } from './xGradCam';
import { METHOD_IDS, isMethodId } from '../../shared/methods';
import type { AttributionMethod, MethodName } from './types';

export const METHODS: Record<MethodName, AttributionMethod> = {
  gradcam: gradCam,
  'gradcam++': gradCamPlusPlus,
  xgradcam: xGradCam,
  layercam: layerCam,
  hirescam: hiResCam,
  eigencam: eigenCam,
  scorecam: scoreCam,
  ablationcam: ablationCam,
  cam,
  'guided-gradcam': guidedGradCam,
  saliency,
  'input-x-gradient': inputXGradient,
  'guided-backprop': guidedBackprop,
  deconvnet,
  smoothgrad: smoothGrad,
  'integrated-gradients': integratedGradients,
  occlusion,
  rise,
};

/** In the registry's order (grouped: CAM family, gradients, perturbation). */
export const METHOD_NAMES = [...METHOD_IDS] as MethodName[];

export function isMethodName(s: string): s is MethodName {
  return isMethodId(s);
}

export type { AttributionMethod, MethodName, MethodOptions, MethodContext, SmoothMode } from './types';
export { DEFAULT_METHOD_OPTIONS } from './types';
