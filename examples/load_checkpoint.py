"""Load a trial checkpoint of an fsweep sweep (runner.save_model: true) in PyTorch.

    python examples/load_checkpoint.py results/NAME/trials/ID/model.safetensors            # prints the description
    python examples/load_checkpoint.py MODEL.safetensors images.npy logits.npy             # ConvActually logits

The file alone describes the model: its safetensors metadata holds arch, depth, width, activation, batch_norm,
classes, channels, image_size and the input normalization (input_mean, input_std, JSON lists); the tensors are
named as PyTorch module paths (convs.0.weight, fc.weight, features.0.weight, ...). Images are pixel-space
float32 [N, C, H, W]; the model normalizes them itself, as fsweep does. Needs: torch, numpy, safetensors.
"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F
from safetensors import safe_open


def load(path):
    """The metadata (a dict of strings) and the weights (a dict of tensors) of one checkpoint."""
    with safe_open(path, framework="pt") as f:
        return f.metadata(), {name: f.get_tensor(name) for name in f.keys()}


def convactually_logits(meta, w, x):
    """ConvActually(d): normalize, d-1 full-image circular convolutions (+ReLU), then the dense layer."""
    mean = torch.tensor(json.loads(meta["input_mean"])).view(1, -1, 1, 1)
    std = torch.tensor(json.loads(meta["input_std"])).view(1, -1, 1, 1)
    x = (x - mean) / std
    for i in range(int(meta["depth"]) - 1):
        k = w[f"convs.{i}.weight"]                      # [O, C, H, W]: PyTorch's Conv2d(kernel=(H, W), circular padding)
        h, wd = k.shape[2], k.shape[3]
        x = F.conv2d(F.pad(x, (wd // 2, wd // 2, h // 2, h // 2), mode="circular"), k, w[f"convs.{i}.bias"])[..., :h, :wd]
        if meta["activation"] == "relu":
            x = torch.relu(x)
    return x.flatten(1) @ w["fc.weight"].T + w["fc.bias"]


def main():
    meta, weights = load(sys.argv[1])
    print(json.dumps(meta, sort_keys=True))
    print({name: list(t.shape) for name, t in sorted(weights.items())})
    if len(sys.argv) == 4:
        if meta["arch"] != "convactually":
            sys.exit(f"this example computes logits of convactually only, not {meta['arch']}")
        x = torch.from_numpy(np.load(sys.argv[2]).astype(np.float32))
        np.save(sys.argv[3], convactually_logits(meta, weights, x).detach().numpy().astype(np.float32))


if __name__ == "__main__":
    main()
