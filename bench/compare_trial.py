#!/usr/bin/env python3
"""Side by side: `fsweep bench trial` and bench/trial_torch.py, one trial per fresh process on each side, the two
sides back to back in alternating order for `--rounds` rounds. Prints per phase (setup, training, probes, encoding,
total) the median seconds of both sides and the median ratio PyTorch/fsweep of the totals (how many times faster
fsweep is), with the peak RSS. `--isa avx2` forces the AVX2 class as in compare_train.py.

    "$(./bench/setup-torch-venv.sh)" bench/compare_trial.py --fsweep .build/release/fsweep --shape paper --rounds 5
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare_train import AVX2_FSWEEP, AVX2_TORCH, HERE, cpu_model, run_json  # noqa: E402

PHASES = ["setup", "training", "probes", "encoding", "total"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fsweep", default=".build/release/fsweep")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--shape", choices=["quickstart", "paper"], default="quickstart")
    ap.add_argument("--isa", choices=["native", "avx2"], default="native")
    args = ap.parse_args()
    fs_cmd = [args.fsweep, "bench", "trial", "--json", "--shape", args.shape, "--threads", str(args.threads)]
    torch_cmd = [sys.executable, os.path.join(HERE, "trial_torch.py"), "--shape", args.shape, "--threads", str(args.threads)]
    sides = [("fsweep", fs_cmd, AVX2_FSWEEP if args.isa == "avx2" else {}),
             ("torch", torch_cmd, AVX2_TORCH if args.isa == "avx2" else {})]
    runs, loads = {"fsweep": [], "torch": []}, []
    for r in range(args.rounds):
        loads.append(os.getloadavg()[0])
        for name, cmd, env in (sides if r % 2 == 0 else sides[::-1]):
            runs[name].append(run_json(cmd, env)[args.shape])
    loads.append(os.getloadavg()[0])
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {cpu_model()}; ISA class {args.isa}; trial {args.shape}; "
          f"{args.threads} threads; {args.rounds} rounds; load average (1 min) {min(loads):.1f}–{max(loads):.1f}\n")
    ratios = [t["total"] / f["total"] for f, t in zip(runs["fsweep"], runs["torch"])]
    print("| phase | fsweep s | PyTorch s | ratio |")
    print("|---|---:|---:|---:|")
    for p in PHASES:
        f, t = (statistics.median(e[p] for e in runs[s]) for s in ("fsweep", "torch"))
        print(f"| {p} | {f:.3f} | {t:.3f} | {t / f:.1f}× |")
    print(f"\nper-round total ratios {' '.join(f'{x:.2f}' for x in ratios)}, median **{statistics.median(ratios):.2f}×**; "
          f"peak RSS fsweep {statistics.median(e.get('peak_rss_mb', float('nan')) for e in runs['fsweep']):.0f} MB, "
          f"PyTorch {statistics.median(e['peak_rss_mb'] for e in runs['torch']):.0f} MB")


if __name__ == "__main__":
    main()
