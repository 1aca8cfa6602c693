"""`vae-desktop train`: train with a progress bar, save atomically after every epoch, resume exactly.

The command owns --out for its whole life (core/run_lock.py): a second `train --out SAME` is refused.
metrics.csv is derived from the checkpoint's history and rewritten from it at every start.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vae_desktop.core.atomic import describe_write_error
from vae_desktop.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.datasets import DEFAULT_DATASET, load_dataset
from vae_desktop.core.device import describe_device
from vae_desktop.core.errors import CheckpointError, ConfigError, OutputError, RunInUseError
from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
from vae_desktop.core.metrics_csv import write_metrics_csv
from vae_desktop.core.model import new_model
from vae_desktop.core.run_lock import RunLock
from vae_desktop.core.trainer import Trainer
from vae_desktop.core.wording import counted

if TYPE_CHECKING:
    from tqdm import tqdm

CHECKPOINT_NAME = "model.vaeckpt"
METRICS_NAME = "metrics.csv"
_TRAIN_FLAGS = {"epochs": "epochs", "batch_size": "batch_size", "lr": "lr", "beta": "beta", "seed": "seed",
                "device": "device", "recon_loss": "recon_loss", "kl_warmup_epochs": "kl_warmup_epochs",
                "free_bits": "free_bits"}
_MODEL_FLAGS = ("z_dim", "base_width", "hidden", "layout", "stddev")  # fixed for a run's life: refused on --resume if changed


def run_train(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} exists and is not a folder.")
    created = not out.exists()
    lock = _claim_output(out)  # for the whole command: one writer per --out
    try:
        return _train(args, out)
    finally:
        lock.release()
        if created:
            _remove_if_unused(out, lock)


def _remove_if_unused(out: Path, lock: RunLock) -> None:
    """A folder this command made and then wrote nothing into (bad settings, a dataset that would not
    load) is removed again: a refused command leaves nothing behind."""
    try:
        if {p.name for p in out.iterdir()} <= {lock.lock_path.name}:
            lock.lock_path.unlink(missing_ok=True)
            out.rmdir()
    except OSError:
        pass


def _train(args: argparse.Namespace, out: Path) -> int:
    _refuse_to_overwrite(out / CHECKPOINT_NAME, args.resume, args.overwrite)
    resumed = load_checkpoint(args.resume) if args.resume else None
    if resumed is not None:
        for note in resumed.notes:
            print(f"Note: {note}", file=sys.stderr)
    overrides = {field: getattr(args, flag) for flag, field in _TRAIN_FLAGS.items() if getattr(args, flag) is not None}
    if resumed is not None:
        for flag in _MODEL_FLAGS:
            given, stored = getattr(args, flag), getattr(resumed.model_config, flag)
            if given is not None and given != stored:
                raise ConfigError(f"--{flag.replace('_', '-')} {given} differs from the checkpoint's {flag} "
                                  f"{stored}; a resumed run keeps its architecture.")
        if args.image_size is not None and args.image_size != resumed.image_size:
            stored = resumed.image_size or "the dataset's own"
            raise ConfigError(f"--image-size {args.image_size} differs from the checkpoint's image size {stored}; "
                              "a resumed run keeps its images.")
        train_config = TrainConfig.from_dict({**resumed.train_config.to_dict(), **overrides})
        dataset_name = args.dataset or resumed.dataset
        image_size = resumed.image_size
    else:
        train_config = TrainConfig(**overrides)
        dataset_name = args.dataset or DEFAULT_DATASET
        image_size = args.image_size

    with _LoadingBar(args.quiet) as loading:
        dataset = load_dataset(dataset_name, args.data_root, seed=train_config.seed, image_size=image_size,
                               progress=loading.update)
    if resumed is not None:
        model = resumed.build_model()
        trainer = Trainer(model, dataset, train_config, history=resumed.history,
                          optimizer_state=resumed.optimizer_state, progress=resumed.progress,
                          rng_state=resumed.rng_state)
    else:
        c, h, w = dataset.image_shape
        model_kwargs: dict[str, Any] = {"channels": c, "height": h, "width": w}
        for flag in _MODEL_FLAGS:
            if getattr(args, flag) is not None:
                model_kwargs[flag] = getattr(args, flag)
        trainer = Trainer(new_model(ModelConfig(**model_kwargs), train_config.seed), dataset, train_config)

    checkpoint_path, metrics_path = out / CHECKPOINT_NAME, out / METRICS_NAME
    saved = _Saved(checkpoint_path, resumed.progress.epoch if resumed is not None and _same_file(
        args.resume, checkpoint_path) else None)
    # The checkpoint's history is the truth: a kill between its save and the CSV's left the CSV behind.
    _write_metrics(trainer, metrics_path, saved)
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
                _save(trainer, dataset.name, saved, f"Training stopped: epoch {metrics.epoch} is not saved")
                _write_metrics(trainer, metrics_path, saved)
                if bar is not None:
                    bar.write(f"epoch {metrics.epoch}: test recon {metrics.test_recon:.2f}, KL {metrics.test_kl:.2f}, "
                              f"negative ELBO {metrics.test_total:.2f} nats/image ({metrics.seconds:.1f} s)")
    except KeyboardInterrupt:
        where = f"epoch {trainer.progress.epoch + 1}, step {trainer.progress.step_in_epoch}"
        _save(trainer, dataset.name, saved, f"Interrupted at {where}, which is not saved")
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


@dataclass
class _Saved:
    """What the checkpoint file holds, so a failure can say exactly what is on disk."""

    path: Path
    epoch: int | None  # completed epochs in the file; None: nothing of this run is there

    def describe(self) -> str:
        if self.epoch is None:
            return f"nothing of this run is saved in {self.path}"
        return (f"{self.path} holds the run up to epoch {self.epoch}; continue from it with "
                f"--resume {self.path} once the problem is fixed")


def _claim_output(out: Path) -> RunLock:
    """Create --out and lock its checkpoint, or say in one line why not (in use, read-only, under a file)."""
    checkpoint_path = out / CHECKPOINT_NAME
    lock = RunLock(checkpoint_path, also_owns=[out / METRICS_NAME], command="vae-desktop train")
    try:
        out.mkdir(parents=True, exist_ok=True)
        removed = lock.acquire()
    except RunInUseError as exc:
        raise RunInUseError(f"--out {out} is in use: {exc} Wait for that run to end, or train into another "
                            "folder.") from None
    except OSError as exc:
        raise OutputError(f"Cannot write into --out {out}: {describe_write_error(exc, checkpoint_path)}.") from None
    if removed:
        print(f"Note: removed {len(removed)} temporary file{'s' if len(removed) != 1 else ''} left in {out} by an "
              "interrupted save.", file=sys.stderr)
    return lock


def _save(trainer: Trainer, dataset_name: str, saved: _Saved, lost: str) -> None:
    try:
        save_checkpoint(Checkpoint.from_trainer(trainer, dataset_name), saved.path)
    except CheckpointError as exc:
        raise OutputError(f"{exc} {lost}; {saved.describe()}.") from None
    saved.epoch = trainer.progress.epoch


def _write_metrics(trainer: Trainer, path: Path, saved: _Saved) -> None:
    try:
        write_metrics_csv(trainer.history.epochs, path)
    except OSError as exc:
        raise OutputError(f"Could not write {path}: {describe_write_error(exc, path)}. Training stopped; "
                          f"{saved.describe()} (metrics.csv is rewritten from the checkpoint's history).") from None


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except FileNotFoundError:
        return a.resolve() == b.resolve()
    except OSError:
        return False


class _LoadingBar:
    """A tqdm bar for decoding an image folder, shown only once decoding reports progress."""

    def __init__(self, quiet: bool) -> None:
        self._quiet = quiet
        self._bar: tqdm | None = None

    def __enter__(self) -> _LoadingBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.close()

    def update(self, done: int, total: int) -> None:
        if self._quiet:
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, unit="image", desc="Decoding images", dynamic_ncols=True, file=sys.stderr)
        self._bar.update(done - self._bar.n)


def _progress_bar(trainer: Trainer, quiet: bool) -> tqdm | None:
    if quiet:
        return None
    from tqdm import tqdm

    total = trainer.config.epochs * trainer.steps_per_epoch
    done = trainer.progress.epoch * trainer.steps_per_epoch + trainer.progress.step_in_epoch
    return tqdm(total=total, initial=done, unit="batch", dynamic_ncols=True, file=sys.stderr)
