"""`vae-desktop train`: train with a progress bar into a run folder (core/runs), resume exactly.

`--out DIR` becomes a run folder: run.json (settings, status, heartbeat), metrics.jsonl (batch and
epoch rows), metrics.csv, checkpoints/latest.vaeckpt after every epoch and on Ctrl+C, best.vaeckpt
and, with --keep-every N, epoch-NNNN.vaeckpt. The recording itself is core/runs/recorder.py, shared
with the window. The command owns --out for its whole life (the run folder's lock): a second
`train --out SAME` is refused.

An older single-file folder (model.vaeckpt + metrics.csv) is continued in place with `--resume DIR`:
it becomes a run folder whose log starts with the checkpoint's history; model.vaeckpt is left as it
was (the state the run was continued from) and its lock is held too, so older versions keep out.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from vae_desktop.core.atomic import describe_write_error
from vae_desktop.core.checkpoint import load_checkpoint
from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.datasets import DEFAULT_DATASET, load_dataset
from vae_desktop.core.device import describe_device
from vae_desktop.core.distributed import is_writer, leave
from vae_desktop.core.distributed_trainer import trainer_factory
from vae_desktop.core.errors import CheckpointError, ConfigError, OutputError, RunInUseError
from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
from vae_desktop.core.model import new_model
from vae_desktop.core.resume import ResumePoint, resume_trainer, resumed_config
from vae_desktop.core.run_lock import RunLock
from vae_desktop.core.runs.errors import RunFolderError
from vae_desktop.core.runs.recorder import RunRecorder, clear_run, holds_run, run_folder_lock
from vae_desktop.core.runs.resume_point import checkpoint_to_resume
from vae_desktop.core.runs.schema import CHECKPOINT_DIR, LATEST_CHECKPOINT, LEGACY_CHECKPOINT, METRICS_CSV
from vae_desktop.core.trainer import Trainer
from vae_desktop.core.wording import counted

if TYPE_CHECKING:
    from tqdm import tqdm

COMMAND = "vae-desktop train"
_TRAIN_FLAGS = {"epochs": "epochs", "batch_size": "batch_size", "lr": "lr", "beta": "beta", "seed": "seed",
                "device": "device", "recon_loss": "recon_loss", "kl_warmup_epochs": "kl_warmup_epochs",
                "free_bits": "free_bits"}
_MODEL_FLAGS = ("z_dim", "base_width", "hidden", "layout", "stddev")  # fixed for a run's life: refused on --resume if changed


def run_train(args: argparse.Namespace) -> int:
    resume = checkpoint_to_resume(args.resume) if args.resume is not None else None
    out: Path | None = args.out if args.out is not None else (resume.folder if resume is not None else None)
    if out is None:
        if args.resume is not None:
            raise ConfigError(f"--resume {args.resume} is a checkpoint file: say where the run goes with --out DIR.")
        raise ConfigError("--out DIR is required: the run folder to train into.")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} exists and is not a folder.")
    if not is_writer():  # another process of a distributed run: rank 0 alone claims and writes --out
        try:
            return _train(args, out, resume.checkpoint if resume is not None else None, None)
        finally:
            leave()
    created = not out.exists()
    created_checkpoints = not (out / CHECKPOINT_DIR).exists()
    locks = _claim_output(out)  # for the whole command: one writer per --out
    try:
        return _train(args, out, resume.checkpoint if resume is not None else None, locks[0])
    finally:
        leave()  # the process group of a distributed run, if this process joined one
        for lock in locks:
            lock.release()
        _remove_if_unused(out, locks[0], created, created_checkpoints)


def _remove_if_unused(out: Path, lock: RunLock, created: bool, created_checkpoints: bool) -> None:
    """Folders this command made and then wrote nothing into (bad settings, a dataset that would not
    load) are removed again: a refused command leaves nothing behind."""
    checkpoints = out / CHECKPOINT_DIR
    try:
        if created_checkpoints and {p.name for p in checkpoints.iterdir()} <= {lock.lock_path.name}:
            lock.lock_path.unlink(missing_ok=True)
            checkpoints.rmdir()
        if created and not any(out.iterdir()):
            out.rmdir()
    except OSError:
        pass


def _train(args: argparse.Namespace, out: Path, resume_path: Path | None, lock: RunLock | None) -> int:
    """Train into `out`; `lock` is None in the other processes of a distributed run, which write nothing."""
    in_place = resume_path is not None and _inside(resume_path, out)
    if is_writer():
        _refuse_to_overwrite(out, resume_path, in_place, args.overwrite)
    resumed = load_checkpoint(resume_path) if resume_path is not None else None
    if resumed is not None:
        for note in resumed.notes:
            print(f"Note: {note}", file=sys.stderr)
    overrides = {field: getattr(args, flag) for flag, field in _TRAIN_FLAGS.items() if getattr(args, flag) is not None}
    if resumed is not None:
        train_config = resumed_config(resumed, overrides, **{flag: getattr(args, flag) for flag in _MODEL_FLAGS})
        if args.image_size is not None and args.image_size != resumed.image_size:
            stored = resumed.image_size or "the dataset's own"
            raise ConfigError(f"--image-size {args.image_size} differs from the checkpoint's image size {stored}; "
                              "a resumed run keeps its images.")
        dataset_name = args.dataset or resumed.dataset
        image_size = resumed.image_size
    else:
        train_config = TrainConfig(**overrides)
        dataset_name = args.dataset or DEFAULT_DATASET
        image_size = args.image_size

    with _LoadingBar(args.quiet or not is_writer()) as loading:
        dataset = load_dataset(dataset_name, args.data_root, seed=train_config.seed, image_size=image_size,
                               progress=loading.update)
    make_trainer = trainer_factory(train_config)  # under torchrun: joins the run's other processes
    if resumed is not None:
        trainer = resume_trainer(ResumePoint.of_checkpoint(resumed), dataset, train_config, make_trainer)
    else:
        c, h, w = dataset.image_shape
        model_kwargs: dict[str, Any] = {"channels": c, "height": h, "width": w}
        for flag in _MODEL_FLAGS:
            if getattr(args, flag) is not None:
                model_kwargs[flag] = getattr(args, flag)
        trainer = make_trainer(new_model(ModelConfig(**model_kwargs), train_config.seed), dataset, train_config)

    if args.overwrite and not in_place and is_writer():
        clear_run(out)
    recorder = RunRecorder(out, trainer, dataset.name, kind="train", keep_every=args.keep_every or 0,
                           continues=in_place, lock=lock, rank=0 if is_writer() else 1)
    saved = _Saved(recorder, out)
    _guard(recorder, saved, "Training did not start", recorder.start)
    if trainer.finished:
        _guard(recorder, saved, "The run is not marked finished", recorder.finish)
        if is_writer():
            print(f"Already trained {counted(trainer.progress.epoch, 'epoch')} (--epochs {train_config.epochs}); "
                  "nothing to do.")
        return 0
    if is_writer():
        print(f"Training on {dataset.name} ({dataset.num_train} train / {dataset.num_test} test images) "
              f"with {_describe_processes(trainer)}; recording into {out}.", file=sys.stderr)
    for note in dataset.notes[1:]:  # e.g. "skipped 3 unreadable files" of an image folder
        print(f"Note: {note}.", file=sys.stderr)
    started = time.perf_counter()
    last_epoch: EpochMetrics | None = None
    bar = _progress_bar(trainer, args.quiet or not is_writer())
    try:
        for metrics in trainer.run():
            try:
                with _ctrl_c_after_the_write():
                    recorder.record(metrics)
            except (CheckpointError, RunFolderError) as exc:
                lost = f"Training stopped: epoch {metrics.epoch} is not saved"
                _fail(recorder, f"{exc} {lost if isinstance(metrics, EpochMetrics) else 'Training stopped'}; "
                                f"{saved.describe()}.")
            if isinstance(metrics, BatchMetrics):
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(epoch=metrics.epoch, recon=f"{metrics.recon:.1f}", kl=f"{metrics.kl:.2f}", refresh=False)
            else:
                last_epoch = metrics
                if bar is not None:
                    bar.write(f"epoch {metrics.epoch}: test recon {metrics.test_recon:.2f}, KL {metrics.test_kl:.2f}, "
                              f"negative ELBO {metrics.test_total:.2f} nats/image ({metrics.seconds:.1f} s)")
    except KeyboardInterrupt:
        where = f"epoch {trainer.progress.epoch + 1}, step {trainer.progress.step_in_epoch}"
        _guard(recorder, saved, f"Interrupted at {where}, which is not saved", lambda: recorder.stop("interrupted"))
        if is_writer():
            print(f"\nInterrupted; saved the state at {where} to {recorder.latest_path} (continue with --resume {out}).",
                  file=sys.stderr)
        return 130
    except OutputError:
        raise  # already recorded as failed (as far as the disk allowed)
    except Exception as exc:
        _record_failure(recorder, str(exc) or type(exc).__name__)
        raise
    finally:
        if bar is not None:
            bar.close()
    _guard(recorder, saved, "The run is not marked finished", recorder.finish)
    seconds = time.perf_counter() - started
    if last_epoch is not None and is_writer():
        print(f"Trained to epoch {last_epoch.epoch} on {dataset.name} in {seconds:.1f} s: test recon "
              f"{last_epoch.test_recon:.2f}, KL {last_epoch.test_kl:.2f}, negative ELBO {last_epoch.test_total:.2f} "
              f"nats/image; run folder {out}")
    return 0


def _refuse_to_overwrite(out: Path, resume: Path | None, in_place: bool, overwrite: bool) -> None:
    """A folder that already holds a run is only written over when asked: --overwrite, or --resume of
    one of its own checkpoints (which continues it)."""
    if overwrite or in_place or not holds_run(out):
        return
    hint = f"continue it with --resume {out}" if resume is None else "choose another --out"
    raise ConfigError(f"{out} already holds a run: {hint}, or pass --overwrite to replace it.")


def _inside(checkpoint: Path, out: Path) -> bool:
    """Whether a checkpoint is one of `out`'s own (checkpoints/*, or an older folder's model.vaeckpt)."""
    parent = checkpoint.parent
    return _same_file(parent, out) or (parent.name == CHECKPOINT_DIR and _same_file(parent.parent, out))


@dataclass
class _Saved:
    """What the run folder's latest checkpoint holds, so a failure can say exactly what is on disk."""

    recorder: RunRecorder
    out: Path

    def describe(self) -> str:
        epochs = self.recorder.saved_epochs
        if epochs is None:
            return f"nothing of this run is saved in {self.recorder.latest_path}"
        return (f"{self.recorder.latest_path} holds the run up to epoch {epochs}; continue from it with "
                f"--resume {self.out} once the problem is fixed")


def _guard(recorder: RunRecorder, saved: _Saved, lost: str, write: Callable[[], object]) -> None:
    """Run one write of the run folder; a failure (full disk, read-only) becomes one line that says
    what is lost and what is on disk, and the run is marked failed where the disk still allows."""
    try:
        write()
    except (CheckpointError, RunFolderError) as exc:
        _fail(recorder, f"{exc} {lost}; {saved.describe()}.")


def _fail(recorder: RunRecorder, message: str) -> NoReturn:
    _record_failure(recorder, message)
    raise OutputError(message) from None


def _record_failure(recorder: RunRecorder, message: str) -> None:
    try:
        recorder.fail(message)
    except RunFolderError:
        pass  # the disk that failed the run may refuse this too; the error line says it all


def _claim_output(out: Path) -> list[RunLock]:
    """Create --out and lock it, or say in one line why not (in use, read-only, under a file). An older
    single-file folder's checkpoint is locked as well, so a window or an older version saving to it waits."""
    locks = [run_folder_lock(out, COMMAND)]
    try:
        (out / CHECKPOINT_DIR).mkdir(parents=True, exist_ok=True)
        removed = locks[0].acquire()
        if (out / LEGACY_CHECKPOINT).exists():
            legacy = RunLock(out / LEGACY_CHECKPOINT, also_owns=[out / METRICS_CSV], command=COMMAND)
            removed += legacy.acquire()
            locks.append(legacy)
    except RunInUseError as exc:
        for lock in locks:
            lock.release()
        raise RunInUseError(f"--out {out} is in use: {exc} Wait for that run to end, or train into another "
                            "folder.") from None
    except OSError as exc:
        for lock in locks:
            lock.release()
        raise OutputError(f"Cannot write into --out {out}: {describe_write_error(exc, out / LATEST_CHECKPOINT)}.") from None
    if removed:
        print(f"Note: removed {len(removed)} temporary file{'s' if len(removed) != 1 else ''} left in {out} by an "
              "interrupted save.", file=sys.stderr)
    return locks


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


@contextmanager
def _ctrl_c_after_the_write() -> Iterator[None]:
    """Hold a Ctrl+C back until the row or checkpoint being written is whole: torch.save interrupted
    half-way fails as a broken save ("unexpected pos"), where the user asked to stop and keep the state.
    The interrupt is raised right after, so the usual interrupted-and-saved path follows."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: pending.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pending:
        raise KeyboardInterrupt
