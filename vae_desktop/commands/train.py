"""`vae-desktop train`: train with a progress bar, save atomically after every epoch, resume exactly."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from vae_desktop.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.datasets import DEFAULT_DATASET, load_dataset
from vae_desktop.core.device import describe_device
from vae_desktop.core.errors import ConfigError
from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
from vae_desktop.core.metrics_csv import write_metrics_csv
from vae_desktop.core.model import new_model
from vae_desktop.core.trainer import Trainer
from vae_desktop.core.wording import counted

CHECKPOINT_NAME = "model.vaeckpt"
METRICS_NAME = "metrics.csv"
_TRAIN_FLAGS = {"epochs": "epochs", "batch_size": "batch_size", "lr": "lr", "beta": "beta", "seed": "seed",
                "device": "device", "recon_loss": "recon_loss"}


def run_train(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} exists and is not a folder.")
    _refuse_to_overwrite(out / CHECKPOINT_NAME, args.resume, args.overwrite)
    resumed = load_checkpoint(args.resume) if args.resume else None
    overrides = {field: getattr(args, flag) for flag, field in _TRAIN_FLAGS.items() if getattr(args, flag) is not None}
    if resumed is not None:
        if args.z_dim is not None and args.z_dim != resumed.model_config.z_dim:
            raise ConfigError(
                f"--z-dim {args.z_dim} differs from the checkpoint's z_dim {resumed.model_config.z_dim}; "
                "a resumed run keeps its architecture."
            )
        train_config = TrainConfig.from_dict({**resumed.train_config.to_dict(), **overrides})
        dataset_name = args.dataset or resumed.dataset
    else:
        train_config = TrainConfig(**overrides)
        dataset_name = args.dataset or DEFAULT_DATASET

    dataset = load_dataset(dataset_name, args.data_root, seed=train_config.seed)
    if resumed is not None:
        model = resumed.build_model()
        trainer = Trainer(model, dataset, train_config, history=resumed.history,
                          optimizer_state=resumed.optimizer_state, progress=resumed.progress,
                          rng_state=resumed.rng_state)
    else:
        c, h, w = dataset.image_shape
        model_kwargs = {"channels": c, "height": h, "width": w}
        for flag in ("z_dim", "base_width"):
            if getattr(args, flag) is not None:
                model_kwargs[flag] = getattr(args, flag)
        trainer = Trainer(new_model(ModelConfig(**model_kwargs), train_config.seed), dataset, train_config)

    out.mkdir(parents=True, exist_ok=True)
    checkpoint_path, metrics_path = out / CHECKPOINT_NAME, out / METRICS_NAME
    if trainer.finished:
        print(f"Already trained {counted(trainer.progress.epoch, 'epoch')} (--epochs {train_config.epochs}); "
              "nothing to do.")
        return 0
    print(f"Training on {dataset.name} ({dataset.num_train} train / {dataset.num_test} test images) "
          f"with {describe_device(trainer.device)}.", file=sys.stderr)
    for note in dataset.notes[1:]:  # e.g. "skipped 3 unreadable files" of an image folder
        print(f"Note: {note}.", file=sys.stderr)
    started = time.perf_counter()
    last_epoch: EpochMetrics | None = None
    bar = _progress_bar(trainer, args.quiet)
    try:
        for metrics in trainer.run():
            if isinstance(metrics, BatchMetrics):
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(epoch=metrics.epoch, recon=f"{metrics.recon:.1f}", kl=f"{metrics.kl:.2f}", refresh=False)
            else:
                last_epoch = metrics
                save_checkpoint(Checkpoint.from_trainer(trainer, dataset.name), checkpoint_path)
                write_metrics_csv(trainer.history.epochs, metrics_path)
                if bar is not None:
                    bar.write(f"epoch {metrics.epoch}: test recon {metrics.test_recon:.2f}, KL {metrics.test_kl:.2f}, "
                              f"negative ELBO {metrics.test_total:.2f} nats/image ({metrics.seconds:.1f} s)")
    except KeyboardInterrupt:
        save_checkpoint(Checkpoint.from_trainer(trainer, dataset.name), checkpoint_path)
        print(f"\nInterrupted; saved the state at epoch {trainer.progress.epoch + 1}, step "
              f"{trainer.progress.step_in_epoch} to {checkpoint_path} (continue with --resume).", file=sys.stderr)
        return 130
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - started
    if last_epoch is not None:
        print(f"Trained to epoch {last_epoch.epoch} on {dataset.name} in {seconds:.1f} s: test recon "
              f"{last_epoch.test_recon:.2f}, KL {last_epoch.test_kl:.2f}, negative ELBO {last_epoch.test_total:.2f} "
              f"nats/image; checkpoint {checkpoint_path}")
    return 0


def _refuse_to_overwrite(checkpoint: Path, resume: Path | None, overwrite: bool) -> None:
    """A folder that already holds a run is only written over when asked: --overwrite, or --resume of
    that very checkpoint (which continues it)."""
    if overwrite or not checkpoint.exists():
        return
    if resume is not None and _same_file(resume, checkpoint):
        return
    hint = f"continue it with --resume {checkpoint}" if resume is None else "choose another --out"
    raise ConfigError(f"{checkpoint} already holds a run: {hint}, or pass --overwrite to replace it.")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except OSError:
        return False


def _progress_bar(trainer: Trainer, quiet: bool):  # noqa: ANN202
    if quiet:
        return None
    from tqdm import tqdm

    total = trainer.config.epochs * trainer.steps_per_epoch
    done = trainer.progress.epoch * trainer.steps_per_epoch + trainer.progress.step_in_epoch
    return tqdm(total=total, initial=done, unit="batch", dynamic_ncols=True, file=sys.stderr)
