"""Model quality: test negative ELBO (nats/image) on Fashion-MNIST after 1, 5 and 10 epochs with defaults.

Runs the app's Trainer and, for reference, a careful hand-written PyTorch loop of the same model
(same architecture, batch size, optimiser and seed), and reports both with seconds per epoch.
Skipped with a message when Fashion-MNIST is not installed.

    python -m benchmarks.bench_quality [--epochs 10] [--quick]
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from benchmarks._common import report
from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.datasets import load_dataset
from vae_desktop.core.errors import DatasetError
from vae_desktop.core.evaluation import evaluate_model
from vae_desktop.core.metrics import EpochMetrics
from vae_desktop.core.model import VAE
from vae_desktop.core.trainer import Trainer

CHECKPOINTS = (1, 5, 10)


def app_trainer(dataset, epochs: int) -> list[tuple[int, float, float]]:
    torch.manual_seed(0)
    model = VAE(ModelConfig(channels=1, height=28, width=28))
    trainer = Trainer(model, dataset, TrainConfig(epochs=epochs, device="cpu"))
    return [(m.epoch, m.test_total, m.seconds) for m in trainer.run() if isinstance(m, EpochMetrics)]


def hand_written_loop(dataset, epochs: int) -> list[tuple[int, float, float]]:
    """The textbook loop (pytorch/examples vae style), for a log-stddev encoder."""
    torch.manual_seed(0)
    model = VAE(ModelConfig(channels=1, height=28, width=28))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    images = dataset.train_images.float() / 255
    out = []
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        model.train()
        for idx in torch.randperm(len(images)).split(128):
            x = images[idx]
            raw = model.encoder(x)
            mean, log_std = raw.chunk(2, dim=1)
            z = mean + log_std.exp() * torch.randn_like(mean)
            recon = F.binary_cross_entropy_with_logits(model.decoder(z), x, reduction="sum")
            kl = (-log_std + 0.5 * (mean**2 + (2 * log_std).exp()) - 0.5).sum()
            loss = (recon + kl) / len(x)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        evaluation = evaluate_model(model, dataset.test_images)
        out.append((epoch, evaluation.negative_elbo, time.perf_counter() - started))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--quick", action="store_true", help="1 epoch on 2,000 images (smoke test)")
    args = parser.parse_args()
    try:
        dataset = load_dataset("fashion-mnist", download=False)
    except DatasetError as exc:
        print(f"bench_quality skipped: {exc}")
        return
    if args.quick:
        dataset.train_images, dataset.train_labels = dataset.train_images[:2000], dataset.train_labels[:2000]
        dataset.test_images, dataset.test_labels = dataset.test_images[:500], dataset.test_labels[:500]
        args.epochs = 1
    app = app_trainer(dataset, args.epochs)
    ref = hand_written_loop(dataset, args.epochs)
    marks = [e for e in CHECKPOINTS if e <= args.epochs] or [args.epochs]
    results = {
        "dataset": "fashion-mnist",
        "epochs": args.epochs,
        "app_test_nelbo": {e: round(app[e - 1][1], 2) for e in marks},
        "reference_test_nelbo": {e: round(ref[e - 1][1], 2) for e in marks},
        "app_seconds_per_epoch": round(sum(s for _, _, s in app) / len(app), 2),
        "reference_seconds_per_epoch": round(sum(s for _, _, s in ref) / len(ref), 2),
    }
    rows = [(f"test -ELBO after {e} epochs (app / hand loop)", f"{app[e - 1][1]:.1f} / {ref[e - 1][1]:.1f}",
             "< 250 at 10" if e == 10 else "") for e in marks]
    rows.append(("seconds per epoch (app / hand loop)",
                 f"{results['app_seconds_per_epoch']:.1f} / {results['reference_seconds_per_epoch']:.1f}", "minutes for 10"))
    report("quality", results, rows)


if __name__ == "__main__":
    main()
