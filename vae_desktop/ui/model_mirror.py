"""The GUI's own CPU copy of the VAE, and the dataset it explores.

Panels (latent map, inspector, reconstruction strip) decode and encode with this copy only; they
never touch the weights the optimizer is updating. The training worker sends plain numpy copies of
the weights a few times per second (`update_weights`); a new run or an opened checkpoint replaces
the model (`set_model`).

The mirror never shows a mismatched pair: a dataset whose images do not have the model's input
shape is refused here, once (`dataset` is None and `refusal` says why), so no panel checks shapes.
A new run sets its dataset before its model, so the refusal lasts only until the fitting model comes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal

from vae_desktop.core.config import ModelConfig
from vae_desktop.core.datasets.base import ImageDataset
from vae_desktop.core.model import VAE, empty_model
from vae_desktop.ui.logging_setup import LOGGER_NAME

log = logging.getLogger(f"{LOGGER_NAME}.mirror")


def state_to_numpy(model: torch.nn.Module) -> dict[str, np.ndarray]:
    """Copy a model's weights into numpy arrays: safe to send through a Qt signal to another thread."""
    return {k: v.detach().to("cpu", copy=True).numpy() for k, v in model.state_dict().items()}


class ModelMirror(QObject):
    """Owns the decoder/encoder copy the GUI uses. Lives in the GUI thread."""

    modelReplaced = Signal()  # a different model (new run, opened checkpoint); architecture may differ
    weightsUpdated = Signal()  # same architecture, fresher weights from training
    datasetChanged = Signal()  # `dataset` changed: a new one, or the model made one fit or not fit

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model: VAE | None = None
        self._dataset: ImageDataset | None = None  # as given; shown only when it fits the model
        self._refusal: str | None = None
        self._recon_loss = "bernoulli"
        self._beta = 1.0
        self._version = 0
        self._snapshot: tuple[int, dict[str, np.ndarray]] | None = None  # (version, numpy copy of the weights)

    @property
    def model(self) -> VAE | None:
        """The CPU model in eval mode, or None before any run or checkpoint."""
        return self._model

    @property
    def dataset(self) -> ImageDataset | None:
        """The dataset to explore, or None without one or while it does not fit the model (see `refusal`)."""
        return None if self._refusal is not None else self._dataset

    @property
    def refusal(self) -> str | None:
        """Why the given dataset is not shown with this model (image shape vs model input), or None."""
        return self._refusal

    @property
    def version(self) -> int:
        """Increases on every weight change; caches (e.g. an encoded scatter) compare against it."""
        return self._version

    @property
    def recon_loss(self) -> str:
        """The run's reconstruction loss (`TrainConfig.recon_loss`), for panels that report it."""
        return self._recon_loss

    def state_snapshot(self) -> dict[str, np.ndarray]:
        """A numpy copy of the current weights, made once per version: background jobs (the latent map,
        the gradients) read it on their own model copies while this one takes new weights."""
        model = self._model
        assert model is not None, "no model to copy"
        if self._snapshot is None or self._snapshot[0] != self._version:
            self._snapshot = (self._version, state_to_numpy(model))
        return self._snapshot[1]

    @property
    def beta(self) -> float:
        """The run's KL weight β (`TrainConfig.beta`), for panels that show the loss's gradients."""
        return self._beta

    def set_model(
        self, config: ModelConfig, state: Mapping[str, np.ndarray | torch.Tensor], recon_loss: str = "bernoulli",
        beta: float = 1.0,
    ) -> None:
        model = empty_model(config)  # no random init: the training thread owns the global RNG's sequence
        model.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
        shown = self.dataset
        self._model = model
        self._recon_loss = recon_loss
        self._beta = float(beta)
        self._version += 1
        self._check_pair()
        self.modelReplaced.emit()
        if self.dataset is not shown:
            self.datasetChanged.emit()

    def clear_model(self) -> None:
        """No model any more (File > New run): panels go back to their empty state."""
        shown = self.dataset
        self._model = None
        self._version += 1
        self._check_pair()
        self.modelReplaced.emit()
        if self.dataset is not shown:
            self.datasetChanged.emit()

    def update_weights(self, state: Mapping[str, np.ndarray]) -> None:
        if self._model is None:
            return
        with torch.no_grad():
            for name, tensor in self._model.state_dict().items():
                tensor.copy_(torch.from_numpy(np.asarray(state[name])))
        self._version += 1
        self.weightsUpdated.emit()

    def set_dataset(self, dataset: ImageDataset | None) -> None:
        self._dataset = dataset
        self._check_pair()
        self.datasetChanged.emit()

    def _check_pair(self) -> None:
        """Refuse a dataset whose images the model cannot take; the one place image shapes are compared."""
        model, dataset = self._model, self._dataset
        refusal = None
        if model is not None and dataset is not None and tuple(dataset.image_shape) != model.config.image_shape:
            refusal = (
                f"The dataset {dataset.name} has images of shape {tuple(dataset.image_shape)} but the model "
                f"expects {model.config.image_shape}: it does not fit this model."
            )
            if refusal != self._refusal:
                log.info("Model/dataset pair refused: %s", refusal)
        self._refusal = refusal
