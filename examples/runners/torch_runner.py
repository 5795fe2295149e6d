#!/usr/bin/env python3
"""An external fsweep runner in PyTorch: trains the trial's model on the GPU that CUDA_VISIBLE_DEVICES names.

    fsweep run sweeps/quickstart.yaml --workers 2 --gpus 0,1 \
        --runner-command "python3 examples/runners/torch_runner.py"

Protocol (see Sources/Runner/ExternalRunner.swift): the trial config arrives as JSON on stdin; progress goes to
stdout as one JSON object per line, {"progress": {"epoch": k, "epochs": n, "metrics": {...}}} after each epoch
and {"step": 1} every few batches of a long epoch (the coordinator's stall timeout counts these); the last
line is {"metrics": {...}, "arrays": [{"name", "shape", "data"}], "epochs": [{...}, ...]}. Exit status 3 marks
a failure that must not be retried (a bad config); other non-zero statuses are retried.

The data is synthetic (class-dependent plane waves plus noise, seeded by the trial seed) so the example runs
anywhere; replace `make_data` and `make_model` with your own.
"""
import json
import math
import sys

import torch
from torch import nn


def emit(obj):
    print(json.dumps(obj), flush=True)


def make_data(size, n, classes, seed):
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, classes, (n,), generator=g)
    yy, xx = torch.meshgrid(torch.arange(size), torch.arange(size), indexing="ij")
    waves = torch.stack([torch.cos(2 * math.pi * (c + 1) * (xx + yy) / size) for c in range(classes)])
    images = waves[labels].unsqueeze(1).repeat(1, 3, 1, 1) + 0.5 * torch.randn(n, 3, size, size, generator=g)
    return images.float(), labels


def make_model(model, classes):
    depth, width = int(model.get("depth", 2)), int(model.get("width", 16))
    act = nn.ReLU() if model.get("activation", "relu") == "relu" else nn.Identity()
    layers, channels = [], 3
    for _ in range(max(depth - 1, 1)):
        layers += [nn.Conv2d(channels, width, 3, padding=1, padding_mode="circular"), act]
        channels = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, classes))


def main():
    config = json.load(sys.stdin)
    data, model_cfg, train = config.get("dataset", {}), config.get("model", {}), config.get("train", {})
    epochs = train.get("epochs", 10)
    if not isinstance(epochs, int) or epochs < 1:
        emit({"error": "train.epochs must be a positive integer", "retryable": False})
        return 3
    torch.manual_seed(config.get("seed", 0))
    device = "cuda" if torch.cuda.is_available() else "cpu"
    size, classes = int(data.get("image_size", 16)), 10
    x_train, y_train = make_data(size, int(data.get("train_size", 512)), classes, config.get("seed", 0))
    x_test, y_test = make_data(size, int(data.get("test_size", 256)), classes, 10_000 + config.get("seed", 0))
    net = make_model(model_cfg, classes).to(device)
    opt = torch.optim.SGD(net.parameters(), lr=train.get("lr", 0.01), momentum=train.get("momentum", 0.9),
                          weight_decay=train.get("weight_decay", 0.0))
    batch = int(train.get("batch_size", 128))
    history = []
    for epoch in range(1, epochs + 1):
        net.train()
        order, total = torch.randperm(len(x_train)), 0.0
        for i in range(0, len(order), batch):
            idx = order[i:i + batch]
            loss = nn.functional.cross_entropy(net(x_train[idx].to(device)), y_train[idx].to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            if (i // batch) % 50 == 49:
                emit({"step": 1})
        metrics = {"loss": total / len(x_train)}
        if not math.isfinite(metrics["loss"]):
            emit({"error": f"loss diverged at epoch {epoch}", "retryable": False})
            return 3
        history.append(metrics)
        emit({"progress": {"epoch": epoch, "epochs": epochs, "metrics": metrics}})
    net.eval()
    with torch.no_grad():
        accuracy = (net(x_test.to(device)).argmax(1).cpu() == y_test).float().mean().item()
    # An array output: the radially averaged power spectrum of the first layer's filters.
    weight = net[0].weight.detach().cpu()
    spectrum = torch.fft.fft2(weight, s=(size, size)).abs().pow(2).mean(dim=(0, 1))
    emit({"metrics": {"test_accuracy": accuracy}, "epochs": history,
          "arrays": [{"name": "filter_power", "shape": list(spectrum.shape), "data": spectrum.flatten().tolist()}]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
