"""Comparing runs: two real `vae-desktop train --out` folders overlaid in the real window's plots."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from vae_desktop.core.datasets.shapes import render_shapes
from vae_desktop.core.runs.comparison import OWN_RUN_KEY
from vae_desktop.ui.compare_plot_items import OTHER_WIDTH, SELECTED_WIDTH, run_colour
from vae_desktop.ui.export_menu import ExportController

REPO = Path(__file__).resolve().parents[2]
EPOCHS = 2


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory) -> tuple[Path, Path]:
    """Two tiny runs, z = 2 and z = 3, everything else equal, trained by two real CLI processes."""
    root = tmp_path_factory.mktemp("compare")
    images = root / "imgs"
    images.mkdir()
    for i, image in enumerate(render_shapes(240, seed=5)[0][:, 0].numpy()):
        Image.fromarray(image).save(images / f"{i}.png")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    folders = (root / "run-z2", root / "run-z3")
    procs = [subprocess.Popen([sys.executable, "-m", "vae_desktop", "train", "--dataset", f"folder:{images}",
                               "--batch-size", "32", "--z-dim", str(z), "--base-width", "8", "--epochs", str(EPOCHS),
                               "--out", str(folder), "--quiet"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
             for z, folder in zip((2, 3), folders, strict=True)]
    for proc in procs:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out
    return folders


def metrics(folder: Path) -> tuple[dict[str, np.ndarray], list[dict]]:
    """The folder's metrics.jsonl, read here independently: batch columns and epoch rows."""
    rows = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines() if line.strip()]
    batches = [r for r in rows if r["type"] == "batch"]
    epochs = [r for r in rows if r["type"] == "epoch"]
    return {k: np.array([b[k] for b in batches], dtype=np.float64) for k in ("global_step", "recon", "kl")}, epochs


def steps_per_epoch(folder: Path) -> int:
    return json.loads((folder / "run.json").read_text())["progress"]["steps_per_epoch"]


@pytest.fixture
def compared(qtbot, make_window, settings, two_runs):
    window = make_window(settings)
    window.resize(1500, 900)
    window.comparison.compare([str(f) for f in two_runs])
    qtbot.waitUntil(lambda: len(window.comparison.comparison) == 2, timeout=30_000)
    return window


def keys(folders) -> list[str]:
    return [str(Path(f).resolve()) for f in folders]


def test_each_runs_curves_hold_exactly_its_own_metrics(compared, two_runs):
    overlay = compared.comparison.overlay
    assert OWN_RUN_KEY not in compared.comparison.comparison  # the window has not trained: no own curves
    for folder, key in zip(two_runs, keys(two_runs), strict=True):
        batches, epochs = metrics(folder)
        spe = steps_per_epoch(folder)
        recon, kl = overlay.items_of(key)
        for items, name in ((recon, "recon"), (kl, "kl")):
            x, y = items.raw.getData()
            np.testing.assert_array_equal(x, batches["global_step"] / spe)
            np.testing.assert_array_equal(y, batches[name])
            ex, train = items.train.getData()
            _, test = items.test.getData()
            assert ex.tolist() == [e["epoch"] for e in epochs] == list(range(1, EPOCHS + 1))
            assert train.tolist() == [e[f"train_{name}"] for e in epochs]
            assert test.tolist() == [e[f"test_{name}"] for e in epochs]
            sx, sy = items.smooth.getData()
            assert len(sx) and np.all(np.isfinite(sy))
            assert sy.min() >= batches[name].min() and sy.max() <= batches[name].max()
    a, b = (overlay.items_of(k)[0].test.getData()[1] for k in keys(two_runs))
    assert not np.array_equal(a, b)  # two different runs, not one drawn twice


def test_the_legend_names_the_differing_setting_and_hiding_a_run_hides_its_items(qtbot, compared, two_runs):
    comparison = compared.comparison
    first, second = keys(two_runs)
    assert comparison.comparison.labels() == {first: "z = 2", second: "z = 3"}
    for lp in (compared.plots.recon, compared.plots.kl):
        title = lp.plot.titleLabel.text
        assert "z&nbsp;=&nbsp;2" in title and "z&nbsp;=&nbsp;3" in title
    # the window's own (empty) items are not drawn while runs are compared
    assert not compared.plots.recon.raw.isVisible()
    # one colour per run, the same in both plots
    for key, index in ((first, 0), (second, 1)):
        for items in comparison.overlay.items_of(key):
            assert items.test.opts["pen"].color().name() == run_colour(index).lower()

    run_list = comparison.run_list
    assert run_list.isVisible()
    item = run_list.item_of(second)
    assert item.text().startswith("z = 3") and item.checkState() == Qt.CheckState.Checked
    item.setCheckState(Qt.CheckState.Unchecked)  # what a click on its check box does
    assert not comparison.comparison.run(second).visible
    for items in comparison.overlay.items_of(second):
        assert not any(i.isVisible() for i in items.items)
    for items in comparison.overlay.items_of(first):
        assert all(i.isVisible() for i in items.items)
    assert "z&nbsp;=&nbsp;3" not in compared.plots.recon.plot.titleLabel.text
    item.setCheckState(Qt.CheckState.Checked)
    assert all(i.isVisible() for items in comparison.overlay.items_of(second) for i in items.items)

    # selecting a run in the list: its checkpoint goes out, its curves are drawn thicker
    with qtbot.waitSignal(comparison.selectedCheckpoint, timeout=2000) as selected:
        run_list.runs.setCurrentItem(run_list.item_of(second))
    assert Path(selected.args[0]) == two_runs[1] / "checkpoints" / "latest.vaeckpt"
    assert comparison.overlay.items_of(second)[0].smooth.opts["pen"].widthF() == SELECTED_WIDTH
    assert comparison.overlay.items_of(first)[0].smooth.opts["pen"].widthF() == OTHER_WIDTH

    # closing the comparison gives back the single-run plots
    run_list.close_button.click()
    assert not comparison.active and not run_list.isVisible()
    assert comparison.overlay.items_of(first) is None
    assert compared.plots.recon.raw.isVisible()
    assert "z&nbsp;=" not in compared.plots.recon.plot.titleLabel.text


def test_a_folder_that_is_no_run_gets_one_message_and_the_others_still_come(qtbot, make_window, settings,
                                                                              two_runs, tmp_path):
    window = make_window(settings)
    window.comparison.compare([str(tmp_path), str(two_runs[0])])
    qtbot.waitUntil(lambda: len(window.comparison.comparison) == 1 and window.banner.kind == "error",
                    timeout=30_000)
    assert "not a run folder" in window.banner.text.text()


LIVE_EPOCHS = 40


def _batch_lines(folder: Path) -> int:
    log = folder / "metrics.jsonl"
    return log.read_text().count('"type":"batch"') if log.exists() else 0


def test_a_run_still_training_grows_in_the_comparison_until_it_finishes(qtbot, make_window, settings, two_runs,
                                                                         tmp_path):
    """A real `train --out` process writes while the window compares it with a finished run: its
    curves gain the new points within seconds, and in the end hold exactly its own metrics."""
    window = make_window(settings)  # first: the run is compared as soon as it has written a batch row
    live_folder = tmp_path / "run-live"
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    train = subprocess.Popen([sys.executable, "-m", "vae_desktop", "train", "--dataset",
                              f"folder:{two_runs[0].parent / 'imgs'}", "--batch-size", "16", "--z-dim", "2",
                              "--base-width", "8", "--epochs", str(LIVE_EPOCHS), "--out", str(live_folder), "--quiet"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        qtbot.waitUntil(lambda: train.poll() is not None or _batch_lines(live_folder) > 0, timeout=120_000)
        assert train.poll() is None, train.communicate()[0]
        comparison = window.comparison
        comparison.compare([str(live_folder), str(two_runs[1])])
        qtbot.waitUntil(lambda: len(comparison.comparison) == 2, timeout=30_000)
        live_key, done_key = keys([live_folder, two_runs[1]])
        first = comparison.comparison.run(live_key).curves
        assert len(first.epochs) < LIVE_EPOCHS  # read while it trained
        raw = comparison.overlay.items_of(live_key)[0].raw

        def drawn() -> int:  # points given to the curve (getData() is what is on screen: downsampled)
            return len(raw.getOriginalDataset()[0])

        shown = drawn()
        assert shown == len(first.steps) > 0
        qtbot.waitUntil(lambda: drawn() > shown, timeout=10_000)  # grows live, polled

        out, _ = train.communicate(timeout=300)
        assert train.returncode == 0, out
        batches, epochs = metrics(live_folder)
        qtbot.waitUntil(lambda: drawn() == len(batches["global_step"])
                        and len(comparison.comparison.run(live_key).curves.epochs) == LIVE_EPOCHS, timeout=10_000)
        for folder, key in ((live_folder, live_key), (two_runs[1], done_key)):  # each run: exactly its own rows
            batches, epochs = metrics(folder)
            spe = steps_per_epoch(folder)
            for items, name in zip(comparison.overlay.items_of(key), ("recon", "kl"), strict=True):
                x, y = items.raw.getOriginalDataset()
                np.testing.assert_array_equal(x, batches["global_step"] / spe)
                np.testing.assert_array_equal(y, batches[name])
                ex, train_y = items.train.getOriginalDataset()
                assert ex.tolist() == [e["epoch"] for e in epochs]
                assert train_y.tolist() == [e[f"train_{name}"] for e in epochs]
                assert items.test.getOriginalDataset()[1].tolist() == [e[f"test_{name}"] for e in epochs]
        assert Path(comparison.comparison.run(live_key).checkpoint) == live_folder / "checkpoints" / "latest.vaeckpt"
        # finished and nothing more arriving: the run is no longer polled (only its run.json looked at)
        qtbot.waitUntil(lambda: comparison.worker_of(live_key).settled, timeout=10_000)
        qtbot.waitUntil(lambda: comparison.worker_of(done_key).settled, timeout=10_000)
        comparison.comparison.remove(live_key)  # leaving the comparison ends its reader
        assert comparison.worker_of(live_key) is None and comparison.worker_of(done_key) is not None
    finally:
        if train.poll() is None:
            train.kill()
            train.wait(30)


def _colour_pixels(image: np.ndarray, colour: str) -> int:
    rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(image.astype(int) - rgb).sum(axis=2) < 30).sum())


def test_export_writes_the_overlay_as_png_and_svg_and_a_column_per_run_and_term(compared, two_runs, tmp_path):
    ex = compared.findChild(ExportController)
    ex.update_actions()
    assert ex.loss_png_action.isEnabled() and ex.comparison_csv_action.isEnabled()

    with Image.open(ex.export_loss_plots_png(tmp_path / "loss.png")) as image:
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.shape[1] == 2 * compared.plots.canvas.width()
    assert _colour_pixels(pixels, run_colour(0)) > 50 and _colour_pixels(pixels, run_colour(1)) > 50

    svg = ET.parse(ex.export_loss_plots_svg(tmp_path / "loss.svg")).getroot()
    strokes = {el.get("stroke", "").lower() for el in svg.iter()}
    assert run_colour(0).lower() in strokes and run_colour(1).lower() in strokes

    path = ex.export_comparison_csv(tmp_path / "comparison.csv")
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    names = [f.name for f in two_runs]
    assert list(rows[0]) == ["epoch"] + [f"{n} {t}" for n in names for t in (
        "train recon", "train KL", "train -ELBO", "test recon", "test KL", "test -ELBO")]
    assert [int(r["epoch"]) for r in rows] == list(range(1, EPOCHS + 1))
    for folder, name in zip(two_runs, names, strict=True):
        _, epochs = metrics(folder)
        for row, epoch in zip(rows, epochs, strict=True):
            for term, field in (("train recon", "train_recon"), ("train KL", "train_kl"),
                                ("train -ELBO", "train_total"), ("test recon", "test_recon"),
                                ("test KL", "test_kl"), ("test -ELBO", "test_total")):
                assert float(row[f"{name} {term}"]) == epoch[field]


def _decoded(model, z_dim: int) -> np.ndarray:
    import torch

    with torch.no_grad():
        return model.decode(torch.full((1, z_dim), 0.5)).numpy()


def _checkpoint_model(path: Path):
    from vae_desktop.core.checkpoint import load_checkpoint

    return load_checkpoint(str(path)).build_model()


def test_the_side_panels_follow_the_selected_run_and_the_own_run_stays(qtbot, make_window, settings, two_runs):
    from tests.ui.helpers import wait_for_state
    from vae_desktop.ui.model_mirror import state_to_numpy

    window = make_window(settings, epochs=1)
    window.resize(1500, 900)
    window.start_button.click()
    wait_for_state(qtbot, window, "ready", timeout=60_000)
    own_state = state_to_numpy(window.trainer.model)
    comparison = window.comparison
    comparison.compare([str(f) for f in two_runs])
    qtbot.waitUntil(lambda: len(comparison.comparison) == 3, timeout=30_000)
    labels = comparison.comparison.labels()
    # the window trained other data with a smaller model: the legend says so, and nothing else
    assert labels[OWN_RUN_KEY] == "data = shapes, z = 2, batch = 100, hidden = 64"
    assert labels[keys(two_runs)[1]] == "data = folder:imgs, z = 3, batch = 32, hidden = 256"
    assert window.plots.recon.raw.isVisible()  # the own run keeps its live items, in its run colour
    assert window.plots.recon.smooth.opts["pen"].color().name() == run_colour(0).lower()

    comparison.comparison.select(keys(two_runs)[1])
    mirror = window.mirror
    qtbot.waitUntil(lambda: mirror.model is not None and mirror.model.config.z_dim == 3, timeout=30_000)
    expected = _checkpoint_model(two_runs[1] / "checkpoints" / "latest.vaeckpt")
    np.testing.assert_array_equal(_decoded(mirror.model, 3), _decoded(expected, 3))
    assert window.latent_panel.sliders.z_dim == 3  # the latent panel shows that run's three dimensions
    assert window.status.has_run and window.trainer is not None  # the own run is not replaced

    comparison.comparison.select(OWN_RUN_KEY)
    assert mirror.model.config.z_dim == 2
    for name, value in state_to_numpy(mirror.model).items():
        np.testing.assert_array_equal(value, own_state[name])

    # training the own run again while a compared model is shown: the own model comes back first
    comparison.comparison.select(keys(two_runs)[0])
    qtbot.waitUntil(lambda: comparison.model_view.showing != "", timeout=30_000)
    window.form.epochs.setValue(2)
    window.start_button.click()
    wait_for_state(qtbot, window, "ready", timeout=60_000)
    assert comparison.model_view.showing == ""
    for name, value in state_to_numpy(mirror.model).items():
        np.testing.assert_array_equal(value, state_to_numpy(window.trainer.model)[name])
    assert [e.epoch for e in comparison.comparison.run(OWN_RUN_KEY).curves.epochs] == [1, 2]
