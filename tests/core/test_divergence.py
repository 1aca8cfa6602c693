import math

import pytest
import torch

from vae_desktop.core.config import TrainConfig
from vae_desktop.core.errors import TrainingDivergedError
from vae_desktop.core.trainer import Trainer


def test_a_huge_learning_rate_ends_in_a_clear_error_with_finite_weights(small_shapes, tiny_model):
    trainer = Trainer(tiny_model, small_shapes, TrainConfig(epochs=5, batch_size=100, lr=1e6, seed=0, device="cpu"))
    with pytest.raises(TrainingDivergedError, match="NaN|infinite") as info:
        for _ in trainer.run():
            pass
    assert "learning rate" in str(info.value)
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    assert math.isfinite(trainer.evaluate().negative_elbo)
