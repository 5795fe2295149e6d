"""PyTorch twins of fsweep's benchmark models, shared by bench/train_torch.py and bench/sensitivity_torch.py
(comparison only; PyTorch is never a dependency of fsweep).

Same architectures as Sources/Networks/Model.swift. ConvActually's full-image circular convolution is written the
way a PyTorch user would make it fast: rfft2, a per-frequency complex matmul, irfft2 — the algorithm fsweep uses.
The literal `Conv2d(kernel_size=32, padding=16, padding_mode='circular')` costs ~4.6 GMAC per layer per image
and is no sensible baseline.
"""
import torch
import torch.nn as nn

MEAN = [0.49, 0.48, 0.45]
STD = [0.25, 0.24, 0.26]


class Normalize(nn.Module):
    """(x - mean_c) / std_c, fsweep's Normalize layer (the constants of TrainBenchmark and SensitivityBenchmark)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


class CircularConv(nn.Module):
    """Full-image circular convolution via the FFT (same map as fsweep's CircularConv2D)."""

    def __init__(self, cin, cout, h, w):
        super().__init__()
        conv = nn.Conv2d(cin, cout, (h, w))  # PyTorch default init, fan_in = C*H*W
        self.weight = conv.weight
        self.bias = conv.bias
        self.h, self.w = h, w

    def forward(self, x):
        h, w = self.h, self.w
        rolled = torch.roll(self.weight, shifts=(-(h // 2), -(w // 2)), dims=(2, 3))
        # Frequency-major complex matmul: 1.4x faster in PyTorch than the equivalent
        # einsum("nchw,ochw->nohw", rfft2(x), rfft2(rolled).conj()).
        xf = torch.fft.rfft2(x).permute(2, 3, 0, 1)               # [H, F, N, C]
        wf = torch.fft.rfft2(rolled).conj().permute(2, 3, 1, 0)   # [H, F, C, O]
        yf = torch.matmul(xf, wf).permute(2, 3, 0, 1)             # [N, O, H, F]
        return torch.fft.irfft2(yf, s=(h, w)) + self.bias.view(1, -1, 1, 1)


def myrtle(width=64, classes=10, bn=False, normalize=False):
    def block(cin, cout, pool):
        layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=not bn)]
        if bn:
            layers.append(nn.BatchNorm2d(cout))
        layers.append(nn.ReLU())
        if pool:
            layers.append(nn.MaxPool2d(2))
        return layers
    w = width
    return nn.Sequential(*([Normalize()] if normalize else []), *block(3, w, False), *block(w, 2 * w, True),
                         *block(2 * w, 4 * w, True), *block(4 * w, 8 * w, True), nn.AdaptiveMaxPool2d(1),
                         nn.Flatten(), nn.Linear(8 * w, classes))


def vgg11(width=64, classes=10, bn=True):
    plan = [64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0]
    layers, ch = [], 3
    for v in plan:
        if v == 0:
            layers.append(nn.MaxPool2d(2))
            continue
        out = max(1, v * width // 64)
        layers.append(nn.Conv2d(ch, out, 3, padding=1))
        if bn:
            layers.append(nn.BatchNorm2d(out))
        layers.append(nn.ReLU())
        ch = out
    hidden = max(1, 512 * width // 64)
    return nn.Sequential(*layers, nn.Flatten(), nn.Dropout(0.5), nn.Linear(ch, hidden), nn.ReLU(),
                         nn.Dropout(0.5), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, classes))


def convactually(depth=4, width=64, classes=10, size=32, relu=True, normalize=False):
    """Optional normalization, d-1 circular convolutions (each followed by ReLU when `relu`), dense."""
    layers, ch = ([Normalize()] if normalize else []), 3
    for _ in range(depth - 1):
        layers += [CircularConv(ch, width, size, size)] + ([nn.ReLU()] if relu else [])
        ch = width
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(ch * size * size, classes))


def convactually_linear(depth=4, width=32, classes=10, size=32):
    """The issue's linear CNN: normalization, d-1 circular convolutions with no activation, dense."""
    return convactually(depth, width, classes, size, relu=False, normalize=True)
