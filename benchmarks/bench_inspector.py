"""How long the encoder inspector takes to follow a weight update, for small and large latent sizes.

Measures, on the CPU model copy the GUI uses (default architecture, shapes test images):
  inspect_ms   one image through encoder, exp step, sample, decoder, KL and recon (core only)
  activity_ms  the test-set activity pass (encoder only, ACTIVITY_IMAGES images)
  refresh_ms   a full panel refresh: inspect_image plus redrawing every chart, table and label
The panel refreshes at most 4 times a second and runs the activity pass at most every 2 s, so
refresh_ms should stay well under 250 ms and activity_ms well under 2 s.

Usage: python -m benchmarks.bench_inspector [--repeats N]. Prints one JSON line, then a table.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import torch
from PySide6.QtWidgets import QApplication

from benchmarks._common import report
from vae_desktop.core.config import ModelConfig
from vae_desktop.core.datasets.shapes import load_shapes
from vae_desktop.core.inspection import EpsilonSource, dimension_activity, inspect_image
from vae_desktop.core.model import VAE
from vae_desktop.ui.inspector import InspectorPanel
from vae_desktop.ui.inspector.panel import ACTIVITY_IMAGES
from vae_desktop.ui.model_mirror import ModelMirror, state_to_numpy


def _median_ms(action, repeats: int) -> float:
    action()  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(z_dim: int, dataset, app: QApplication, repeats: int) -> dict[str, float]:
    torch.manual_seed(0)
    model = VAE(ModelConfig(z_dim=z_dim)).eval()
    image = dataset.test_images[0]
    eps = EpsilonSource().draw(z_dim)
    inspect_ms = _median_ms(lambda: inspect_image(model, image, eps), repeats)
    activity_ms = _median_ms(
        lambda: dimension_activity(model, dataset.test_images, max_images=ACTIVITY_IMAGES), max(3, repeats // 5)
    )
    mirror = ModelMirror()
    mirror.set_dataset(dataset)
    mirror.set_model(model.config, state_to_numpy(model))
    panel = InspectorPanel(mirror)
    panel.resize(800, 900)
    panel.show()
    app.processEvents()

    def refresh() -> None:
        panel.refresh()
        app.processEvents()  # include the repaint

    refresh_ms = _median_ms(refresh, repeats)
    panel.shutdown()
    panel.close()
    panel.deleteLater()
    app.processEvents()
    return {"z_dim": z_dim, "inspect_ms": inspect_ms, "activity_ms": activity_ms, "refresh_ms": refresh_ms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    dataset = load_shapes(num_train=2000, num_test=ACTIVITY_IMAGES)
    rows = [measure(z, dataset, app, args.repeats) for z in (2, 16, 256)]
    report(
        "inspector_refresh",
        {"results": rows},
        [(f"z_dim {r['z_dim']}: inspect / activity / refresh ms",
          f"{r['inspect_ms']:.1f} / {r['activity_ms']:.0f} / {r['refresh_ms']:.0f}", "refresh < 250, activity < 2000")
         for r in rows],
    )

if __name__ == "__main__":
    main()
