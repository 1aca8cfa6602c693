"""An honest likelihood: the importance-weighted bound with K = 1, 100 and 1000 samples, and its time.

Trains the default model on Fashion-MNIST for --epochs epochs (or takes a checkpoint), then reports
the test negative ELBO and -L_K (an upper bound on -log p(x), nats per image) for each K with the
seconds it took, and the machine. --quick trains a tiny model on 2,000 built-in shapes for one epoch
and uses K = 1, 10, 100 on 200 test images (the smoke test).

    python -m benchmarks.bench_likelihood [--checkpoint PATH] [--epochs 10] [--samples 1,100,1000]
                                          [--test-images N] [--device cpu|cuda] [--quick]
"""

from __future__ import annotations

import argparse
import time

import torch

from benchmarks._common import report
from vae_desktop.core.checkpoint import load_checkpoint
from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.datasets import load_dataset
from vae_desktop.core.datasets.shapes import load_shapes
from vae_desktop.core.errors import DatasetError
from vae_desktop.core.evaluation import evaluate_model
from vae_desktop.core.likelihood import check_importance_samples, importance_weighted_bound
from vae_desktop.core.model import VAE, new_model
from vae_desktop.core.trainer import Trainer


def _trained(dataset, model_config: ModelConfig, config: TrainConfig) -> tuple[VAE, float]:
    trainer = Trainer(new_model(model_config, config.seed), dataset, config)
    started = time.perf_counter()
    for _ in trainer.run():
        pass
    return trainer.model.eval(), time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoint", help="evaluate this checkpoint instead of training")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--samples", default="1,100,1000", help="comma-separated K values")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--test-images", type=int, help="only the first N test images (K = 1000 on all 10,000 "
                        "decodes 10 million samples: ~150 µs each on one core of the dev machine)")
    parser.add_argument("--quick", action="store_true", help="tiny model on shapes, K = 1, 10, 100 (smoke test)")
    args = parser.parse_args()
    torch.set_grad_enabled(False)
    samples = [check_importance_samples(int(k)) for k in args.samples.split(",")]
    train_seconds = None
    if args.quick:
        dataset = load_shapes(num_train=2000, num_test=200)
        samples = [1, 10, 100]
        with torch.enable_grad():
            model, train_seconds = _trained(dataset, ModelConfig(z_dim=4, base_width=8, hidden=64),
                                            TrainConfig(epochs=1, batch_size=100, device=args.device))
        source, recon_loss, seed = "shapes, 1 epoch (quick)", "bernoulli", 0
    elif args.checkpoint:
        checkpoint = load_checkpoint(args.checkpoint)
        dataset = load_dataset(checkpoint.dataset, download=False)
        model = checkpoint.build_model().to(args.device)
        source = f"{args.checkpoint} ({checkpoint.dataset}, {checkpoint.progress.epoch} epochs)"
        recon_loss, seed = checkpoint.train_config.recon_loss, checkpoint.train_config.seed
    else:
        try:
            dataset = load_dataset("fashion-mnist", download=False)
        except DatasetError as exc:
            print(f"bench_likelihood skipped: {exc}")
            return
        config = TrainConfig(epochs=args.epochs, device=args.device)
        with torch.enable_grad():
            model, train_seconds = _trained(dataset, ModelConfig(), config)
        source, recon_loss, seed = f"fashion-mnist, default model, {args.epochs} epochs", "bernoulli", 0
    images = dataset.test_images[: args.test_images] if args.test_images else dataset.test_images
    evaluation = evaluate_model(model, images, recon_loss, seed)
    assert evaluation is not None
    bounds = {}
    for k in samples:
        bound = importance_weighted_bound(model, images, k, recon_loss, seed)
        assert bound is not None
        bounds[k] = (bound.negative, bound.seconds)
    results = {
        "source": source,
        "test_images": len(images),
        "train_seconds": None if train_seconds is None else round(train_seconds, 1),
        "test_negative_elbo": round(evaluation.negative_elbo, 2),
        "negative_iw_bound": {k: round(v, 2) for k, (v, _) in bounds.items()},
        "iw_seconds": {k: round(s, 2) for k, (_, s) in bounds.items()},
    }
    rows = [("test negative ELBO (nats/image)", f"{evaluation.negative_elbo:.2f}", "")]
    rows += [(f"-L_K, K = {k} (nats/image)", f"{v:.2f}", f"{s:.1f} s") for k, (v, s) in bounds.items()]
    report("likelihood", results, rows)


if __name__ == "__main__":
    main()
