"""The app's Adam: fused where torch can, and the same updates as the textbook Adam."""

from __future__ import annotations

import torch

from vae_desktop.core.config import ModelConfig
from vae_desktop.core.model import VAE
from vae_desktop.core.optimizer import make_adam


def _train_steps(optimizer_factory, steps: int = 5) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    model = VAE(ModelConfig(z_dim=4, base_width=8, hidden=32))
    optimizer = optimizer_factory(model.parameters())
    x = torch.rand(16, 1, 28, 28)
    for _ in range(steps):
        out = model(x)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(out.logits, x) + out.posterior.mean.pow(2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def test_cpu_training_uses_the_fused_kernel() -> None:
    optimizer = make_adam([torch.nn.Parameter(torch.zeros(3))], 1e-3, "cpu")
    assert optimizer.defaults["fused"] is True
    assert optimizer.defaults["lr"] == 1e-3


def test_fused_updates_match_plain_adam() -> None:
    fused = _train_steps(lambda p: make_adam(p, 1e-3, "cpu"))
    plain = _train_steps(lambda p: torch.optim.Adam(p, lr=1e-3))
    for name, tensor in fused.items():
        torch.testing.assert_close(tensor, plain[name], rtol=1e-5, atol=1e-6, msg=name)


def test_devices_without_a_fused_kernel_get_plain_adam() -> None:
    optimizer = make_adam([torch.nn.Parameter(torch.zeros(3))], 1e-2, "meta")
    assert not optimizer.defaults.get("fused")
