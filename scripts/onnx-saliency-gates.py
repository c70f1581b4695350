#!/usr/bin/env python3
"""Why a saliency map of CNN Lens misses PyTorch's float64 one: float32 gates, shown, not assumed (VGG, DenseNet).

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

Other models (DenseNet: every ReLU an nn.ReLU module called once, and the final F.relu): CNN Lens's gates are read
from its ReLU layers' outputs in the layers where a float64 pre-activation lies within $GATES_TOL (default 1e-6)
of the layer's maximum of zero, and max-pool winners from the stem's ReLU output; the float64 gradient is then
taken with those gates in place of float64's own (forward hooks).
    GATES_TOL=1e-7 /usr/bin/python3 scripts/onnx-saliency-gates.py /tmp/onnx-big densenet121 --class 603
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


def hooked_check(model, name, img, rgb, x, cls, ours, tmp, tol=float(os.environ.get('GATES_TOL', '1e-6'))):
    """Any torchvision model whose ReLUs are nn.ReLU modules (DenseNet; its last ReLU is F.relu, the ONNX node
    'Relu'): CNN Lens's gates are read from its ReLU layers' outputs (> 0), only in the layers where float64 has a
    pre-activation within `tol` of the layer's maximum of 0 (where float32 can flip a gate); every other gate is
    float64's. Max-pool winners come from CNN Lens's pool input (its ReLU's output)."""
    torch.manual_seed(0)
    m = seeded(getattr(tvm, name)(weights=None), 0).double()
    relus = {k: mod for k, mod in m.named_modules() if isinstance(mod, nn.ReLU)}
    for mod in m.modules():
        if hasattr(mod, 'inplace'):
            mod.inplace = False
    split = check.MODELS[name][1]
    pre, calls, hooks = {}, {}, []

    def record(k, value):
        pre[k] = value.detach()
        calls[k] = calls.get(k, 0) + 1

    for k, mod in relus.items():
        hooks.append(mod.register_forward_hook(lambda mod, i, o, k=k: record(k, i[0])))
    final = {}
    if name == 'densenet121':
        hooks.append(m.features.register_forward_hook(lambda mod, i, o: final.__setitem__('pre', o.detach())))
    with torch.no_grad():
        split(m, x)
    for h in hooks:
        h.remove()
    a_pre = final.get('pre')
    twice = [k for k, n in calls.items() if n > 1]
    if twice:
        sys.exit(f'{name}: ReLU modules called more than once ({", ".join(twice[:3])}, ...): one gate per module cannot describe them')
    if a_pre is not None:
        pre['(final F.relu)'] = a_pre
    onnx_name = lambda k: 'Relu' if k == '(final F.relu)' else k.replace('.', '/') + '/Relu'
    candidates = {k: int((v.abs() < tol * v.abs().max()).sum()) for k, v in pre.items()}
    report = {'model': name, 'class': cls, 'relu_layers': len(pre), 'near_zero_tol_rel': tol,
              'layers_with_near_zero_preacts': {k: n for k, n in candidates.items() if n}}
    lens_gate = {}
    for k, n in candidates.items():
        if not n:
            continue
        out = os.path.join(tmp, 'relu.npy')
        lens('activations', model, img, '--layer', onnx_name(k), '--raw', out)
        lens_gate[k] = torch.tensor(np.load(out).transpose(2, 0, 1)[None] > 0).double()
    report['gate_flips'] = {k: int((g != (pre[k] > 0).double()).sum()) for k, g in lens_gate.items()}
    # Max-pools: winners from CNN Lens's ReLU output before them (the stem's relu0 in torchvision's models).
    pool_idx, changed = {}, {}
    for k, mod in m.named_modules():
        if isinstance(mod, nn.MaxPool2d):
            before = k.rsplit('.', 1)[0] + '.relu0' if k.endswith('pool0') else None
            if before not in relus:
                continue
            out = os.path.join(tmp, 'pool_in.npy')
            lens('activations', model, img, '--layer', onnx_name(before), '--raw', out)
            hl = torch.tensor(np.load(out).astype(np.float64).transpose(2, 0, 1)[None])
            o64, i64 = F.max_pool2d(F.relu(pre[before]), mod.kernel_size, mod.stride, mod.padding, return_indices=True)
            _, il = F.max_pool2d(hl, mod.kernel_size, mod.stride, mod.padding, return_indices=True)
            changed[k] = int(((i64 != il) & (o64 > 0)).sum())
            pool_idx[k] = il
    report['maxpool_winner_changes'] = changed

    def gated(use_lens):
        hooks = []
        for k, mod in relus.items():
            g = lens_gate.get(k) if use_lens else None
            hooks.append(mod.register_forward_hook(lambda mod, i, o, g=g: i[0] * (g if g is not None else (i[0] > 0).double())))
        for k, mod in m.named_modules():
            if use_lens and k in pool_idx:
                # max_pool2d's indices point into the unpadded input plane.
                hooks.append(mod.register_forward_hook(lambda mod, i, o, idx=pool_idx[k]: i[0].flatten(2).gather(2, idx.flatten(2)).view_as(idx)))
        xi = x.clone().requires_grad_(True)
        if name == 'densenet121':
            f = m.features(xi)
            gf = lens_gate.get('(final F.relu)') if use_lens else None
            f = f * (gf if gf is not None else (f > 0).double())
            logits = m.classifier(torch.flatten(F.adaptive_avg_pool2d(f, 1), 1))
        else:
            logits = m(xi)
        (g,) = torch.autograd.grad(logits[0, cls], [xi])
        for h in hooks:
            h.remove()
        return g[0].abs().max(0).values.numpy()

    plain, with_lens = gated(False), gated(True)
    report['saliency_rel_err'] = {
        'cnn_lens_vs_float64': rel(ours, plain),
        'float64_with_cnn_lens_gates_vs_float64': rel(with_lens, plain),
        'cnn_lens_vs_float64_with_cnn_lens_gates': rel(ours, with_lens),
    }
    print(json.dumps(report, indent=1))


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
    if not name.startswith('vgg'):
        return hooked_check(model, name, img, rgb, x, cls, ours, tmp)

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
