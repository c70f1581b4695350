#!/usr/bin/env python3
"""Why a saliency map of CNN Lens misses PyTorch's float64 one on a VGG export: float32 gates, shown, not assumed.

    npm run build && /usr/bin/python3 scripts/onnx-saliency-gates.py /tmp/onnx-big vgg11_bn [--class N]

A VGG is piecewise linear: given which ReLUs pass (their gates) and which input wins each max-pool window, its
input gradient is a fixed product of linear maps. CNN Lens computes in float32, so a pre-activation within float32
rounding of 0 (or a near-tie in a max-pool window) can take the other branch than in float64, and the gradient
changes over that unit's receptive field. This script reads CNN Lens's own float32 pre-activations
(`cnn-lens activations --raw` of every convolution, batch norm folded in by the exporter), counts the gates and
max-pool winners that differ from PyTorch's float64 forward pass, then computes the input gradient in float64 with
CNN Lens's gates. If the difference is float32 gating, that gated float64 map matches CNN Lens's saliency map to
float32 accuracy while the ungated one does not. It also prints PyTorch's own float32 saliency against float64.
Classifier (Linear) gates are computed in float64 from CNN Lens's pooled features (the CLI dumps spatial layers
only); the smallest |pre-activation| there is printed, to show none of them is near a flip.
"""
import json
import os
import subprocess
import sys
import tempfile
from importlib import import_module

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision.models as tvm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
check = import_module('check-onnx-vs-torch')
seeded = import_module('make-onnx-fixtures').seeded


def lens(*args):
    subprocess.run(['node', os.path.join(check.ROOT, 'dist', 'cli.js'), *args], check=True, stdout=subprocess.DEVNULL)


def rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def gated_saliency(m, x, cls, gates, pool_idx, fc_gates):
    """|d logit / d x| (max over channels) of the float64 model with the given ReLU gates and max-pool winners."""
    x = x.detach().clone().requires_grad_(True)
    h, g, p = x, iter(gates), iter(pool_idx)
    for mod in m.features:
        if isinstance(mod, nn.ReLU):
            h = h * next(g)
        elif isinstance(mod, nn.MaxPool2d):
            idx = next(p)
            h = h.flatten(2).gather(2, idx.flatten(2)).view_as(idx)
        else:
            h = mod(h)
    h = torch.flatten(m.avgpool(h), 1)
    fg = iter(fc_gates)
    for mod in m.classifier:
        if isinstance(mod, nn.ReLU):
            h = h * next(fg)
        elif not isinstance(mod, nn.Dropout):
            h = mod(h)
    (gx,) = torch.autograd.grad(h[0, cls], [x])
    return gx[0].abs().max(0).values.numpy()


def main():
    folder, name = sys.argv[1], sys.argv[2]
    model = os.path.join(folder, f'{name}.onnx')
    tmp = tempfile.mkdtemp()
    img = os.path.join(tmp, 'image.png')
    rgb = check.image(img)
    torch.manual_seed(0)
    m = seeded(getattr(tvm, name)(weights=None), 0).double()
    for mod in m.modules():
        if hasattr(mod, 'inplace'):
            mod.inplace = False
    x = torch.tensor(((rgb / 255.0 - check.MEAN) / check.STD).transpose(2, 0, 1)[None], dtype=torch.float64)
    with torch.no_grad():
        cls = int(m(x)[0].argmax()) if '--class' not in sys.argv else int(sys.argv[sys.argv.index('--class') + 1])

    ours = os.path.join(tmp, 'saliency.npy')
    lens('explain', model, img, '--method', 'saliency', '--class', str(cls), '--raw', ours)
    ours = np.load(ours).astype(np.float64)

    # Float64 pre-activations (the input of every ReLU) and CNN Lens's (its convolution layers' outputs).
    feats = list(m.features)
    report = {'model': name, 'class': cls, 'relu_layers': []}
    gates, pool_idx, pool_idx64 = [], [], []
    h64, hl = x, None
    with torch.no_grad():
        for i, mod in enumerate(feats):
            if isinstance(mod, nn.ReLU):
                conv = max(j for j in range(i) if isinstance(feats[j], nn.Conv2d))
                out = os.path.join(tmp, f'conv{conv}.npy')
                lens('activations', model, img, '--layer', f'features/features.{conv}/Conv', '--raw', out)
                pre_l = torch.tensor(np.load(out).astype(np.float64).transpose(2, 0, 1)[None])
                flips = (pre_l > 0) != (h64 > 0)
                scale = float(h64.abs().max())
                report['relu_layers'].append({
                    'layer': f'features.{i}', 'units': int(h64.numel()), 'gate_flips': int(flips.sum()),
                    'max_abs_preact_at_flips_rel': float(h64[flips].abs().max() / scale) if flips.any() else None,
                    'float32_vs_float64_preact_rel': float((pre_l - h64).abs().max() / scale),
                })
                gates.append((pre_l > 0).double())
                h64, hl = F.relu(h64), F.relu(pre_l)
            elif isinstance(mod, nn.MaxPool2d):
                o64, i64 = F.max_pool2d(h64, mod.kernel_size, mod.stride, return_indices=True)
                ol, il = F.max_pool2d(hl, mod.kernel_size, mod.stride, return_indices=True)
                # A different winner matters only where the window has a positive maximum (else the gate is shut).
                moved = (i64 != il) & (o64 > 0)
                # How near a tie each change is: float64's maximum minus float64's value at CNN Lens's winner.
                gap = o64 - h64.flatten(2).gather(2, il.flatten(2)).view_as(il)
                report.setdefault('maxpool_winner_changes', []).append({
                    'layer': f'features.{i}', 'windows': int(o64.numel()), 'changed': int(moved.sum()),
                    'largest_float64_gap_at_changes_rel': float(gap[moved].max() / o64.max()) if moved.any() else None,
                })
                pool_idx.append(il)
                pool_idx64.append(i64)
                h64, hl = o64, ol
            else:
                h64 = mod(h64)
        # Classifier gates from CNN Lens's pooled features, in float64.
        f = torch.flatten(m.avgpool(hl), 1)
        fc_gates, smallest = [], []
        for mod in m.classifier:
            if isinstance(mod, nn.ReLU):
                fc_gates.append((f > 0).double())
                smallest.append(float(f.abs().min() / f.abs().max()))
            if not isinstance(mod, nn.Dropout):
                f = mod(f)
        report['classifier_min_abs_preact_rel'] = smallest

    x32 = x.float().requires_grad_(True)
    # The same weights in float32 (rounded from the float64 model's).
    m32 = getattr(tvm, name)(weights=None).eval()
    m32.load_state_dict({k: v.float() for k, v in m.state_dict().items()})
    (g32,) = torch.autograd.grad(m32(x32)[0, cls], [x32])
    x64 = x.clone().requires_grad_(True)
    (g64,) = torch.autograd.grad(m(x64)[0, cls], [x64])
    sal64 = g64[0].abs().max(0).values.numpy()
    sal32 = g32[0].abs().max(0).values.double().numpy()
    gated = gated_saliency(m, x, cls, gates, pool_idx, fc_gates)
    report['saliency_rel_err'] = {
        'cnn_lens_vs_float64': rel(ours, sal64),
        'pytorch_float32_vs_float64': rel(sal32, sal64),
        'float64_with_cnn_lens_gates_vs_float64': rel(gated, sal64),
        'cnn_lens_vs_float64_with_cnn_lens_gates': rel(ours, gated),
    }
    print(json.dumps(report, indent=1))


if __name__ == '__main__':
    main()
