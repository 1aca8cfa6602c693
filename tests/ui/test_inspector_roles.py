"""The inspector's words follow the model: which half is μ (`--layout`) and how σ is made (`--stddev`)."""

import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from vae_desktop.core.config import ModelConfig
from vae_desktop.core.datasets.shapes import load_shapes
from vae_desktop.core.model import VAE
from vae_desktop.ui.inspector import InspectorPanel, style
from vae_desktop.ui.model_mirror import ModelMirror, state_to_numpy


@pytest.fixture(scope="module")
def shapes():
    return load_shapes(num_train=300, num_test=100)


def _panel(qtbot, shapes, **config) -> InspectorPanel:
    torch.manual_seed(0)
    model = VAE(ModelConfig(z_dim=3, base_width=8, hidden=64, **config)).eval()
    mirror = ModelMirror()
    mirror.set_dataset(shapes)
    mirror.set_model(model.config, state_to_numpy(model))
    panel = InspectorPanel(mirror)
    qtbot.addWidget(panel, before_close_func=InspectorPanel.shutdown)
    panel.resize(800, 900)
    panel.show()
    qtbot.waitUntil(lambda: panel.inspection is not None, timeout=10_000)
    return panel


def _header(panel: InspectorPanel, column: int) -> str:
    return panel.table.table_model.headerData(column, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)


def test_the_default_model_reads_as_before(qtbot, shapes):
    panel = _panel(qtbot, shapes)
    assert panel.raw_chart.half_titles() == ("μ = out[:, :3]", "log σ = out[:, 3:]")
    assert panel.exp_section.title.text() == "② exp turns any number into a positive stddev"
    assert "mean, log_std = out[:, :3], out[:, 3:]" in panel.raw_section.caption.text()
    assert (_header(panel, 2), _header(panel, 3)) == ("log σ", "σ = exp(log σ)")


def test_swapped_halves_show_the_mean_in_the_second_half(qtbot, shapes):
    panel = _panel(qtbot, shapes, layout="logstd-first")
    assert panel.raw_chart.half_titles() == ("μ = out[:, 3:]", "log σ = out[:, :3]")
    colors = panel.raw_chart.bar_colors()
    assert colors[:3] == [style.LOG_STD.lower()] * 3 and colors[3:] == [style.MEAN.lower()] * 3
    caption = panel.raw_section.caption.text()
    assert "outputs 3–5 as the mean μ" in caption and "log_std, mean = out[:, :3], out[:, 3:]" in caption
    note = panel.note_label.text()
    assert "takes the second half as μ and the first as log σ" in note
    d = int(np.argmax(panel.inspection.kl_per_dim))
    assert f"output {3 + d} = " in note  # the example's mean is output z_dim + d
    assert panel.raw_chart.describe(0, 0).startswith("output 0 = ")
    assert "log σ0" in panel.raw_chart.describe(0, 0) and "mean μ0" in panel.raw_chart.describe(3, 0)


def test_softplus_names_s_and_draws_the_softplus_curve(qtbot, shapes):
    panel = _panel(qtbot, shapes, stddev="softplus")
    assert "softplus" in panel.exp_section.title.text()
    assert (_header(panel, 2), _header(panel, 3)) == ("s", "σ = softplus(s)")
    x, y = panel.exp_curve_chart.curve.getData()
    np.testing.assert_allclose(y, np.log1p(np.exp(x)), rtol=1e-9)
    assert "log σ" not in panel.note_label.text()
    assert panel.raw_chart.half_titles()[1] == "s = out[:, 3:]"


def test_raw_says_nothing_keeps_sigma_positive(qtbot, shapes):
    panel = _panel(qtbot, shapes, stddev="raw")
    assert panel.exp_section.title.text().startswith("② raw")
    assert "training stops at that step" in panel.exp_section.caption.text()
    x, y = panel.exp_curve_chart.curve.getData()
    np.testing.assert_allclose(y, x)
