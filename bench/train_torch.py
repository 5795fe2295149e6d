#!/usr/bin/env python3
"""PyTorch CPU training throughput on the models of `fsweep bench train`, for comparison only.

Same models as Sources/Networks/Model.swift (Myrtle and VGG11 width 64 without and with BN, ConvActually
depth 4 width 64 ReLU, and `convactually-linear`: ConvActually depth 4 width 32 without activations,
input normalization inside the model: a 4-layer 32-channel circular linear CNN), batch 128 of random 32x32x3
images, SGD(lr 0.001, momentum 0.9), cross-entropy; median step time (forward+backward+SGD) after warm-up. Prints JSON like
`fsweep bench train --json`.

The models come from bench/torch_models.py (shared with sensitivity_torch.py).

PyTorch is never a dependency of fsweep: run this from the venv bench/setup-torch-venv.sh makes, e.g.
    "$(./bench/setup-torch-venv.sh)" bench/train_torch.py --threads 2
Run one model per process to read its peak RSS (`peak_rss_mb`); compare_train.py does.
"""
import argparse
import json
import os
import resource
import statistics
import time

import torch
import torch.nn.functional as F

from torch_models import convactually, convactually_linear, myrtle, vgg11


BUILDERS = {"myrtle": myrtle, "myrtle-bn": lambda: myrtle(bn=True), "vgg11": lambda: vgg11(bn=False), "vgg11-bn": vgg11,
            "convactually": convactually, "convactually-linear": convactually_linear}


def forward_flops(name, batch):
    """Same FLOP count as fsweep's TrainBenchmark.forwardFLOPs (convs, dense, circular as 8/complex MAC)."""
    name = name.removesuffix("-bn")
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


def load(model, directory):
    """fsweep's initial parameters (`fsweep bench train --dump`, in its parameter order, which is PyTorch's
    `model.parameters()` order for these models) and its batch; returns x."""
    import numpy as np
    params = list(model.parameters())
    with torch.no_grad():
        for i, p in enumerate(params):
            value = torch.from_numpy(np.load(os.path.join(directory, f"param_{i}.npy")))
            if value.shape != p.shape:
                raise SystemExit(f"{directory}: param_{i}.npy has shape {tuple(value.shape)}, the model wants {tuple(p.shape)}")
            p.copy_(value)
    return torch.from_numpy(np.load(os.path.join(directory, "x.npy")))


def bench(name, model, batch, steps, warmup, start=None):
    torch.manual_seed(1)
    x = torch.rand(batch, 3, 32, 32) if start is None else load(model, start)
    y = torch.arange(batch) % 10
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    model.train()
    losses = []

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())

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
            "median_step_cpu_seconds": statistics.median(cpu), "losses": losses,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--models", default=",".join(BUILDERS))
    ap.add_argument("--load", help="directory of `fsweep bench train --dump`: start each model from fsweep's weights and batch")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = {"torch_version": torch.__version__, "threads": args.threads}
    for name in args.models.split(","):
        torch.manual_seed(0)
        start = os.path.join(args.load, name) if args.load else None
        out[name] = bench(name, BUILDERS[name](), args.batch_size, args.steps, args.warmup, start)
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
