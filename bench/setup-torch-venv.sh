#!/bin/sh
# Creates the PyTorch comparison venv OUTSIDE the repository (PyTorch is never a dependency of fsweep) and
# prints its python. Every PyTorch command in BENCHMARKS.md runs "$FSWEEP_TORCH_VENV/bin/python".
#
#   ./bench/setup-torch-venv.sh                 # venv at ${FSWEEP_TORCH_VENV:-$HOME/.cache/fsweep/torch-venv}
#   FSWEEP_TORCH_VENV=/tmp/tv ./bench/setup-torch-venv.sh
#
# torch, numpy and safetensors come from PyPI (torch's CPU kernels are the ones compared; its CUDA libraries stay
# unused; safetensors reads sweep checkpoints, examples/load_checkpoint.py).
# Re-running is cheap: an existing venv with torch importable is left as it is.
set -eu
venv="${FSWEEP_TORCH_VENV:-$HOME/.cache/fsweep/torch-venv}"
case "$venv" in
    "$(cd "$(dirname "$0")/.." && pwd)"/*) echo "FSWEEP_TORCH_VENV must lie outside the repository: $venv" >&2; exit 2 ;;
esac
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import torch, numpy, safetensors' 2>/dev/null; then
    echo "$venv/bin/python"
    exit 0
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet torch numpy safetensors
"$venv/bin/python" -c 'import torch; print("torch", torch.__version__, "threads", torch.get_num_threads())' >&2
echo "$venv/bin/python"
