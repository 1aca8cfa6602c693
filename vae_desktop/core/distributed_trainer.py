"""The trainer as one process of a DistributedDataParallel run: the same run as one process, split.

Every process builds the same epoch permutation (same seed) and takes a contiguous share of each
global batch: rank r of W trains rows [r*n//W, (r+1)*n//W) of a batch of n. Every process draws the
reparameterisation noise of the *whole* global batch from identically seeded random states and keeps
its rows, so each image gets the noise one process would give it, and the random states (stored in
checkpoints) stay those of one process. Gradients are summed weighted by each share's size (a DDP
communication hook), which is the gradient of the global batch's mean loss even when the last batch
does not split evenly. The logged batch numbers, the epoch sums and the test pass (sharded, each image
counted once) are all-reduced, so every process sees the global numbers; only rounding differs from
one process (float sums in another order).
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from vae_desktop.core.config import TrainConfig
from vae_desktop.core.datasets.base import ImageDataset, to_float
from vae_desktop.core.device import pick_device
from vae_desktop.core.distributed import Launch, device_for, interrupt_on_sigterm, join, launch_from_env, peer_failure
from vae_desktop.core.errors import ConfigError
from vae_desktop.core.evaluation import Evaluation, evaluation_from_sums, evaluation_sums
from vae_desktop.core.losses import LossTerms
from vae_desktop.core.model import VAE, VAEOutput
from vae_desktop.core.trainer import Trainer


class _GlobalNoiseForward(nn.Module):
    """The VAE's forward pass on this process's rows, with the noise drawn for the whole global batch.

    Exactly VAE.forward (`rsample` is loc + eps * scale with eps from the global random state) when the
    rows are the whole batch. DDP wraps this module; the VAE itself stays plain, so checkpoints hold its
    state without `module.` prefixes."""

    def __init__(self, vae: VAE) -> None:
        super().__init__()
        self.vae = vae

    def forward(self, x: torch.Tensor, rows: slice, batch: int) -> VAEOutput:
        posterior = self.vae.posterior(x)
        eps = torch.randn((batch, self.vae.z_dim), dtype=posterior.loc.dtype, device=posterior.loc.device)[rows]
        z = posterior.loc + eps * posterior.scale
        logits = self.vae.decode_logits(z)
        return VAEOutput(torch.sigmoid(logits), posterior, z, logits)


@dataclass
class _Share:
    """This process's share of the step in progress: its rows of the global batch, and their weight."""

    rows: slice = field(default_factory=lambda: slice(0, 0))
    batch: int = 0  # images in the global batch

    @property
    def weight(self) -> float:
        return (self.rows.stop - self.rows.start) / max(self.batch, 1)


def _weighted_sum_hook(share: _Share, bucket: dist.GradBucket) -> torch.futures.Future[torch.Tensor]:
    """All-reduce each gradient as the sum of the processes' gradients weighted by their share of the
    batch: the gradient of the global batch's mean loss (DDP's default averages, right only for equal shares)."""
    tensor = bucket.buffer().mul_(share.weight)
    future = dist.all_reduce(tensor, async_op=True).get_future()

    def value(fut: torch.futures.Future[Any]) -> torch.Tensor:
        return fut.value()[0]

    return future.then(value)


# DDP checks the hook's annotations as objects; this module's are strings (`from __future__ import annotations`).
_weighted_sum_hook.__annotations__ = typing.get_type_hints(_weighted_sum_hook)


def check_split(num_train: int, batch_size: int, world_size: int) -> None:
    """Refuse a batch that leaves some process no image (it would have no loss to give a gradient for)."""
    last = num_train % batch_size or batch_size
    if min(batch_size, last) < world_size:
        raise ConfigError(
            f"--batch-size {batch_size} is the global batch, split over {world_size} processes; with "
            f"{num_train} training images the last batch has {last}, so some process would get none. "
            f"Choose a batch size whose every batch has at least {world_size} images."
        )


class DistributedTrainer(Trainer):
    """A Trainer for one process of a torchrun launch, after `core.distributed.join`."""

    def __init__(self, model: VAE, dataset: ImageDataset, config: TrainConfig, *, launch: Launch,
                 **kwargs: Any) -> None:
        check_split(dataset.num_train, config.batch_size, launch.world_size)
        super().__init__(model, dataset, config, **kwargs)
        self.launch = launch
        self._share = _Share()
        try:  # DDP broadcasts rank 0's weights: a collective, like every wait below
            self._ddp = DistributedDataParallel(
                _GlobalNoiseForward(self.model),
                device_ids=[self.device.index] if self.device.type == "cuda" else None,
            )
        except RuntimeError as exc:
            raise peer_failure(exc, "the start") from None
        self._ddp.register_comm_hook(self._share, _weighted_sum_hook)

    # ---- the hooks Trainer calls -----------------------------------------------------------
    def _batch(self, order: torch.Tensor, step: int) -> torch.Tensor:
        size = self.config.batch_size
        batch = order[step * size : (step + 1) * size]
        n, rank, world = len(batch), self.launch.rank, self.launch.world_size
        # In place: the comm hook holds this very object.
        self._share.rows, self._share.batch = slice(rank * n // world, (rank + 1) * n // world), n
        return to_float(self._train_images[batch[self._share.rows]])

    def _forward(self, x: torch.Tensor) -> VAEOutput:
        try:
            out: VAEOutput = self._ddp(x, self._share.rows, self._share.batch)
        except RuntimeError as exc:
            raise peer_failure(exc, "a training step") from None
        return out

    def _batch_means(self, terms: LossTerms) -> tuple[float, float]:
        """The global batch's means: each process's sums, all-reduced (a NaN anywhere is a NaN everywhere,
        so every process rolls back and stops at the same step)."""
        n = self._share.rows.stop - self._share.rows.start
        sums = torch.stack([terms.recon.detach(), terms.kl.detach()]).double() * n
        self._all_reduce(sums, "a training step")
        recon, kl = (sums / self._share.batch).tolist()
        return recon, kl

    def _step_images(self, x: torch.Tensor) -> int:
        return self._share.batch

    def _train_step(self, x: torch.Tensor, epoch: int, step: int) -> tuple[float, float]:
        try:
            return super()._train_step(x, epoch, step)
        except RuntimeError as exc:  # the gradients' all-reduce runs inside backward()
            raise peer_failure(exc, "a training step") from None

    def evaluate(self, images: torch.Tensor | None = None, stoppable: bool = False) -> Evaluation | None:
        """The test pass, sharded over the processes and summed: each image counted once, no padding."""
        images = self._test_images if images is None else images
        part = (self.launch.rank, self.launch.world_size)
        sums = evaluation_sums(self.model, images, self.config.recon_loss, self.config.seed, None, part)
        assert sums is not None  # no stop event: a stop on one process alone would desert the others
        sums = sums.to(self._reduce_device)
        self._all_reduce(sums, "the test pass")
        return evaluation_from_sums(sums.cpu(), len(images))

    # ---- helpers ---------------------------------------------------------------------------
    @property
    def _reduce_device(self) -> torch.device:
        return self.device if self.device.type == "cuda" else torch.device("cpu")  # nccl reduces on the GPU

    def _all_reduce(self, tensor: torch.Tensor, what: str) -> None:
        try:
            dist.all_reduce(tensor)
        except RuntimeError as exc:
            raise peer_failure(exc, what) from None


def trainer_factory(config: TrainConfig) -> Callable[..., Trainer]:
    """How `train` builds its trainer: a plain Trainer, or under torchrun this process's
    DistributedTrainer, once it has joined the run's process group."""
    launch = launch_from_env()
    if launch is None:
        return Trainer
    device = device_for(launch, pick_device(config.device))
    join(launch, device)
    interrupt_on_sigterm()
    return partial(DistributedTrainer, launch=launch, device=device)
