"""`vae-desktop evaluate`: test-set reconstruction, KL and negative ELBO of a checkpoint or a run folder
(its latest checkpoint, or `--which best`), and on request the importance-weighted bound
(--importance-samples K), as a sentence or one JSON object (--json)."""

from __future__ import annotations

import argparse
import json
import math
import sys

from vae_desktop.core.checkpoint import load_checkpoint
from vae_desktop.core.datasets import load_dataset
from vae_desktop.core.device import pick_device
from vae_desktop.core.errors import CheckpointError, ConfigError
from vae_desktop.core.evaluation import evaluate_model
from vae_desktop.core.likelihood import importance_weighted_bound
from vae_desktop.core.runs.resume_point import checkpoint_to_resume


def run_evaluate(args: argparse.Namespace) -> int:
    device = pick_device(args.device)  # the same rule as `train`, checked before anything slow
    path = checkpoint_to_resume(args.checkpoint, getattr(args, "which", "latest")).checkpoint
    checkpoint = load_checkpoint(path)
    for note in checkpoint.notes:
        print(f"Note: {note}", file=sys.stderr)
    dataset = load_dataset(args.dataset or checkpoint.dataset, args.data_root, seed=checkpoint.train_config.seed,
                           image_size=checkpoint.image_size)
    if tuple(dataset.image_shape) != checkpoint.model_config.image_shape:
        raise ConfigError(f"The model expects images of shape {checkpoint.model_config.image_shape} but "
                          f"{dataset.name} has {dataset.image_shape}.")
    model = checkpoint.build_model().to(device)
    recon_loss, seed = checkpoint.train_config.recon_loss, checkpoint.train_config.seed
    result = evaluate_model(model, dataset.test_images, recon_loss, seed)
    assert result is not None
    if not all(math.isfinite(v) for v in (result.recon, result.kl)):
        raise CheckpointError(
            f"{path.name} gives no finite test loss on {dataset.name} (recon {result.recon}, KL "
            f"{result.kl}): its weights overflow on these images, so there is nothing to report."
        )
    report: dict[str, object] = {
        "dataset": dataset.name, "images": dataset.num_test, "recon": result.recon, "kl": result.kl,
        "negative_elbo": result.negative_elbo, "active_units": result.active_units,
    }
    sentence = (f"{dataset.name} test set ({dataset.num_test} images): recon {result.recon:.2f}, KL {result.kl:.2f}, "
                f"negative ELBO {result.negative_elbo:.2f} nats per image; {result.active_units} of "
                f"{checkpoint.model_config.z_dim} active units")
    samples = getattr(args, "importance_samples", None)
    if samples is not None:
        bound = importance_weighted_bound(model, dataset.test_images, samples, recon_loss, seed)
        assert bound is not None
        if not math.isfinite(bound.negative):
            raise CheckpointError(f"{path.name} gives no finite importance-weighted bound on "
                                  f"{dataset.name}: its weights overflow on these images.")
        report.update(importance_samples=samples, negative_iw_bound=bound.negative, iw_seconds=bound.seconds)
        sentence += (f"; importance-weighted bound with K = {samples}: -log p(x) <= {bound.negative:.2f} nats per "
                     f"image ({bound.seconds:.1f} s)")
    if getattr(args, "json", False):
        print(json.dumps(report))
    else:
        print(sentence)
    return 0
