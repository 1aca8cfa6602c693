"""⑥ Where the gradients go: the bars a learner reads are the loss's gradients on each encoder output,
computed off the GUI thread, following the weights, and idle while the inspector is hidden."""

import threading

import numpy as np
import pytest
import torch

from vae_desktop.core import gradients as core_gradients
from vae_desktop.core.config import ModelConfig
from vae_desktop.core.datasets.shapes import load_shapes
from vae_desktop.core.gradients import output_gradients
from vae_desktop.core.model import VAE
from vae_desktop.ui.inspector import InspectorPanel
from vae_desktop.ui.inspector.gradient_section import BATCH_IMAGES, VIEW_BATCH
from vae_desktop.ui.model_mirror import ModelMirror, state_to_numpy

BETA = 2.0


@pytest.fixture(scope="module")
def shapes():
    return load_shapes(num_train=600, num_test=300)


def _model(seed: int = 0, stddev: str = "exp") -> VAE:
    torch.manual_seed(seed)
    return VAE(ModelConfig(z_dim=3, base_width=8, hidden=64, stddev=stddev)).eval()


def _open(qtbot, shapes, model: VAE, show: bool = True) -> tuple[InspectorPanel, ModelMirror]:
    mirror = ModelMirror()
    mirror.set_dataset(shapes)
    mirror.set_model(model.config, state_to_numpy(model), beta=BETA)
    panel = InspectorPanel(mirror, refresh_interval_ms=40, activity_interval_ms=80)
    qtbot.addWidget(panel, before_close_func=InspectorPanel.shutdown)
    panel.resize(800, 900)
    if show:
        panel.show()
    return panel, mirror


def _wait_for_result(qtbot, panel: InspectorPanel, version: int | None = None):
    """The result for the image shown now, with weights at least `version`."""
    section = panel.gradients

    def current() -> bool:
        result = section.result
        return (result is not None and result.request == section._request_number
                and (version is None or result.version >= version))

    qtbot.waitUntil(current, timeout=15_000)
    return section.result


def test_the_bars_are_the_gradients_of_the_shown_image_with_its_eps(qtbot, shapes):
    model = _model()
    panel, mirror = _open(qtbot, shapes, model)
    panel.show_test_image(7)
    result = _wait_for_result(qtbot, panel, mirror.version)
    section = panel.gradients
    expected = output_gradients(mirror.model, shapes.test_images[7:8].numpy(), eps=panel.eps[None], beta=BETA)
    per_image = expected.per_image
    np.testing.assert_allclose(section.mean_chart.recon_values(), per_image.mean_recon[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(section.mean_chart.kl_values(), per_image.mean_kl[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(section.spread_chart.recon_values(), per_image.spread_recon[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(section.spread_chart.kl_values(), per_image.spread_kl[0], rtol=1e-5, atol=1e-6)
    # The closed forms the caption states, with the μ and σ shown in ③'s table: β·μ and β·(σ² − 1).
    inspection = panel.inspection
    np.testing.assert_allclose(section.mean_chart.kl_values(), BETA * inspection.mean, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(section.spread_chart.kl_values(), BETA * (inspection.std ** 2 - 1), rtol=1e-4, atol=1e-6)
    # The story quotes the numbers of the dimension it names.
    d = int(np.argmin(result.batch_std))
    story = section.story.text()
    assert f"<b>Dimension {d}</b> (β = 2)" in story
    assert f"β·μ{d} = {BETA * inspection.mean[d]:+.3g}" in story
    assert f"{result.batch_size} test images" in story and section.story.isVisible()


def test_the_average_view_is_the_mean_over_test_images_spread_over_the_set(qtbot, shapes):
    panel, mirror = _open(qtbot, shapes, _model(1))
    panel.show_test_image(0)
    result = _wait_for_result(qtbot, panel, mirror.version)
    section = panel.gradients
    section.view_choice.setCurrentIndex(section.view_choice.findData(VIEW_BATCH))
    indices = np.unique(np.linspace(0, shapes.num_test - 1, min(BATCH_IMAGES, shapes.num_test)).astype(int))
    expected = output_gradients(mirror.model, shapes.test_images[indices].numpy(), beta=BETA, seed=0).batch_mean
    assert result.batch_size == len(indices)
    np.testing.assert_allclose(section.spread_chart.recon_values(), expected.spread_recon, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(section.spread_chart.kl_values(), expected.spread_kl, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(section.mean_chart.kl_values(), expected.mean_kl, rtol=1e-5, atol=1e-6)


def test_computed_off_the_gui_thread_and_following_new_weights(qtbot, shapes, monkeypatch):
    threads: list[int] = []
    original = core_gradients.GradientComputer.run

    def recording_run(self, job):
        threads.append(threading.get_ident())
        return original(self, job)

    monkeypatch.setattr(core_gradients.GradientComputer, "run", recording_run)
    panel, mirror = _open(qtbot, shapes, _model(0))
    before = _wait_for_result(qtbot, panel, mirror.version)
    trained = _model(5)  # other weights, same architecture: as training sends them
    mirror.update_weights(state_to_numpy(trained))
    after = _wait_for_result(qtbot, panel, mirror.version)
    assert after.version > before.version
    assert not np.allclose(after.image.mean_kl, before.image.mean_kl)  # β·μ of the new weights
    np.testing.assert_allclose(panel.gradients.mean_chart.kl_values(), BETA * panel.inspection.mean, rtol=1e-4,
                               atol=1e-6)
    assert threads and threading.get_ident() not in threads


def test_hidden_inspector_computes_nothing_for_new_weights_and_catches_up_when_shown(qtbot, shapes):
    panel, mirror = _open(qtbot, shapes, _model(0), show=False)
    for seed in (2, 3, 4):
        mirror.update_weights(state_to_numpy(_model(seed)))
        qtbot.wait(60)
    assert panel.gradients.submitted == 0 and panel.gradients.result is None
    panel.show()
    _wait_for_result(qtbot, panel, mirror.version)
    assert panel.gradients.submitted == 1


def test_softplus_names_its_spread_output_s_not_log_sigma(qtbot, shapes):
    panel, mirror = _open(qtbot, shapes, _model(0, stddev="softplus"))
    _wait_for_result(qtbot, panel, mirror.version)
    section = panel.gradients
    assert section.spread_chart.output_name == "s"
    assert "log σ" not in section.story.text() and "sigmoid(s)" in section.caption.text()
