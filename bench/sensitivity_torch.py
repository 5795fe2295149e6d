#!/usr/bin/env python3
"""PyTorch reference timing for the `sensitivity` probe (benchmark only; never a dependency of fsweep).

Builds the same architectures as fsweep's Networks (Myrtle width 64, ConvActually-4 width 64 with ReLU, and
`convactually-linear`: ConvActually-4 width 32 without activations; 32x32x3, 10 classes, input normalization
inside the model) and computes what `SensitivityProbe.maps` computes:
per batch ONE forward pass, then K backward passes (one per logit, `autograd.grad` with `retain_graph`,
parameters frozen so no parameter gradients are formed), an orthonormal 2-D FFT of every gradient, and the
accumulation of S = mean_x ||(|FFT(grad_l)|)_l||_2 and its rms variant.

The models come from bench/torch_models.py (shared with train_torch.py): ConvActually's full-image circular
convolution runs in the Fourier domain (rfft2, a per-frequency complex matmul, irfft2), as fsweep does.
The linear model gets no shortcut here (autograd per logit and per batch, like the others): this is the
baseline as a PyTorch user would write it; fsweep notices that its gradients do not depend on the image.

Usage (the venv bench/setup-torch-venv.sh makes, outside the repository):
    "$(./bench/setup-torch-venv.sh)" bench/sensitivity_torch.py --threads 2 --images 1000
"""
import argparse
import json
import time

import torch

from torch_models import convactually, convactually_linear, myrtle


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
    models = {"myrtle": myrtle(classes=args.classes, normalize=True),
              "convactually4": convactually(classes=args.classes, normalize=True),
              "convactually-linear": convactually_linear(classes=args.classes)}
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
