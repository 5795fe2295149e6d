#!/usr/bin/env python3
"""Side-by-side training throughput: `fsweep bench train` then PyTorch (bench/train_torch.py), same run.

Both use batch 128 of 32x32x3 images, the same four models (`--models` for a subset), the same thread
count, median step time after warm-up. Prints a Markdown table (model, fsweep img/s, PyTorch img/s, ratio, GFLOP/s,
% of FMA peak) and the raw JSON of both sides. Run with the throwaway venv's python:
    /work/venv-torch/bin/python bench/compare_train.py --fsweep .build/release/fsweep --threads 2
Rounds alternate fsweep and PyTorch so a change of machine load hits both sides.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_torch  # noqa: E402


def load():
    return os.getloadavg()[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fsweep", default=".build/release/fsweep")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--models", default=",".join(train_torch.BUILDERS),
                    help="comma-separated subset of " + ",".join(train_torch.BUILDERS))
    args = ap.parse_args()
    import torch
    torch.set_num_threads(args.threads)
    models = args.models.split(",")
    builders = train_torch.BUILDERS
    ours_runs, theirs_runs, loads = [], [], []
    for _ in range(args.rounds):
        loads.append(load())
        out = subprocess.run([args.fsweep, "bench", "train", "--json", "--threads", str(args.threads),
                              "--steps", str(args.steps), "--models", args.models], check=True, capture_output=True, text=True).stdout
        ours_runs.append(json.loads(out.strip().splitlines()[-1]))
        theirs = {}
        for name in models:
            torch.manual_seed(0)
            theirs[name] = train_torch.bench(name, builders[name](), 128, args.steps, 1)
        theirs_runs.append(theirs)
        loads.append(load())

    def best(runs, name):  # the least-disturbed round of each side
        return max((r[name] for r in runs), key=lambda e: e["images_per_second"])

    print(f"load average (1 min) during the run: {min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} CPUs; "
          f"torch {torch.__version__}; threads {args.threads}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    peak = max(r["fma_peak_gflops"] for r in ours_runs)
    print(f"measured FMA peak: {peak:.1f} GFLOP/s\n")
    print("| model | fsweep img/s | PyTorch img/s | ratio | fsweep GFLOP/s | % of FMA peak | fsweep CPU-s/step | PyTorch CPU-s/step |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name in models:
        o, t = best(ours_runs, name), best(theirs_runs, name)
        print(f"| {name} | {o['images_per_second']:.1f} | {t['images_per_second']:.1f} | "
              f"{o['images_per_second'] / t['images_per_second']:.2f}× | {o['gflops']:.1f} | "
              f"{100 * o['gflops'] / peak:.0f}% | {o.get('median_step_cpu_seconds', float('nan')):.2f} | {t['median_step_cpu_seconds']:.2f} |")
    print("\n" + json.dumps({"fsweep": ours_runs, "torch": theirs_runs}, sort_keys=True))


if __name__ == "__main__":
    main()
