"""`vae-desktop --self-test`: prove that this install (or bundle) can start, train, decode and save.

Runs offscreen, in a temporary folder, in well under a minute on a laptop CPU: builds the real main
window, trains a few steps on a small `shapes` set, decodes through the latent panel, saves a
checkpoint, reloads it and opens it in the window. Prints one line per step and exits 0, or
non-zero with the step that failed and why. It is also the bundle's smoke test (tests/test_bundle.py)
and the start-up benchmark's probe (benchmarks/bench_bundle_startup.py reads the JSON report).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

REPORT_ENV = "VAE_DESKTOP_SELFTEST_REPORT"  # where to write the JSON report (benchmarks use it)
TRAIN_STEPS = 40  # core-only training, and again in the window
WINDOW_TRAIN_STEPS = 40
NUM_TRAIN, NUM_TEST = 2000, 500  # a small shapes set: generated in a fraction of a second
WAIT_S = 120  # generous for a busy laptop; a healthy run needs a few seconds per wait


class SelfTestFailure(Exception):
    """A check failed; the message says what was expected and what happened."""


@dataclass
class SelfTestContext:
    """What the steps hand to each other."""

    folder: Path
    started_at: float  # time.time() when the self-test began
    app: Any = None
    window: Any = None
    dataset: Any = None
    trainer: Any = None
    facts: dict[str, Any] = field(default_factory=dict)
    dialogs: list[str] = field(default_factory=list)  # texts of dialogs that popped up (and were dismissed)


def _wait_until(ctx: SelfTestContext, done: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
    """Run the event loop until `done()` holds; a timeout is a failure that names what never happened."""
    from PySide6.QtCore import QEventLoop

    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise SelfTestFailure(f"waited {timeout_s:.0f} s for {what}")
        ctx.app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.005)


def _watch_for_dialogs(ctx: SelfTestContext) -> None:
    """A modal dialog would wait forever for a click nobody makes: record its text and dismiss it."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

    def dismiss() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is not None:
            text = dialog.text() if isinstance(dialog, QMessageBox) else dialog.windowTitle()
            ctx.dialogs.append(text or type(dialog).__name__)
            if isinstance(dialog, QDialog):
                dialog.reject()
            else:  # a modal top-level widget that is not a dialog
                dialog.close()

    timer = QTimer(ctx.app)
    timer.setInterval(200)
    timer.timeout.connect(dismiss)
    timer.start()


def _open_main_window(ctx: SelfTestContext) -> str:
    import numpy as np
    from PySide6.QtCore import QSettings

    from vae_desktop.core.config import ModelConfig
    from vae_desktop.ui.app_identity import apply_app_identity, prepare_app_identity

    prepare_app_identity()
    from vae_desktop.ui.app import create_application, create_main_window, finish_main_window

    ctx.app = create_application([sys.argv[0]])
    apply_app_identity(ctx.app)
    _watch_for_dialogs(ctx)
    settings = QSettings(str(ctx.folder / "settings.ini"), QSettings.Format.IniFormat)  # never the user's
    template = ModelConfig(z_dim=2, base_width=8, hidden=64)  # a small network; z_dim comes from the form
    ctx.window = create_main_window(settings=settings, model_template=template, training_threads=1)
    ctx.window.show()
    ctx.app.processEvents()
    ctx.facts["first_window_at"] = time.time()
    ctx.facts["first_window_s"] = round(ctx.facts["first_window_at"] - ctx.started_at, 3)
    if not ctx.window.isVisible():
        raise SelfTestFailure("the main window did not show")
    frame = ctx.window.grab().toImage()
    pixels = np.array([frame.pixel(x, y) for x in range(0, frame.width(), 7) for y in range(0, frame.height(), 7)])
    if len(np.unique(pixels)) < 3:
        raise SelfTestFailure(f"the window painted as a blank {frame.width()}x{frame.height()} area")
    if ctx.window.windowIcon().isNull():
        raise SelfTestFailure("the window has no icon")
    finish_main_window(ctx.window)  # imports torch and the core, as the app does after its first paint
    if ctx.window.mirror is None:
        raise SelfTestFailure("the window did not attach the core (no model mirror)")
    ctx.facts["core_ready_at"] = time.time()
    return f"{frame.width()}x{frame.height()}, shown {ctx.facts['first_window_s']:.2f} s into the self-test"


def _load_shapes(ctx: SelfTestContext) -> str:
    import torch

    from vae_desktop.core.datasets.shapes import load_shapes

    # The model is tiny: one thread is several times faster than contending for busy cores.
    torch.set_num_threads(1)
    ctx.facts["torch"] = torch.__version__

    ctx.dataset = load_shapes(num_train=NUM_TRAIN, num_test=NUM_TEST, cache_dir=ctx.folder / "cache")
    return f"{ctx.dataset.num_train} train / {len(ctx.dataset.test_images)} test images"


def _train_a_few_steps(ctx: SelfTestContext) -> str:
    import math

    import torch

    from vae_desktop.core.config import ModelConfig, TrainConfig
    from vae_desktop.core.metrics import BatchMetrics
    from vae_desktop.core.model import VAE
    from vae_desktop.core.trainer import Trainer

    torch.manual_seed(0)
    model = VAE(ModelConfig(z_dim=2, base_width=8, hidden=64))
    ctx.trainer = Trainer(model, ctx.dataset, TrainConfig(epochs=1, batch_size=50, lr=2e-3, seed=0, device="cpu"))
    losses = []
    for metrics in ctx.trainer.run():
        if isinstance(metrics, BatchMetrics):
            losses.append(metrics.total)
            if len(losses) == TRAIN_STEPS:
                ctx.trainer.stop()
    if len(losses) < TRAIN_STEPS or not all(math.isfinite(x) for x in losses):
        raise SelfTestFailure(f"expected {TRAIN_STEPS} finite losses, got {losses}")
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    if not last < first * 0.9:
        raise SelfTestFailure(f"the loss did not fall: first steps {first:.1f} nats, last steps {last:.1f} nats")
    ctx.facts["loss_first"], ctx.facts["loss_last"] = round(first, 2), round(last, 2)
    return f"loss {first:.1f} -> {last:.1f} nats over {TRAIN_STEPS} steps"


def _save_and_reload(ctx: SelfTestContext) -> str:
    import numpy as np

    from vae_desktop.core.checkpoint import SUFFIX, Checkpoint, load_checkpoint, save_checkpoint
    from vae_desktop.core.inference import decode_images

    path = ctx.folder / f"selftest{SUFFIX}"
    save_checkpoint(Checkpoint.from_trainer(ctx.trainer, "shapes"), path)
    loaded = load_checkpoint(path)
    z = np.linspace(-2, 2, 2 * 7, dtype=np.float32).reshape(7, 2)
    before = decode_images(ctx.trainer.model.cpu().eval(), z)
    after = decode_images(loaded.build_model(), z)
    if not np.array_equal(before, after):
        raise SelfTestFailure(f"the reloaded model decodes differently (max diff {np.abs(before - after).max():.3g})")
    if loaded.progress.global_step != ctx.trainer.progress.global_step:
        raise SelfTestFailure(f"reloaded step {loaded.progress.global_step} != saved {ctx.trainer.progress.global_step}")
    return f"{path.name}: {path.stat().st_size / 1e3:.0f} kB, decodes identically after reload"


def _train_in_window(ctx: SelfTestContext) -> str:
    import math

    window = ctx.window
    window.provide_dataset(ctx.dataset, "shapes")
    window.start_training()
    _wait_until(ctx, lambda: window.trainer is not None and window.trainer.progress.global_step >= WINDOW_TRAIN_STEPS,
                f"{WINDOW_TRAIN_STEPS} training steps (state: {window.state})")
    window.stop_training()
    _wait_until(ctx, lambda: not window.is_training, "training to stop")
    trace = window.trainer.history.batch_arrays() if window.trainer else {"recon": [], "kl": []}
    losses = [float(r + k) for r, k in zip(trace["recon"], trace["kl"], strict=True)]
    if len(losses) < WINDOW_TRAIN_STEPS or not all(math.isfinite(x) for x in losses):
        raise SelfTestFailure(f"the window's run recorded {len(losses)} steps, not {WINDOW_TRAIN_STEPS} finite losses")
    first, last = sum(losses[:5]) / 5, sum(losses[-5:]) / 5
    if not last < first * 0.9:
        raise SelfTestFailure(f"the window's loss did not fall: {first:.1f} -> {last:.1f} nats")
    _wait_until(ctx, lambda: window.mirror.model is not None, "the window's model copy")
    return f"{len(losses)} steps, loss {first:.1f} -> {last:.1f} nats, state '{window.state}'"


def _decode_in_latent_panel(ctx: SelfTestContext) -> str:
    """Add a handle as a double click would; the panel must show what the window's model decodes there."""
    import numpy as np

    from vae_desktop.core.inference import decode_images
    from vae_desktop.ui.latent_panel import LatentPanel

    panel = ctx.window.findChild(LatentPanel)
    if panel is None:  # the window has not been given one: add it the way the app does
        panel = LatentPanel(ctx.window.mirror)
        ctx.window.add_panel("Latent map", panel, shutdown=panel.shutdown)
    panel.add_handle_at(0.5, -0.5)
    handle = panel.handles.selected
    if handle is None:
        raise SelfTestFailure("adding a handle left none selected")

    def shows_the_decoded_handle() -> bool:
        image = panel.selected_image()
        expected = decode_images(ctx.window.mirror.model, np.asarray(handle.z)[None])[0]
        return image is not None and np.shape(image) == expected.shape and np.allclose(image, expected, atol=1e-5)

    _wait_until(ctx, shows_the_decoded_handle, f"the latent panel to show the decoding of handle {handle.name}")
    image = np.asarray(panel.selected_image(), dtype=np.float32)
    if image.shape[:2] != (28, 28) or not (0.0 <= image.min() and image.max() <= 1.0):
        raise SelfTestFailure(f"decoded image has shape {image.shape}, pixels {image.min():.3f}..{image.max():.3f}")
    return f"handle {handle.name} decoded to a 28x28 image, pixels {image.min():.2f}..{image.max():.2f}"


def _save_and_reopen_in_window(ctx: SelfTestContext) -> str:
    import numpy as np

    from vae_desktop.core.checkpoint import SUFFIX, load_checkpoint
    from vae_desktop.core.inference import decode_images

    window = ctx.window
    path = ctx.folder / f"window{SUFFIX}"
    if not window.save_checkpoint(str(path)):
        raise SelfTestFailure(f"the window did not save {path.name}")
    _wait_until(ctx, path.exists, f"{path.name} to be written")
    saved = load_checkpoint(path)
    z = np.random.default_rng(0).normal(size=(3, saved.model_config.z_dim)).astype(np.float32)
    expected = decode_images(saved.build_model(), z)
    window.new_run()
    if not window.open_checkpoint(str(path)):
        raise SelfTestFailure(f"the window could not open {path.name}")
    _wait_until(ctx, lambda: window.mirror.model is not None, "the opened checkpoint's model")
    reopened = decode_images(window.mirror.model, z)
    if not np.allclose(reopened, expected, atol=1e-6):
        raise SelfTestFailure("the reopened model decodes differently from the saved one")
    return f"{path.name} at step {saved.progress.global_step}, reopened and decodes identically"


STEPS: list[tuple[str, Callable[[SelfTestContext], str]]] = [
    ("open the main window", _open_main_window),  # first, as in the app: its time is the user's wait
    ("load the shapes dataset", _load_shapes),
    ("train a few steps", _train_a_few_steps),
    ("save and reload a checkpoint", _save_and_reload),
    ("train in the window", _train_in_window),
    ("decode from the latent panel", _decode_in_latent_panel),
    ("save and reopen in the window", _save_and_reopen_in_window),
]


def run_self_test(out: TextIO | None = None) -> int:
    """Run every step in order; stop at the first failure. Returns the process exit code."""
    out = out if out is not None else sys.stdout  # None in a windowed Windows build: the log still gets it
    started_at = time.time()
    os.environ["QT_QPA_PLATFORM"] = "offscreen"  # never a window on the user's screen, display or not
    from vae_desktop import __version__
    from vae_desktop.logging_setup import configure_logging

    configure_logging()
    frozen = bool(getattr(sys, "frozen", False))
    _say(out, f"VAE Desktop {__version__} self-test ({'bundle' if frozen else 'source'})")
    _say(out, f"vae_desktop from: {Path(__file__).resolve().parent}")
    report: dict[str, Any] = {"version": __version__, "frozen": frozen, "steps": {}}
    with tempfile.TemporaryDirectory(prefix="vae-desktop-selftest-") as folder:
        ctx = SelfTestContext(folder=Path(folder), started_at=started_at)
        failure = _run_steps(ctx, out, report["steps"])
    report.update(ctx.facts, passed=failure is None, total_seconds=round(time.time() - started_at, 3))
    if failure is not None:
        report["failure"] = failure
        _write_report(report)
        _say(out, f"self-test FAILED at '{failure.split(':')[0]}'")
        return 1
    _write_report(report)
    _say(out, f"self-test passed in {report['total_seconds']:.1f} s")
    return 0


def _run_steps(ctx: SelfTestContext, out: TextIO | None, timings: dict[str, float]) -> str | None:
    """Each step, then closing the window; returns "step: reason" for the first failure, or None."""
    failure = None
    for name, step in STEPS:
        t0 = time.perf_counter()
        try:
            detail = step(ctx)
            if ctx.dialogs:
                raise SelfTestFailure(f"an unexpected dialog appeared: {ctx.dialogs[0]!r}")
        except Exception as exc:  # every failure becomes the printed reason, never a silent crash
            failure = f"{name}: {_reason(exc)}"
            break
        timings[name] = round(time.perf_counter() - t0, 3)
        _say(out, f"ok   {name} ({timings[name]:.2f} s): {detail}")
    try:
        _close_window(ctx)
    except Exception as exc:
        failure = failure or f"close the window: {_reason(exc)}"
    if failure is not None:
        _say(out, f"FAIL {failure}")
    return failure


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SelfTestFailure):
        return str(exc)
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    place = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
    return f"{type(exc).__name__}: {exc}{place}"


def _close_window(ctx: SelfTestContext) -> None:
    """Close like a user would: the window stops any training thread before it goes."""
    if ctx.window is None:
        return
    try:
        for panel in _latent_panels(ctx.window):  # a child widget gets no closeEvent: stop its thread here
            panel.shutdown()
        if ctx.window.is_training:
            ctx.window.stop_training()
            _wait_until(ctx, lambda: not ctx.window.is_training, "training to stop before closing", timeout_s=30)
    finally:
        ctx.window.setWindowModified(False)  # no "save changes?" question in a self-test
        ctx.window.close()
        ctx.window.deleteLater()
        ctx.app.processEvents()
    _join_background_threads()


def _join_background_threads(timeout_s: float = 60.0) -> None:
    """Wait for the window's background work (e.g. a dataset prefetch) to end before the process exits.

    A thread still inside torch when the interpreter shuts down aborts the process ("terminate called
    without an active exception"): a self-test that passed must not then crash.
    """
    import threading

    deadline = time.monotonic() + timeout_s
    # Qt's own threads appear here as "dummy" threads once they have logged a line; Python cannot join
    # them (their owners wait for them), and they are not the background work this waits for.
    own = [t for t in threading.enumerate()
           if t is not threading.current_thread() and not isinstance(t, threading._DummyThread)]
    for thread in own:
        thread.join(max(0.0, deadline - time.monotonic()))
    alive = [t.name for t in own if t.is_alive()]
    if alive:
        raise SelfTestFailure(f"background threads still running {timeout_s:.0f} s after closing: {alive}")


def _latent_panels(window: Any) -> list[Any]:
    try:
        from vae_desktop.ui.latent_panel import LatentPanel
    except ImportError:
        return []
    return window.findChildren(LatentPanel)


def _write_report(report: dict[str, Any]) -> None:
    target = os.environ.get(REPORT_ENV)
    if target:
        Path(target).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


def _say(out: TextIO | None, line: str) -> None:
    """Print where there is a console (a windowed Windows build has none) and log it either way."""
    import logging

    logging.getLogger("vae_desktop.selftest").info(line)
    if out is not None:
        print(line, file=out, flush=True)
