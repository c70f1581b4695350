#!/usr/bin/env python3
"""Makes the small ONNX fixtures in test/fixtures/onnx/ with PyTorch (Debian's python3-torch and
python3-torchvision). Weights are seeded, never downloaded. The tests read the committed files and need no
PyTorch; run this again only to change the fixtures:

    /usr/bin/python3 scripts/make-onnx-fixtures.py [--big DIR]

--big DIR also writes full-size torchvision classifiers with random seeded weights (weights=None) to DIR, for
checking CNN Lens against PyTorch locally (scripts/check-onnx-vs-torch.py); they are not committed.

--bench DIR writes only the benchmark's exports (VGG16, MobileNetV2, ResNet-50; seeded, 224x224, opset 13) to DIR;
`npm run bench` runs this itself when they are missing and times them against the same architectures built as
layers models (bench/models/onnx.ts).
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'onnx')


class TinyResNet(nn.Module):
    """A residual CNN as torchvision builds them: conv-BN-ReLU stem, ceil-mode max pool, a basic block with a
    strided 1x1 shortcut, a squeeze-and-excitation gate with Hardsigmoid, adaptive average pooling, flatten, linear."""

    def __init__(self, classes=10):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 2, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True))
        self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv1 = nn.Conv2d(16, 32, 3, 2, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 32, 3, 1, 1, groups=4, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.short = nn.Sequential(nn.Conv2d(16, 32, 1, 2, bias=False), nn.BatchNorm2d(32))
        self.se1 = nn.Conv2d(32, 8, 1)
        self.se2 = nn.Conv2d(8, 32, 1)
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        x = self.pool(self.stem(x))
        y = F.relu6(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        s = F.hardsigmoid(self.se2(F.relu(self.se1(F.adaptive_avg_pool2d(y, 1)))))
        y = F.relu(y * s + self.short(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(y, 1), 1))


class TinyShuffle(nn.Module):
    """ShuffleNetV2's layout traps: channel split (chunk), channel shuffle (view/transpose/view), depthwise
    convolution, then features flattened straight from NCHW (x.view(x.size(0), -1)) into a linear layer."""

    def __init__(self, classes=5):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, 2, 1)
        self.dw = nn.Conv2d(4, 4, 3, 1, 1, groups=4)
        self.pw = nn.Conv2d(4, 4, 1)
        self.fc = nn.Linear(8 * 8 * 8, classes)

    def forward(self, x):
        x = F.relu(self.stem(x))
        a, b = x.chunk(2, dim=1)
        b = F.relu(self.pw(self.dw(b)))
        x = torch.cat([a, b], 1)
        n, c, h, w = x.shape
        x = x.view(n, 2, c // 2, h, w).transpose(1, 2).contiguous().view(n, c, h, w)
        return self.fc(x.view(x.size(0), -1))


class TinyGray(nn.Module):
    """A 1-channel (MNIST-like) classifier with SiLU, average pooling with padding and a softmax output."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, 5, padding=2)
        self.c2 = nn.Conv2d(6, 12, 3)
        self.fc = nn.Linear(12 * 6 * 6, 10)

    def forward(self, x):
        x = F.avg_pool2d(F.silu(self.c1(x)), 2)
        x = F.max_pool2d(F.elu(self.c2(x)), 2)
        return torch.softmax(self.fc(torch.flatten(x, 1)), dim=1)


def seeded(model, seed):
    torch.manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.5, 0.5)
    return model.eval()


def export(model, shape, path, opset, dynamic=True):
    x = torch.zeros(*shape)
    axes = {'input': {0: 'batch'}, 'output': {0: 'batch'}} if dynamic else None
    # Written under a temporary name and renamed, so an interrupted run leaves no half-written model behind.
    torch.onnx.export(model, x, path + '.part', opset_version=opset, input_names=['input'], output_names=['output'], dynamic_axes=axes)
    os.replace(path + '.part', path)
    print(f'{path}: {os.path.getsize(path)} bytes')


# The benchmark's ONNX exports (bench/models/onnx.ts has the same list).
BENCH_MODELS = ['vgg16', 'mobilenet_v2', 'resnet50']


def main():
    if '--bench' in sys.argv:
        import torchvision.models as tvm
        folder = sys.argv[sys.argv.index('--bench') + 1]
        os.makedirs(folder, exist_ok=True)
        for name in BENCH_MODELS:
            torch.manual_seed(0)
            model = seeded(getattr(tvm, name)(weights=None), 0)
            export(model, (1, 3, 224, 224), os.path.join(folder, f'{name}.onnx'), 13)
        return
    os.makedirs(OUT, exist_ok=True)
    torch.manual_seed(0)
    export(seeded(TinyResNet(), 1), (1, 3, 64, 64), os.path.join(OUT, 'tiny-resnet.onnx'), 13)
    torch.manual_seed(0)
    export(seeded(TinyShuffle(), 2), (1, 3, 16, 16), os.path.join(OUT, 'tiny-shuffle.onnx'), 11, dynamic=False)
    torch.manual_seed(0)
    export(seeded(TinyGray(), 3), (1, 1, 28, 28), os.path.join(OUT, 'tiny-gray.onnx'), 9)
    if '--big' in sys.argv:
        import torchvision.models as tvm
        big = sys.argv[sys.argv.index('--big') + 1]
        os.makedirs(big, exist_ok=True)
        for name in ['resnet18', 'mobilenet_v2', 'vgg11_bn', 'squeezenet1_1', 'densenet121', 'efficientnet_b0', 'shufflenet_v2_x1_0']:
            torch.manual_seed(0)
            model = seeded(getattr(tvm, name)(weights=None), 0)
            export(model, (1, 3, 224, 224), os.path.join(big, f'{name}.onnx'), 13)


if __name__ == '__main__':
    main()
