#!/usr/bin/env python3
"""PyTorch CPU training throughput on the models of `fsweep bench train`, for comparison only.

Same models as Sources/Networks/Model.swift (Myrtle width 64 no BN, VGG11 with BN, ConvActually
depth 4 width 64 ReLU, and `convactually-linear`: ConvActually depth 4 width 32 without activations,
input normalization inside the model — the issue's "4-layer 32-channel circular linear CNN"), batch 128 of random 32x32x3 images, SGD(lr 0.001, momentum 0.9),
cross-entropy; median step time (forward+backward+SGD) after warm-up. Prints JSON like
`fsweep bench train --json`.

ConvActually's full-image circular convolution is written the way a PyTorch user would make it
fast: rfft2, per-frequency channel mixing (complex matmul), irfft2 — the same algorithm fsweep uses. The
literal `Conv2d(kernel_size=32, padding=16, padding_mode='circular')` costs ~4.6 GMAC per layer per
image and is not a sensible baseline.

PyTorch is never a dependency of fsweep: run this from a throwaway venv, e.g.
    python3 -m venv /work/venv-torch && /work/venv-torch/bin/pip install torch==2.13.0+cpu numpy
    /work/venv-torch/bin/python bench/train_torch.py --threads 2
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def myrtle(width=64, classes=10, bn=False):
    def block(cin, cout, pool):
        layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=not bn)]
        if bn:
            layers.append(nn.BatchNorm2d(cout))
        layers.append(nn.ReLU())
        if pool:
            layers.append(nn.MaxPool2d(2))
        return layers
    w = width
    return nn.Sequential(*block(3, w, False), *block(w, 2 * w, True), *block(2 * w, 4 * w, True),
                         *block(4 * w, 8 * w, True), nn.AdaptiveMaxPool2d(1), nn.Flatten(),
                         nn.Linear(8 * w, classes))


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


MEAN = [0.49, 0.48, 0.45]
STD = [0.25, 0.24, 0.26]


class Normalize(nn.Module):
    """(x - mean_c) / std_c, fsweep's Normalize layer (the same constants as TrainBenchmark.models)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


def convactually(depth=4, width=64, classes=10, size=32):
    layers, ch = [], 3
    for _ in range(depth - 1):
        layers += [CircularConv(ch, width, size, size), nn.ReLU()]
        ch = width
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(ch * size * size, classes))


def convactually_linear(depth=4, width=32, classes=10, size=32):
    """The linear CNN: normalization, d-1 circular convolutions with no activation, dense."""
    layers, ch = [Normalize()], 3
    for _ in range(depth - 1):
        layers.append(CircularConv(ch, width, size, size))
        ch = width
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(ch * size * size, classes))


BUILDERS = {"myrtle": myrtle, "vgg11": vgg11, "convactually": convactually, "convactually-linear": convactually_linear}


def forward_flops(name, batch):
    """Same FLOP count as fsweep's TrainBenchmark.forwardFLOPs (convs, dense, circular as 8/complex MAC)."""
    if name == "myrtle":
        convs = [(3, 64, 32), (64, 128, 32), (128, 256, 16), (256, 512, 8)]
        dense = [512 * 10]
    elif name == "vgg11":
        convs = [(3, 64, 32), (64, 128, 16), (128, 256, 8), (256, 256, 8), (256, 512, 4), (512, 512, 4),
                 (512, 512, 2), (512, 512, 2)]
        dense = [512 * 512, 512 * 512, 512 * 10]
    else:
        f, w = 32 * 17, 32 if name == "convactually-linear" else 64
        return batch * (8 * (3 * w + w * w + w * w) * f + 2 * w * 1024 * 10)
    return batch * (sum(2 * cin * cout * 9 * s * s for cin, cout, s in convs) + sum(2 * d for d in dense))


def bench(name, model, batch, steps, warmup):
    torch.manual_seed(1)
    x = torch.rand(batch, 3, 32, 32)
    y = torch.arange(batch) % 10
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(warmup):
        step()
    times, cpu = [], []
    for _ in range(steps):
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    median = statistics.median(times)
    gflops = 3 * forward_flops(name, batch) / median / 1e9
    return {"images_per_second": batch / median, "gflops": gflops, "median_step_seconds": median,
            "median_step_cpu_seconds": statistics.median(cpu)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--models", default=",".join(BUILDERS))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = {"torch_version": torch.__version__, "threads": args.threads}
    for name in args.models.split(","):
        torch.manual_seed(0)
        out[name] = bench(name, BUILDERS[name](), args.batch_size, args.steps, args.warmup)
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
