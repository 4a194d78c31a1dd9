"""The trainer against a plain PyTorch loop, on the same model and data, in one run.

Our trainer (``automl_bench.train.train``): the data resident on the device, batches as index
slices, bf16 autocast and channels_last on CUDA, one device sync per epoch. The plain loop: a
``torch.utils.data.DataLoader`` over a CPU ``TensorDataset`` (shuffled, batches copied to the
device one by one), float32, a ``loss.item()`` per batch, as tutorials write it. Both train
benchmarks/spaces/cnn32.py's network (wider: ``--width``) on CIFAR-shaped random data for the
same epochs with the same optimiser; each side runs once untimed first (CUDA's kernels and
cuDNN's choices, the allocator's pool), then timed. Target (issue 17): images per second, ours
against the plain loop, at least 1.4x on a GPU. Prints one JSON line last.

    python benchmarks/trainer_speed.py [--images 50000 --epochs 3]
    python benchmarks/trainer_speed.py --smoke      # tiny, on whatever device there is
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import torch
from torch import nn

from automl_bench.train import TrainSettings, train

BATCH = 256


def network(width: int) -> nn.Module:
    layers: list[nn.Module] = []
    channels = 3
    for i in range(3):
        layers += [nn.Conv2d(channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width)]
        layers += [nn.ReLU()] + ([nn.MaxPool2d(2)] if i < 2 else [])
        channels = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, 10))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def ours(x: torch.Tensor, y: torch.Tensor, width: int, epochs: int, device: torch.device) -> float:
    """Seconds for ``epochs`` epochs of our trainer, the data already on the device."""
    torch.manual_seed(0)
    model = network(width).to(device)
    settings = TrainSettings(epochs=epochs, lr=3e-3, batch_size=BATCH, optimizer="adam")
    xd, yd = x.to(device), y.to(device)
    _sync(device)
    start = time.perf_counter()
    train(model, xd, yd, None, None, settings, seed=0)
    _sync(device)
    return time.perf_counter() - start


def plain(x: torch.Tensor, y: torch.Tensor, width: int, epochs: int, device: torch.device) -> float:
    """Seconds for ``epochs`` epochs of a plain DataLoader loop in float32."""
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    model = network(width).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    loader = DataLoader(TensorDataset(x, y), batch_size=BATCH, shuffle=True)
    _sync(device)
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            loss = nn.functional.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            optimizer.step()
            loss.item()
    _sync(device)
    return time.perf_counter() - start


def measure(images: int, epochs: int, width: int, device: torch.device) -> dict[str, Any]:
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(images, 3, 32, 32, generator=generator)
    y = torch.randint(0, 10, (images,), generator=generator)
    warm = max(BATCH * 4, images // 10)
    ours(x[:warm], y[:warm], width, 1, device)  # untimed: kernels, cuDNN's choices, the pool
    plain(x[:warm], y[:warm], width, 1, device)
    ours_s = ours(x, y, width, epochs, device)
    plain_s = plain(x, y, width, epochs, device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    return {
        "device": name,
        "torch": torch.__version__,
        "images": images,
        "epochs": epochs,
        "width": width,
        "ours_images_per_s": images * epochs / ours_s,
        "plain_images_per_s": images * epochs / plain_s,
        "speedup": plain_s / ours_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=50_000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks that it runs")
    args = parser.parse_args()
    if args.smoke:
        args.images, args.epochs, args.width = 2 * BATCH, 1, 8
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    figures = measure(args.images, args.epochs, args.width, device)
    print(
        f"trainer on {figures['device']}: {figures['ours_images_per_s']:,.0f} images/s, plain "
        f"DataLoader fp32 loop {figures['plain_images_per_s']:,.0f} images/s: "
        f"{figures['speedup']:.2f}x (target on a GPU: >= 1.4x)"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
