#!/usr/bin/env python3
"""Side by side: `fsweep bench train` and PyTorch (bench/train_torch.py) on the same models, same run.

Both sides train batch 128 of 32x32x3 from the SAME initial weights and images (fsweep writes them with
`--dump`, PyTorch loads them), SGD(lr 0.001, momentum 0.9), on the same thread count. Every model of every round
runs in a fresh process on each side, the two sides back to back in alternating order (so a drift of a shared
machine's speed hits both), which also makes each process's peak RSS that model's. Prints per model: the median
ratio over rounds of img/s, both sides' median img/s, peak RSS, and the losses of the first round's steps (equal
numerical quality: the two sides' losses agree from the same start; dropout masks differ, so VGG's drift apart).

`--isa avx2` forces the AVX2 class on an AVX-512 machine: FSWEEP_ISA=avx2 for fsweep (which also sets
OPENBLAS_CORETYPE=Haswell and ONEDNN_MAX_CPU_ISA=AVX2), and ONEDNN_MAX_CPU_ISA=AVX2, ATEN_CPU_CAPABILITY=avx2,
MKL_ENABLE_INSTRUCTIONS=AVX2 for PyTorch.

    "$(./bench/setup-torch-venv.sh)" bench/compare_train.py --fsweep .build/release/fsweep --rounds 5 [--isa avx2]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = "myrtle,myrtle-bn,vgg11,vgg11-bn,convactually,convactually-linear"

AVX2_FSWEEP = {"FSWEEP_ISA": "avx2"}
AVX2_TORCH = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}


def run_json(cmd, env):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env={**os.environ, **env}).stdout
    return json.loads(out.strip().splitlines()[-1])


def cpu_model():
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fsweep", default=".build/release/fsweep")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--models", default=MODELS)
    ap.add_argument("--isa", choices=["native", "avx2"], default="native")
    args = ap.parse_args()
    fs_env = AVX2_FSWEEP if args.isa == "avx2" else {}
    torch_env = AVX2_TORCH if args.isa == "avx2" else {}
    models = args.models.split(",")
    dump = tempfile.mkdtemp(prefix="fsweep-bench-")
    ours, theirs, loads = {m: [] for m in models}, {m: [] for m in models}, []
    for r in range(args.rounds):
        for name in models:
            loads.append(os.getloadavg()[0])
            fs_cmd = [args.fsweep, "bench", "train", "--json", "--threads", str(args.threads), "--steps", str(args.steps),
                      "--models", name, "--dump", dump]
            torch_cmd = [sys.executable, os.path.join(HERE, "train_torch.py"), "--threads", str(args.threads),
                         "--steps", str(args.steps), "--models", name, "--load", dump]
            sides = [(ours, fs_cmd, fs_env), (theirs, torch_cmd, torch_env)]
            if r % 2:  # alternate which side runs first (PyTorch needs fsweep's dump: the first round is fsweep-first)
                sides.reverse()
            for store, cmd, env in sides:
                store[name].append(run_json(cmd, env)[name])
        loads.append(os.getloadavg()[0])

    commit = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    torch_version = run_json([sys.executable, "-c", "import torch, json; print(json.dumps(torch.__version__))"], {})
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; commit {commit}; {cpu_model()}; ISA class {args.isa}; "
          f"torch {torch_version}; {args.threads} threads; {args.rounds} rounds × {args.steps} steps; "
          f"load average (1 min) {min(loads):.1f}–{max(loads):.1f} on {os.cpu_count()} CPUs\n")
    print("| model | fsweep img/s | PyTorch img/s | per-round ratios | median ratio | fsweep peak RSS MB | PyTorch peak RSS MB | "
          "losses fsweep / PyTorch (round 1) |")
    print("|---|---:|---:|---|---:|---:|---:|---|")
    for name in models:
        rs = [o["images_per_second"] / t["images_per_second"] for o, t in zip(ours[name], theirs[name])]
        med = lambda runs, key: statistics.median(e[key] for e in runs)
        losses = " ".join(f"{a:.4f}/{b:.4f}" for a, b in zip(ours[name][0]["losses"], theirs[name][0]["losses"]))
        print(f"| {name} | {med(ours[name], 'images_per_second'):.1f} | {med(theirs[name], 'images_per_second'):.1f} | "
              f"{' '.join(f'{x:.2f}' for x in rs)} | **{statistics.median(rs):.2f}×** | "
              f"{med(ours[name], 'peak_rss_mb'):.0f} | {med(theirs[name], 'peak_rss_mb'):.0f} | {losses} |")
    print("\n" + json.dumps({"fsweep": ours, "torch": theirs}, sort_keys=True))


if __name__ == "__main__":
    main()
