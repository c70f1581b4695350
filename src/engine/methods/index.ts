// The attribution methods by name.
import { cam } from './cam';
import { gradCam, gradCamPlusPlus } from './gradCam';
import { guidedBackprop } from './guidedBackprop';
import { guidedGradCam } from './guidedGradCam';
import { integratedGradients } from './integratedGradients';
import { saliency } from './saliency';
import { smoothGrad } from './smoothGrad';
import type { AttributionMethod, MethodName } from './types';

export const METHODS: Record<MethodName, AttributionMethod> = {
  saliency,
  'guided-backprop': guidedBackprop,
  cam,
  gradcam: gradCam,
  'gradcam++': gradCamPlusPlus,
  'guided-gradcam': guidedGradCam,
  smoothgrad: smoothGrad,
  'integrated-gradients': integratedGradients,
};

export const METHOD_NAMES = Object.keys(METHODS) as MethodName[];

export function isMethodName(s: string): s is MethodName {
  return Object.prototype.hasOwnProperty.call(METHODS, s);
}

export type { AttributionMethod, MethodName, MethodOptions, MethodContext } from './types';
export { DEFAULT_METHOD_OPTIONS } from './types';
