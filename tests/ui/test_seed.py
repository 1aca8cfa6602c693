"""The same seed gives the same run in the window and in `vae-desktop train`: same split, same weights."""

from __future__ import annotations

from PIL import Image

from tests.core.test_cli import _numbers, run_cli
from tests.ui.helpers import wait_for_state
from vae_desktop.core.config import ModelConfig
from vae_desktop.core.datasets.shapes import render_shapes
from vae_desktop.core.metrics_csv import write_metrics_csv
from vae_desktop.ui.app import build_main_window


def test_the_window_and_the_cli_train_the_same_numbers_from_the_same_seed(qtbot, settings, tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    images, _labels = render_shapes(300, seed=5)
    for i, image in enumerate(images[:, 0].numpy()):
        Image.fromarray(image).save(folder / f"{i}.png")
    cli = run_cli("train", "--dataset", f"folder:{folder}", "--batch-size", "64", "--z-dim", "2", "--epochs", "2",
                  "--seed", "3", "--base-width", "8", "--quiet", "--out", str(tmp_path / "cli"))
    assert cli.returncode == 0, cli.stderr

    window = build_main_window(settings=settings, model_template=ModelConfig(base_width=8), training_threads=1)
    qtbot.addWidget(window)
    try:
        form = window.form
        form.add_folder(str(folder))
        form.z_dim.setValue(2)
        form.batch_size.setValue(64)
        form.epochs.setValue(2)
        form.seed.setValue(3)
        window.show()
        qtbot.waitUntil(window.start_button.isEnabled, timeout=10_000)
        window.start_training()
        qtbot.waitUntil(lambda: len(window.plots.epoch_data()) == 2, timeout=120_000)
        wait_for_state(qtbot, window, "ready")
        write_metrics_csv(window.plots.epoch_data(), tmp_path / "window.csv")
    finally:
        window.controller.shutdown(10_000)
        window.setWindowModified(False)  # the test is over: nothing to save
        window.close()
        assert window.join_background_work(60)
    assert _numbers(tmp_path / "window.csv") == _numbers(tmp_path / "cli" / "metrics.csv")
