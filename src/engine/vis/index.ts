// Feature visualization: what a network has learned rather than why it made one decision.
// Every function returns plain data (Float32Array + shape, RGBA for display) and leaves no tensors behind.
export { layerActivations, type LayerActivations } from './activations';
export { filterWeights, diverging, type FilterKind, type FilterWeights } from './filters';
export { maximize, maximizeRange, DEFAULT_MAXIMIZE_STEPS, DEFAULT_MAXIMIZE_SIZE, type MaximizeOptions, type MaximizeResult, type VisImage } from './maximize';
export { estimateMaximize, measureStepMs } from './estimate';
export { invert, DEFAULT_INVERT_STEPS, type InvertOptions, type InvertResult } from './invert';
export { dream, defaultDreamLayers, DREAM_DEFAULTS, type DreamHooks, type DreamOptions, type DreamPlan, type DreamResult } from './dream';
export { optimize, type OptimizeSpec, type OptimizeResult, type StepRule, type VisHooks } from './optimize';
export { PARAM_KINDS, type ParamKind } from './param';
export { capSteps, runsAtAnySize } from './common';
