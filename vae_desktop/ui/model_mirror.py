"""The GUI's own CPU copy of the VAE, and the dataset it explores.

Panels (latent map, inspector, reconstruction strip) decode and encode with this copy only; they
never touch the weights the optimizer is updating. The training worker sends plain numpy copies of
the weights a few times per second (`update_weights`); a new run or an opened checkpoint replaces
the model (`set_model`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from PySide6.QtCore import QObject, Signal

from vae_desktop.core.config import ModelConfig
from vae_desktop.core.datasets.base import ImageDataset
from vae_desktop.core.model import VAE, empty_model


def state_to_numpy(model: torch.nn.Module) -> dict[str, np.ndarray]:
    """Copy a model's weights into numpy arrays: safe to send through a Qt signal to another thread."""
    return {k: v.detach().to("cpu", copy=True).numpy() for k, v in model.state_dict().items()}


class ModelMirror(QObject):
    """Owns the decoder/encoder copy the GUI uses. Lives in the GUI thread."""

    modelReplaced = Signal()  # a different model (new run, opened checkpoint); architecture may differ
    weightsUpdated = Signal()  # same architecture, fresher weights from training
    datasetChanged = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model: VAE | None = None
        self._dataset: ImageDataset | None = None
        self._recon_loss = "bernoulli"
        self._version = 0

    @property
    def model(self) -> VAE | None:
        """The CPU model in eval mode, or None before any run or checkpoint."""
        return self._model

    @property
    def dataset(self) -> ImageDataset | None:
        return self._dataset

    @property
    def version(self) -> int:
        """Increases on every weight change; caches (e.g. an encoded scatter) compare against it."""
        return self._version

    @property
    def recon_loss(self) -> str:
        """The run's reconstruction loss (`TrainConfig.recon_loss`), for panels that report it."""
        return self._recon_loss

    def set_model(
        self, config: ModelConfig, state: Mapping[str, np.ndarray | torch.Tensor], recon_loss: str = "bernoulli"
    ) -> None:
        model = empty_model(config)  # no random init: the training thread owns the global RNG's sequence
        model.load_state_dict({k: torch.as_tensor(v) for k, v in state.items()})
        self._model = model
        self._recon_loss = recon_loss
        self._version += 1
        self.modelReplaced.emit()

    def clear_model(self) -> None:
        """No model any more (File > New run): panels go back to their empty state."""
        self._model = None
        self._version += 1
        self.modelReplaced.emit()

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
        self.datasetChanged.emit()
