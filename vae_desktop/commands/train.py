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
from typing import TYPE_CHECKING

from vae_desktop.core.atomic import describe_write_error
from vae_desktop.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.datasets import DEFAULT_DATASET, load_dataset
from vae_desktop.core.device import describe_device
from vae_desktop.core.distributed import is_writer, leave
from vae_desktop.core.distributed_trainer import trainer_factory
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
                "device": "device", "recon_loss": "recon_loss"}


def run_train(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} exists and is not a folder.")
    if not is_writer():  # another process of a distributed run: rank 0 alone writes --out
        try:
            return _train(args, out)
        finally:
            leave()
    created = not out.exists()
    lock = _claim_output(out)  # for the whole command: one writer per --out
    try:
        return _train(args, out)
    finally:
        leave()  # the process group of a distributed run, if this process joined one
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
    make_trainer = trainer_factory(train_config)  # under torchrun: joins the run's other processes
    if resumed is not None:
        model = resumed.build_model()
        trainer = make_trainer(model, dataset, train_config, history=resumed.history,
                          optimizer_state=resumed.optimizer_state, progress=resumed.progress,
                          rng_state=resumed.rng_state)
    else:
        c, h, w = dataset.image_shape
        model_kwargs = {"channels": c, "height": h, "width": w}
        for flag in ("z_dim", "base_width"):
            if getattr(args, flag) is not None:
                model_kwargs[flag] = getattr(args, flag)
        trainer = make_trainer(new_model(ModelConfig(**model_kwargs), train_config.seed), dataset, train_config)

    checkpoint_path, metrics_path = out / CHECKPOINT_NAME, out / METRICS_NAME
    saved = _Saved(checkpoint_path, resumed.progress.epoch if resumed is not None and _same_file(
        args.resume, checkpoint_path) else None)
    # The checkpoint's history is the truth: a kill between its save and the CSV's left the CSV behind.
    _write_metrics(trainer, metrics_path, saved)
    if trainer.finished:
        if is_writer():
            print(f"Already trained {counted(trainer.progress.epoch, 'epoch')} (--epochs {train_config.epochs}); "
                  "nothing to do.")
        return 0
    if is_writer():
        print(f"Training on {dataset.name} ({dataset.num_train} train / {dataset.num_test} test images) "
              f"with {_describe_processes(trainer)}.", file=sys.stderr)
    for note in dataset.notes[1:]:  # e.g. "skipped 3 unreadable files" of an image folder
        print(f"Note: {note}.", file=sys.stderr)
    started = time.perf_counter()
    last_epoch: EpochMetrics | None = None
    bar = _progress_bar(trainer, args.quiet or not is_writer())
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
        if not is_writer():
            return 130
        print(f"\nInterrupted; saved the state at epoch {trainer.progress.epoch + 1}, step "
              f"{trainer.progress.step_in_epoch} to {checkpoint_path} (continue with --resume).", file=sys.stderr)
        return 130
    finally:
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - started
    if last_epoch is not None and is_writer():
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
    if not is_writer():
        return
    try:
        save_checkpoint(Checkpoint.from_trainer(trainer, dataset_name), saved.path)
    except CheckpointError as exc:
        raise OutputError(f"{exc} {lost}; {saved.describe()}.") from None
    saved.epoch = trainer.progress.epoch


def _write_metrics(trainer: Trainer, path: Path, saved: _Saved) -> None:
    if not is_writer():
        return
    try:
        write_metrics_csv(trainer.history.epochs, path)
    except OSError as exc:
        raise OutputError(f"Could not write {path}: {describe_write_error(exc, path)}. Training stopped; "
                          f"{saved.describe()} (metrics.csv is rewritten from the checkpoint's history).") from None


def _describe_processes(trainer: Trainer) -> str:
    launch = getattr(trainer, "launch", None)
    if launch is None:
        return describe_device(trainer.device)
    return f"{launch.world_size} processes (DistributedDataParallel), each on {describe_device(trainer.device)}"


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.samefile(b)
    except FileNotFoundError:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _progress_bar(trainer: Trainer, quiet: bool) -> tqdm | None:
    if quiet:
        return None
    from tqdm import tqdm

    total = trainer.config.epochs * trainer.steps_per_epoch
    done = trainer.progress.epoch * trainer.steps_per_epoch + trainer.progress.step_in_epoch
    return tqdm(total=total, initial=done, unit="batch", dynamic_ncols=True, file=sys.stderr)
