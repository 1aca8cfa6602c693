"""A background worker's own copy of the GUI's model, reloaded only when the weights' version changes.

Jobs that run off the GUI thread (the latent map, the inspector's gradients) must not read the GUI's
model while the GUI thread copies new weights into it; each worker keeps a private copy instead and
copies a numpy snapshot in only when a job carries a newer version than the one it holds.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from vae_desktop.core.config import ModelConfig
from vae_desktop.core.model import VAE, empty_model


class PrivateModel:
    def __init__(self) -> None:
        self._model: VAE | None = None
        self._version: int | None = None

    def get(self, config: ModelConfig, state: Mapping[str, np.ndarray], version: int) -> VAE:
        """The model for `config` holding `state` (the weights at mirror version `version`)."""
        if self._model is None or self._model.config != config:
            self._model = empty_model(config)
            self._version = None
        if self._version != version:
            with torch.no_grad():
                for name, tensor in self._model.state_dict().items():
                    tensor.copy_(torch.from_numpy(np.asarray(state[name])))
            self._version = version
        return self._model
