// The attribution methods as people see them: one id, one display name, a group, a one-line description,
// the paper, and what each one needs from a model. The engine, the CLI, the explain panel, the menus and
// the progress messages all take their names from here (plain data; no vscode, DOM or tfjs imports).

export type MethodId =
  | 'cam'
  | 'gradcam'
  | 'gradcam++'
  | 'xgradcam'
  | 'layercam'
  | 'hirescam'
  | 'eigencam'
  | 'scorecam'
  | 'ablationcam'
  | 'guided-gradcam'
  | 'saliency'
  | 'input-x-gradient'
  | 'guided-backprop'
  | 'deconvnet'
  | 'smoothgrad'
  | 'integrated-gradients'
  | 'occlusion'
  | 'rise';

export type MethodGroup = 'cam' | 'gradients' | 'perturbation';

export const METHOD_GROUPS: readonly { id: MethodGroup; title: string }[] = [
  { id: 'cam', title: 'CAM family (a target layer)' },
  { id: 'gradients', title: 'Gradients (the input)' },
  { id: 'perturbation', title: 'Perturbation (forward passes only)' },
];

/** [h, w] at the target layer, [H, W] or [H, W, C] at the input. */
export type MapKindOf = 'layer-map' | 'input-map' | 'input-channels';

export interface MethodInfo {
  id: MethodId;
  /** The one name shown everywhere (panel, menus, progress, CLI output). */
  title: string;
  group: MethodGroup;
  /** One line: what the map is. */
  description: string;
  paper: string;
  /**
   * What the model must offer: 'cam-head' a target layer followed by global average pooling and one dense
   * layer; 'layer' a spatial target layer (h, w ≥ 2) and gradients through the layers after it;
   * 'layer-forward' a spatial target layer and forward passes only; 'input' gradients down to the input.
   */
  needs: 'cam-head' | 'layer' | 'layer-forward' | 'input' | 'forward';
  output: MapKindOf;
  /** The same map for every class (the panel says so). */
  classIndependent?: boolean;
  /** The map is ReLU'd (`--no-relu` turns it off): an all-zero map means no positive evidence at the layer. */
  relu?: boolean;
  /** The VS Code command that explains with it (the CNN Lens submenu). */
  command: string;
}

export const METHOD_INFO: readonly MethodInfo[] = [
  { id: 'gradcam', title: 'Grad-CAM', group: 'cam', needs: 'layer', output: 'layer-map', relu: true, command: 'cnnLens.explain',
    description: 'Activations weighted by the mean gradient of each channel',
    paper: 'Selvaraju et al. 2017, "Grad-CAM: Visual Explanations from Deep Networks via Gradient-based Localization"' },
  { id: 'gradcam++', title: 'Grad-CAM++', group: 'cam', needs: 'layer', output: 'layer-map', relu: true, command: 'cnnLens.explainGradCamPlusPlus',
    description: 'Grad-CAM with higher-order channel weights; better with several instances of a class',
    paper: 'Chattopadhay et al. 2018, "Grad-CAM++: Improved Visual Explanations for Deep Convolutional Networks"' },
  { id: 'xgradcam', title: 'XGrad-CAM', group: 'cam', needs: 'layer', output: 'layer-map', relu: true, command: 'cnnLens.explainXGradCam',
    description: 'Channel weights Σ(gradient·activation)/Σ activation, chosen to satisfy sensitivity and conservation',
    paper: 'Fu et al. 2020, "Axiom-based Grad-CAM: Towards Accurate Visualization and Explanation of CNNs"' },
  { id: 'layercam', title: 'LayerCAM', group: 'cam', needs: 'layer', output: 'layer-map', relu: true, command: 'cnnLens.explainLayerCam',
    description: 'Each position weighted by its own positive gradient; sharp at shallow layers',
    paper: 'Jiang et al. 2021, "LayerCAM: Exploring Hierarchical Class Activation Maps for Localization"' },
  { id: 'hirescam', title: 'HiResCAM', group: 'cam', needs: 'layer', output: 'layer-map', relu: true, command: 'cnnLens.explainHiResCam',
    description: 'Gradient × activation summed over channels: what the score really uses at each position',
    paper: 'Draelos & Carin 2020, "Use HiResCAM instead of Grad-CAM for faithful explanations of convolutional neural networks"' },
  { id: 'eigencam', title: 'Eigen-CAM', group: 'cam', needs: 'layer-forward', output: 'layer-map', relu: true, classIndependent: true, command: 'cnnLens.explainEigenCam',
    description: 'The first principal component of the activations; no gradients, the same map for every class',
    paper: 'Muhammad & Yeasin 2020, "Eigen-CAM: Class Activation Map using Principal Components"' },
  { id: 'scorecam', title: 'Score-CAM', group: 'cam', needs: 'layer-forward', output: 'layer-map', relu: true, command: 'cnnLens.explainScoreCam',
    description: 'Each channel weighted by the class probability of the image masked with it; no gradients',
    paper: 'Wang et al. 2020, "Score-CAM: Score-Weighted Visual Explanations for Convolutional Neural Networks"' },
  { id: 'ablationcam', title: 'Ablation-CAM', group: 'cam', needs: 'layer-forward', output: 'layer-map', relu: true, command: 'cnnLens.explainAblationCam',
    description: 'Each channel weighted by how much the class score drops when it is removed; no gradients',
    paper: 'Desai & Ramaswamy 2020, "Ablation-CAM: Visual Explanations for Deep Convolutional Network via Gradient-free Localization"' },
  { id: 'cam', title: 'CAM', group: 'cam', needs: 'cam-head', output: 'layer-map', command: 'cnnLens.explainCam',
    description: 'The dense layer\'s class weights applied to the last activations (GAP + dense models only)',
    paper: 'Zhou et al. 2016, "Learning Deep Features for Discriminative Localization"' },
  { id: 'guided-gradcam', title: 'Guided Grad-CAM', group: 'cam', needs: 'layer', output: 'input-channels', command: 'cnnLens.explainGuidedGradCam',
    description: 'Guided backpropagation times the upsampled Grad-CAM: fine detail inside the class region',
    paper: 'Selvaraju et al. 2017 (guided backpropagation × Grad-CAM)' },
  { id: 'saliency', title: 'Saliency', group: 'gradients', needs: 'input', output: 'input-map', command: 'cnnLens.explainSaliency',
    description: 'The largest |gradient| of the score over each pixel\'s channels',
    paper: 'Simonyan, Vedaldi & Zisserman 2013, "Deep Inside Convolutional Networks"' },
  { id: 'input-x-gradient', title: 'Input × gradient', group: 'gradients', needs: 'input', output: 'input-channels', command: 'cnnLens.explainInputXGradient',
    description: 'The input times its gradient: a first-order estimate of each value\'s contribution',
    paper: 'Shrikumar et al. 2016, "Not Just a Black Box: Learning Important Features Through Propagating Activation Differences"' },
  { id: 'guided-backprop', title: 'Guided backpropagation', group: 'gradients', needs: 'input', output: 'input-channels', command: 'cnnLens.explainGuidedBackprop',
    description: 'The gradient with ReLUs passing back only positive gradient at positive input',
    paper: 'Springenberg et al. 2014, "Striving for Simplicity: The All Convolutional Net"' },
  { id: 'deconvnet', title: 'Deconvnet', group: 'gradients', needs: 'input', output: 'input-channels', command: 'cnnLens.explainDeconvnet',
    description: 'The gradient with ReLUs passing back the positive gradient whatever their input',
    paper: 'Zeiler & Fergus 2014, "Visualizing and Understanding Convolutional Networks"' },
  { id: 'smoothgrad', title: 'SmoothGrad', group: 'gradients', needs: 'input', output: 'input-map', command: 'cnnLens.explainSmoothGrad',
    description: 'Saliency averaged over noisy copies of the image (mean, mean square or variance)',
    paper: 'Smilkov et al. 2017, "SmoothGrad: removing noise by adding noise"; square and variance: Adebayo et al. 2018' },
  { id: 'integrated-gradients', title: 'Integrated gradients', group: 'gradients', needs: 'input', output: 'input-channels', command: 'cnnLens.explainIntegratedGradients',
    description: 'Gradients summed along the path from a black image; they add up to the score difference',
    paper: 'Sundararajan, Taly & Yan 2017, "Axiomatic Attribution for Deep Networks"' },
  { id: 'occlusion', title: 'Occlusion', group: 'perturbation', needs: 'forward', output: 'input-map', command: 'cnnLens.explainOcclusion',
    description: 'How much the class score drops when a black square covers each place',
    paper: 'Zeiler & Fergus 2014, "Visualizing and Understanding Convolutional Networks"' },
  { id: 'rise', title: 'RISE', group: 'perturbation', needs: 'forward', output: 'input-map', command: 'cnnLens.explainRise',
    description: 'The class probability averaged over random masks, per pixel kept',
    paper: 'Petsiuk, Das & Saenko 2018, "RISE: Randomized Input Sampling for Explanation of Black-box Models"' },
];

export const METHOD_IDS: readonly MethodId[] = METHOD_INFO.map((m) => m.id);

const BY_ID = new Map<string, MethodInfo>(METHOD_INFO.map((m) => [m.id, m]));

export function isMethodId(s: string): s is MethodId {
  return BY_ID.has(s);
}

export function methodInfo(id: MethodId): MethodInfo {
  return BY_ID.get(id)!;
}

/** The display name of a method id (the id itself when unknown). */
export function methodTitle(id: string): string {
  return BY_ID.get(id)?.title ?? id;
}

/** Whether the method works on a target layer. */
export function usesLayer(m: MethodInfo): boolean {
  return m.needs === 'cam-head' || m.needs === 'layer' || m.needs === 'layer-forward';
}

/**
 * What to try when a map is zero everywhere, in words (`cli`: with the command line's option names).
 * For a ReLU'd CAM: no position has positive evidence for the class at that layer.
 */
export function emptyMapAdvice(id: MethodId, where: { layer: string | null; label: string; cli: boolean }): string {
  const m = methodInfo(id);
  const at = where.layer ? ` at layer '${where.layer}'` : '';
  if (m.relu) {
    const noRelu = where.cli ? `${m.title} with --no-relu` : `${m.title} without ReLU`;
    const others = id === 'hirescam' ? noRelu : `HiResCAM or ${noRelu}`;
    return `The map is zero everywhere: nothing${at} is positive evidence for '${where.label}'. Try ${others}, an earlier layer, or another class.`;
  }
  return `The map is zero everywhere: the score for '${where.label}' does not change with the ${usesLayer(m) ? 'layer' : 'input'}${at}. Try another method, another layer or another class.`;
}
