"""The GUI's model copy never pairs a model with a dataset whose images it cannot take."""

from __future__ import annotations

import torch

from vae_desktop.core.config import ModelConfig
from vae_desktop.core.datasets.base import ImageDataset
from vae_desktop.core.model import VAE
from vae_desktop.ui.model_mirror import ModelMirror, state_to_numpy


def _colour_dataset() -> ImageDataset:
    return ImageDataset(
        "colour", torch.zeros((4, 3, 28, 28), dtype=torch.uint8), torch.zeros(4, dtype=torch.int64),
        torch.zeros((2, 3, 28, 28), dtype=torch.uint8), torch.zeros(2, dtype=torch.int64), ["a"],
    )


def _set(mirror: ModelMirror, channels: int) -> None:
    model = VAE(ModelConfig(z_dim=2, channels=channels, base_width=8, hidden=64))
    mirror.set_model(model.config, state_to_numpy(model))


def test_a_mismatched_pair_is_refused_once_with_a_clear_message(qtbot, small_shapes) -> None:
    mirror = ModelMirror()
    changes: list[object] = []
    mirror.datasetChanged.connect(lambda: changes.append(mirror.dataset))
    _set(mirror, channels=1)
    mirror.set_dataset(small_shapes)
    assert mirror.dataset is small_shapes and mirror.refusal is None

    colour = _colour_dataset()
    mirror.set_dataset(colour)
    assert mirror.dataset is None  # no panel ever sees the pair
    assert mirror.refusal == (
        "The dataset colour has images of shape (3, 28, 28) but the model expects (1, 28, 28): "
        "it does not fit this model."
    )
    # A new run sets its dataset before its model: the fitting model ends the refusal, and panels hear of it.
    with qtbot.waitSignal(mirror.datasetChanged, timeout=1000):
        _set(mirror, channels=3)
    assert mirror.dataset is colour and mirror.refusal is None
    assert changes == [small_shapes, None, colour]


def test_no_model_refuses_nothing(small_shapes) -> None:
    mirror = ModelMirror()
    mirror.set_dataset(_colour_dataset())
    assert mirror.dataset is not None and mirror.refusal is None
    _set(mirror, channels=1)
    assert mirror.dataset is None and mirror.refusal is not None
    mirror.clear_model()
    assert mirror.dataset is not None and mirror.refusal is None
