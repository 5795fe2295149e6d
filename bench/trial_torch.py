#!/usr/bin/env python3
"""One trial end to end in PyTorch, written as a PyTorch user would: the work of `fsweep bench trial` (comparison
only; PyTorch is never a dependency of fsweep).

Phases, timed like fsweep's: setup (generate the synthetic dataset with fsweep's generative model — natural 1/f^alpha
fields, class templates in the mixed band, clipping — channel statistics, model), training (SGD with momentum,
shuffled batches, test accuracy after every epoch), probes (the sensitivity maps of bench/sensitivity_torch.py on the
test images, plus the training data's mean power spectrum the probe's alignment statistics use) and encoding (the
result as JSON with base64 arrays). Shapes as in `TrialBenchmark.Shape`:
  quickstart: ConvActually-4 width 16, 16x16, 2000 train / 500 test, snr 0.5, 15 epochs, sensitivity on 500 images
              (sweeps/quickstart.yaml's depth-4 point on unfiltered data)
  paper:      ConvActually-4 width 64, 32x32, 2000 train / 1000 test, snr 0.3, 2 epochs, sensitivity on 1000 images

    "$(./bench/setup-torch-venv.sh)" bench/trial_torch.py --shape paper --threads 2
"""
import argparse
import base64
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sensitivity_torch import sensitivity  # noqa: E402
from torch_models import CircularConv  # noqa: E402

SHAPES = {
    "quickstart": dict(size=16, width=16, train=2000, test=500, snr=0.5, epochs=15, probe_images=500),
    "paper": dict(size=32, width=64, train=2000, test=1000, snr=0.3, epochs=2, probe_images=1000),
}
CONTRAST, RHO, ALPHA, CLASSES, M_REF = 0.15, 0.8, 2.0, 10, 12


def envelope(n):
    """A(f) = f^(-alpha/2) normalized to mean A^2 = 1, times the mixed band's per-band gains sqrt(M_ref / M_b)."""
    ky = torch.fft.fftfreq(n, 1 / n).view(-1, 1)
    kx = torch.fft.rfftfreq(n, 1 / n).view(1, -1)
    kx_full = torch.fft.fftfreq(n, 1 / n).view(1, -1)
    f_full = (ky ** 2 + kx_full ** 2).sqrt()
    a_full = torch.where(f_full > 0, f_full.clamp(min=1e-12) ** (-ALPHA / 2), torch.zeros(()))
    norm = math.sqrt(n * n / float((a_full ** 2).sum()))
    f = (ky ** 2 + kx ** 2).sqrt()
    a = torch.where(f > 0, f.clamp(min=1e-12) ** (-ALPHA / 2), torch.zeros(())) * norm
    r_full, r = f_full / (n / 2), f / (n / 2)
    bands = [(r_full > 0) & (r_full <= 0.25), (r_full > 0.25) & (r_full <= 0.5), r_full > 0.5]
    gains = [math.sqrt(M_REF / max(1, int(b.sum()))) for b in bands]
    band = torch.where(r <= 0.25, gains[0], torch.where(r <= 0.5, gains[1], gains[2])) * (r > 0)
    return a, a * band


def fields(z, amplitude):
    return torch.fft.irfft2(torch.fft.rfft2(z, norm="ortho") * amplitude, s=z.shape[-2:], norm="ortho")


def synthetic(n_images, n, templates, a, snr, generator):
    z = torch.randn(n_images, 4, n, n, generator=generator)
    f = fields(z, a)
    labels = torch.arange(n_images) % CLASSES
    x = 0.5 + CONTRAST * (RHO * f[:, :1] + math.sqrt(1 - RHO ** 2) * f[:, 1:] + snr * templates[labels])
    return x.clamp(0, 1), labels


class Normalize(nn.Module):
    def __init__(self, mean, std):
        super().__init__()
        self.register_buffer("mean", mean.view(1, -1, 1, 1))
        self.register_buffer("std", std.view(1, -1, 1, 1))

    def forward(self, x):
        return (x - self.mean) / self.std


def model(width, size, mean, std, depth=4):
    layers, ch = [Normalize(mean, std)], 3
    for _ in range(depth - 1):
        layers += [CircularConv(ch, width, size, size), nn.ReLU()]
        ch = width
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(ch * size * size, CLASSES))


def accuracy(net, x, y, batch=256):
    net.eval()
    with torch.no_grad():
        correct = sum(int((net(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum()) for i in range(0, len(x), batch))
    net.train()
    return correct / len(x)


def trial(shape, seed=0):
    s = SHAPES[shape]
    n = s["size"]
    t0 = time.perf_counter()
    g = torch.Generator().manual_seed(seed)
    a, a_band = envelope(n)
    templates = fields(torch.randn(CLASSES, 3, n, n, generator=g), a_band)
    x_train, y_train = synthetic(s["train"], n, templates, a, s["snr"], g)
    x_test, y_test = synthetic(s["test"], n, templates, a, s["snr"], g)
    mean, std = x_train.mean((0, 2, 3)), x_train.std((0, 2, 3))
    torch.manual_seed(seed)
    net = model(s["width"], n, mean, std)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    t1 = time.perf_counter()
    history = []
    for epoch in range(s["epochs"]):
        order = torch.randperm(s["train"], generator=g)
        total = 0.0
        for i in range(0, s["train"], 128):
            idx = order[i:i + 128]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(net(x_train[idx]), y_train[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        history.append({"epoch": epoch + 1, "train_loss": total / s["train"], "test_accuracy": accuracy(net, x_test, y_test)})
    t2 = time.perf_counter()
    net.eval()
    for p in net.parameters():
        p.requires_grad_(False)
    smap, rms = sensitivity(net, x_test[:s["probe_images"]], 100)
    spectrum = torch.fft.fft2(x_train[:5000], norm="ortho").abs().square().mean(0)
    t3 = time.perf_counter()
    arrays = {"sensitivity.map": smap.float(), "sensitivity.rms": rms.float(), "data.spectrum": spectrum.float()}
    result = {"metrics": {"test_accuracy": history[-1]["test_accuracy"], "train_loss": history[-1]["train_loss"]},
              "epochs": history,
              "arrays": [{"name": k, "shape": list(v.shape), "data": base64.b64encode(v.numpy().tobytes()).decode()}
                         for k, v in arrays.items()]}
    body = json.dumps(result, sort_keys=True).encode()
    t4 = time.perf_counter()
    return {"setup": t1 - t0, "training": t2 - t1, "probes": t3 - t2, "encoding": t4 - t3, "total": t4 - t0,
            "result_bytes": len(body), "test_accuracy": history[-1]["test_accuracy"],
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shape", choices=list(SHAPES), default="quickstart")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(json.dumps({args.shape: trial(args.shape)}, sort_keys=True))


if __name__ == "__main__":
    main()
