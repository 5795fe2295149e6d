#!/usr/bin/env python3
"""PyTorch reference timing for the `sensitivity` probe (benchmark only; never a dependency of fsweep).

Builds the same architectures as fsweep's Networks (Myrtle width 64, ConvActually-4 width 64 with ReLU, and
`convactually-linear`: ConvActually-4 width 32 without activations; 32x32x3, 10 classes, input normalization
inside the model) and computes what `SensitivityProbe.maps` computes:
per batch ONE forward pass, then K backward passes (one per logit, `autograd.grad` with `retain_graph`,
parameters frozen so no parameter gradients are formed), an orthonormal 2-D FFT of every gradient, and the
accumulation of S = mean_x ||(|FFT(grad_l)|)_l||_2 and its rms variant.

ConvActually's full-image circular convolution is computed in the Fourier domain (rfft2, a per-frequency
channel mixing, irfft2), as fsweep does; a direct 32x32-kernel nn.Conv2d would be ~100x slower.
The linear model gets no shortcut here (autograd per logit and per batch, like the others): this is the
baseline as a PyTorch user would write it; fsweep notices that its gradients do not depend on the image.

Usage (venv outside the repo):
    python3 -m venv /work/venv-torch && /work/venv-torch/bin/pip install torch==2.13.0+cpu numpy
    /work/venv-torch/bin/python bench/sensitivity_torch.py --threads 2 --images 1000
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = [0.49, 0.48, 0.45]
STD = [0.25, 0.24, 0.26]


class Normalize(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


def myrtle(width=64, classes=10):
    w = width
    def block(cin, cout, pool):
        layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=True), nn.ReLU()]
        if pool:
            layers.append(nn.MaxPool2d(2))
        return layers
    return nn.Sequential(Normalize(), *block(3, w, False), *block(w, 2 * w, True), *block(2 * w, 4 * w, True),
                         *block(4 * w, 8 * w, True), nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(8 * w, classes))


class CircularConvFFT(nn.Module):
    """Full-image (HxW kernel) circular convolution, y[o] = sum_c w[o,c] (*) x[c] + b[o], via rfft2."""

    def __init__(self, cin, cout, size):
        super().__init__()
        bound = 1 / (cin * size * size) ** 0.5
        self.weight = nn.Parameter(torch.empty(cout, cin, size, size).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(cout).uniform_(-bound, bound))

    def forward(self, x):
        h, w = x.shape[-2:]
        xf = torch.fft.rfft2(x)                         # [N, C, H, W/2+1]
        wf = torch.fft.rfft2(self.weight)               # [O, C, H, W/2+1]
        yf = torch.einsum("nchw,ochw->nohw", xf, wf)    # per-frequency channel mixing
        return torch.fft.irfft2(yf, s=(h, w)) + self.bias.view(1, -1, 1, 1)


def convactually(depth=4, width=64, classes=10, size=32, relu=True):
    layers = [Normalize()]
    ch = 3
    for _ in range(depth - 1):
        layers += [CircularConvFFT(ch, width, size)] + ([nn.ReLU()] if relu else [])
        ch = width
    layers += [nn.Flatten(), nn.Linear(ch * size * size, classes)]
    return nn.Sequential(*layers)


def sensitivity(model, x, batch):
    n, c, h, w = x.shape
    s = torch.zeros(c, h, w, dtype=torch.float64)
    rms = torch.zeros(c, h, w, dtype=torch.float64)
    for start in range(0, n, batch):
        xb = x[start:start + batch].clone().requires_grad_(True)
        logits = model(xb)
        k = logits.shape[1]
        power = torch.zeros_like(xb, dtype=torch.float32)
        for l in range(k):
            (g,) = torch.autograd.grad(logits[:, l].sum(), xb, retain_graph=l < k - 1)
            power += torch.fft.fft2(g, norm="ortho").abs().square()
        s += power.sqrt().sum(0).double()
        rms += (power / k).sqrt().sum(0).double()
    return s / n, rms / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--images", type=int, default=1000)
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--model", choices=["myrtle", "convactually4", "convactually-linear"], default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.rand(args.images, 3, 32, 32)
    models = {"myrtle": myrtle(classes=args.classes), "convactually4": convactually(classes=args.classes),
              "convactually-linear": convactually(width=32, classes=args.classes, relu=False)}
    out = {}
    for name, model in models.items():
        if args.model and name != args.model:
            continue
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
        sensitivity(model, x[:4], args.batch)  # warm-up
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            sensitivity(model, x, args.batch)
            times.append(time.perf_counter() - t0)
        t = sorted(times)[len(times) // 2]
        out[name] = {"seconds": t, "images_per_second": args.images / t, "images": args.images}
        print(f"{name}: {args.images} images x {args.classes} classes in {t:.2f} s "
              f"({args.images / t:.1f} images/s, {args.threads} threads, torch {torch.__version__})", flush=True)
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
