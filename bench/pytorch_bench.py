#!/usr/bin/env python3
"""PyTorch's side of `npm run bench -- --vs-pytorch`: the same architectures, the same measurements.

    /usr/bin/python3 bench/pytorch_bench.py --model vgg16 [--threads 2] [--runs 7]

Times, on torchvision's network with random weights (eval mode, float32, one 224x224 or 299x299 image):
  forward   the logits
  gradcam   a forward pass hooked at the layer CNN Lens's bench explains (VGG16 features.29 = block5_conv3's
            ReLU, MobileNetV2 features.18 = out_relu, Inception V3 Mixed_7c = mixed10), the gradient of the
            top logit with respect to that activation, and the map ReLU(sum_k mean(G_k) A_k)
  saliency  max over channels of |d logit / d input|
Prints one JSON object: medians and minimums in ms, the torch version and thread count.
Needs Debian's python3-torch and python3-torchvision; the bench skips PyTorch when they are absent.
"""
import argparse
import json
import statistics
import time

import torch
import torchvision.models as tvm

ARCH = {
    'vgg16': (lambda: tvm.vgg16(), 224, lambda m: m.features[29]),
    'mobilenetv2': (lambda: tvm.mobilenet_v2(), 224, lambda m: m.features[18]),
    'inceptionv3': (lambda: tvm.inception_v3(aux_logits=False, init_weights=True), 299, lambda m: m.Mixed_7c),
}


def timed(fn, runs):
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return {'medianMs': statistics.median(times), 'minMs': min(times), 'runs': runs}


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', required=True, choices=sorted(ARCH))
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--runs', type=int, default=7)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    make, size, layer_of = ARCH[a.model]
    m = make().eval()
    for q in m.parameters():
        q.requires_grad_(False)
    x = torch.rand(1, 3, size, size) * 2 - 1
    with torch.no_grad():
        cls = int(m(x).argmax())
    saved = {}
    layer_of(m).register_forward_hook(lambda mod, i, o: saved.__setitem__('a', o))

    def forward():
        with torch.no_grad():
            m(x)

    def saliency():
        xi = x.clone().requires_grad_(True)
        logits = m(xi)
        (g,) = torch.autograd.grad(logits[0, cls], xi)
        return g.abs().amax(1)

    # Grad-CAM needs the layer's activation in the autograd graph: with frozen weights and an input that does
    # not require gradients, nothing would be recorded, so the input requires gradients (only the activation's
    # gradient is asked for; autograd stops there).
    def gradcam_tracked():
        xi = x.clone().requires_grad_(True)
        logits = m(xi)
        a_ = saved['a']
        (g,) = torch.autograd.grad(logits[0, cls], a_)
        return torch.relu((g.mean(dim=(2, 3), keepdim=True) * a_).sum(1))

    # Warm-up of all three before any is timed: PyTorch's no_grad forward pass on this machine runs at 70-75 ms
    # (MobileNetV2) until one pass with autograd has run, and at 43 ms after; giving PyTorch its best state
    # keeps the comparison conservative.
    for _ in range(3):
        saliency()
        gradcam_tracked()
        forward()
    out = {
        'model': a.model,
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'forward': timed(forward, a.runs),
        'gradcam': timed(gradcam_tracked, a.runs),
        'saliency': timed(saliency, a.runs),
    }
    print(json.dumps(out))


if __name__ == '__main__':
    main()
