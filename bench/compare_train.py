#!/usr/bin/env python3
"""Side-by-side training throughput: `fsweep bench train` then PyTorch (bench/train_torch.py), same run.

Both use batch 128 of 32x32x3 images, the same four models (`--models` for a subset), the same thread
count, median step time after warm-up. Prints a Markdown table (model, fsweep img/s, PyTorch img/s, ratio, GFLOP/s,
% of FMA peak) and the raw JSON of both sides. Run with the throwaway venv's python:
    /work/venv-torch/bin/python bench/compare_train.py --fsweep .build/release/fsweep --threads 2
Within each round every model runs on fsweep and then on PyTorch back to back, so a drift of the
shared machine's speed hits both sides; the per-round ratios and their median are printed.
"""
import argparse
import json
import os
import statistics
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
        ours, theirs = {}, {}
        for name in models:  # each model's two sides back to back, so drift between them stays small
            loads.append(load())
            out = subprocess.run([args.fsweep, "bench", "train", "--json", "--threads", str(args.threads),
                                  "--steps", str(args.steps), "--models", name], check=True, capture_output=True, text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            ours[name] = r[name]
            ours["fma_peak_gflops"] = max(ours.get("fma_peak_gflops", 0), r["fma_peak_gflops"])
            torch.manual_seed(0)
            theirs[name] = train_torch.bench(name, builders[name](), 128, args.steps, 1)
        ours_runs.append(ours)
        theirs_runs.append(theirs)
        loads.append(load())

    def best(runs, name):  # the least-disturbed round of each side
        return max((r[name] for r in runs), key=lambda e: e["images_per_second"])

    def ratios(name):  # fsweep/PyTorch per round (the two sides ran back to back)
        return [o[name]["images_per_second"] / t[name]["images_per_second"] for o, t in zip(ours_runs, theirs_runs)]

    print(f"load average (1 min) during the run: {min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} CPUs; "
          f"torch {torch.__version__}; threads {args.threads}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    peak = max(r["fma_peak_gflops"] for r in ours_runs)
    print(f"measured FMA peak: {peak:.1f} GFLOP/s\n")
    print("| model | fsweep img/s (best) | PyTorch img/s (best) | ratio of bests | per-round ratios | median ratio | "
          "fsweep GFLOP/s | % of FMA peak | fsweep CPU-s/step | PyTorch CPU-s/step |")
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    for name in models:
        o, t = best(ours_runs, name), best(theirs_runs, name)
        rs = ratios(name)
        print(f"| {name} | {o['images_per_second']:.1f} | {t['images_per_second']:.1f} | "
              f"{o['images_per_second'] / t['images_per_second']:.2f}× | {' '.join(f'{r:.2f}' for r in rs)} | "
              f"{statistics.median(rs):.2f}× | {o['gflops']:.1f} | "
              f"{100 * o['gflops'] / peak:.0f}% | {o.get('median_step_cpu_seconds', float('nan')):.2f} | {t['median_step_cpu_seconds']:.2f} |")
    print("\n" + json.dumps({"fsweep": ours_runs, "torch": theirs_runs}, sort_keys=True))


if __name__ == "__main__":
    main()
