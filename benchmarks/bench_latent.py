"""Latent explorer timings: drag-to-decoded-image latency while training runs, and manifold decode time.

Run from the repository root:

    python benchmarks/bench_latent.py [--moves 300] [--z-dim 16] [--no-training]

1. Drag latency. A real LatentPanel shows a ModelMirror of the default-size model while a core
   Trainer trains a copy in a background thread and sends weights to the mirror twice a second (as
   the app's training worker does). Threads are set up as the app sets them up: the application
   from `create_application`, the allocator tuned, one torch thread on the GUI thread and
   `default_training_threads()` (cores - 1) on the training thread. A scripted mouse drag (press, moves with the button held,
   release) runs on the map; for each mouse move we time from sending the event to the moment the
   panel has set the selected handle's decoded image (`move_to_image`, the target: p95 <= 16 ms) and,
   separately, until the event loop has also painted the frame and run whatever else was queued by
   then, such as fresh weights or a refreshed scatter (`move_to_frame`).
2. Manifold decode. `decode_manifold` (grid, one batched decode, one mosaic) for N = 10, 20, 30 on a
   square view, plus the single `ImageItem.setImage` that shows it. Target: N = 20 in <= 100 ms.

Prints one JSON line, then a table, then the machine it ran on. Numbers depend on machine load.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pyqtgraph as pg
import torch
from PySide6.QtCore import QEventLoop, QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication

from benchmarks.machine import machine_info
from benchmarks.platforms import run_benchmark
from tests.ui.mouse import mouse_move, mouse_press, mouse_release
from vae_desktop.core.allocator import tune_allocator
from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.datasets.shapes import load_shapes
from vae_desktop.core.latent import identity_plane
from vae_desktop.core.latent_map import decode_manifold
from vae_desktop.core.model import VAE
from vae_desktop.core.trainer import Trainer
from vae_desktop.ui.app import create_application
from vae_desktop.ui.latent_panel import LatentPanel
from vae_desktop.ui.model_mirror import ModelMirror, state_to_numpy
from vae_desktop.ui.run_controller import default_training_threads

MOVE_SPACING_S = 0.012  # pyqtgraph ignores mouse moves closer than 10 ms apart
WEIGHTS_EVERY_S = 0.5


def wait(seconds: float) -> None:
    """Run the event loop (which releases the GIL, unlike QTest.qWait) for a while."""
    loop = QEventLoop()
    QTimer.singleShot(max(0, int(seconds * 1000)), loop.quit)
    loop.exec()


def percentiles(values: list[float]) -> dict[str, float]:
    array = np.asarray(values) * 1000.0
    if len(array) == 0:
        return {"p50_ms": math.nan, "p95_ms": math.nan, "max_ms": math.nan, "n": 0}
    return {
        "p50_ms": round(float(np.percentile(array, 50)), 3),
        "p95_ms": round(float(np.percentile(array, 95)), 3),
        "max_ms": round(float(array.max()), 3),
        "n": int(len(array)),
    }


class BackgroundTraining:
    """A core Trainer in a thread; the GUI thread copies its latest weights into the mirror on a timer."""

    def __init__(self, model: VAE, dataset, mirror: ModelMirror) -> None:
        self._trainer = Trainer(model, dataset, TrainConfig(epochs=10_000, batch_size=128, lr=1e-3, device="cpu"))
        self._mirror = mirror
        self._lock = threading.Lock()
        self._latest: dict[str, np.ndarray] | None = None
        self.steps = 0
        self.weight_updates = 0
        self._thread = threading.Thread(target=self._loop, name="bench-training", daemon=True)
        self._timer = QTimer()
        self._timer.timeout.connect(self._publish)

    def start(self) -> None:
        self._thread.start()
        self._timer.start(int(WEIGHTS_EVERY_S * 1000))

    def stop(self) -> None:
        self._timer.stop()
        self._trainer.stop()
        self._thread.join()

    def _loop(self) -> None:
        torch.set_num_threads(default_training_threads())  # torch's thread count is per calling thread
        last = time.perf_counter()
        for _ in self._trainer.run():
            self.steps += 1
            if time.perf_counter() - last >= WEIGHTS_EVERY_S:
                state = state_to_numpy(self._trainer.model)
                with self._lock:
                    self._latest = state
                last = time.perf_counter()

    def _publish(self) -> None:
        with self._lock:
            state, self._latest = self._latest, None
        if state is not None:
            self._mirror.update_weights(state)
            self.weight_updates += 1


def drag_latency(panel: LatentPanel, moves: int) -> dict[str, dict[str, float]]:
    """Drag the selected handle around a circle; time each move to the image being set (and painted)."""
    image_set_at: list[float] = []
    panel.selectedImageChanged.connect(lambda: image_set_at.append(time.perf_counter()))
    view = panel.map_view
    viewport = view.viewport()
    handle = panel.handles.selected
    u, v = panel.plane.to_map(handle.z)
    start = view.point_to_widget(u, v)
    radius = min(viewport.width(), viewport.height()) * 0.25
    centre = start - QPoint(int(radius), 0)
    mouse_move(viewport, start)
    wait(0.02)
    mouse_press(viewport, start)
    to_image: list[float] = []
    to_frame: list[float] = []
    missed = 0
    for i in range(1, moves + 1):
        angle = 2 * math.pi * i / 120
        point = centre + QPoint(int(radius * math.cos(angle)), int(-radius * math.sin(angle)))
        image_set_at.clear()
        began = time.perf_counter()
        mouse_move(viewport, point, Qt.MouseButton.LeftButton)
        if image_set_at:
            to_image.append(image_set_at[-1] - began)
            QApplication.processEvents()
            to_frame.append(time.perf_counter() - began)
        else:
            missed += 1
        wait(max(0.0, MOVE_SPACING_S - (time.perf_counter() - began)))
    mouse_release(viewport, point)
    return {"move_to_image": percentiles(to_image), "move_to_frame": percentiles(to_frame), "missed_moves": missed}


def manifold_timings(model: VAE, repeats: int) -> dict[str, dict[str, float]]:
    plane = identity_plane(model.config.z_dim)
    item = pg.ImageItem(axisOrder="row-major")
    results = {}
    for n in (10, 20, 30):
        decode_manifold(model, plane, (-3, 3), (-3, 3), n)  # warm-up
        decode_s, show_s = [], []
        for _ in range(repeats):
            began = time.perf_counter()
            manifold = decode_manifold(model, plane, (-3, 3), (-3, 3), n)
            decode_s.append(time.perf_counter() - began)
            began = time.perf_counter()
            item.setImage(manifold.image[::-1], autoLevels=False, levels=(0.0, 1.0))
            show_s.append(time.perf_counter() - began)
        results[f"N={n}"] = {"decode": percentiles(decode_s), "set_image": percentiles(show_s)}
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=300, help="mouse moves in the scripted drag")
    parser.add_argument("--z-dim", type=int, default=16, help="latent dimensions of the (default-size) model")
    parser.add_argument("--repeats", type=int, default=15, help="manifold decodes per grid size")
    parser.add_argument("--no-training", action="store_true", help="drag without a training loop running")
    return run_benchmark(parser, run)


def run(args: argparse.Namespace) -> int:

    tune_allocator()  # as run_gui does
    app = create_application()
    torch.set_num_threads(1)  # the GUI thread's decodes, as RunController sets it
    dataset = load_shapes(num_train=10_000, num_test=5_000)
    config = ModelConfig(z_dim=args.z_dim)  # the app's default architecture
    torch.manual_seed(0)
    shown = VAE(config)
    mirror = ModelMirror()
    mirror.set_dataset(dataset)
    mirror.set_model(config, state_to_numpy(shown))

    manifold = manifold_timings(mirror.model, args.repeats)

    panel = LatentPanel(mirror)
    panel.resize(1280, 820)
    panel.show()
    deadline = time.perf_counter() + 60
    while panel.map_version != mirror.version and time.perf_counter() < deadline:
        wait(0.05)
    training = None
    if not args.no_training:
        training = BackgroundTraining(VAE(config), dataset, mirror)
        training.start()
        wait(1.0)  # let training reach its steady state
    drag = drag_latency(panel, args.moves)
    if training is not None:
        training.stop()
    panel.shutdown()
    panel.close()
    app.processEvents()

    result = {
        "benchmark": "latent_explorer",
        "training_running": training is not None,
        "training_steps_during_run": training.steps if training else 0,
        "weight_updates_during_run": training.weight_updates if training else 0,
        "z_dim": args.z_dim,
        "drag": drag,
        "manifold": manifold,
        "targets": {"drag_p95_ms": 16, "manifold_20x20_ms": 100},
        "machine": machine_info(),
    }
    print(json.dumps(result))
    print()
    print(f"Latent explorer (z_dim={args.z_dim}, default model size, training {'on' if training else 'off'})")
    print(f"{'measure':<34}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}{'n':>7}")
    for name in ("move_to_image", "move_to_frame"):
        row = drag[name]
        print(f"{'drag ' + name:<34}{row['p50_ms']:>10.2f}{row['p95_ms']:>10.2f}{row['max_ms']:>10.2f}{row['n']:>7}")
    for size, rows in manifold.items():
        for part, row in rows.items():
            label = f"manifold {size} {part}"
            print(f"{label:<34}{row['p50_ms']:>10.2f}{row['p95_ms']:>10.2f}{row['max_ms']:>10.2f}{row['n']:>7}")
    if training is not None:
        print(f"training steps during the run: {training.steps}, weight updates to the mirror: {training.weight_updates}")
    print("machine: " + ", ".join(f"{k}={v}" for k, v in result["machine"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
