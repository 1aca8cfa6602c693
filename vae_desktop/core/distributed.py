"""Running one `train` as several processes under torchrun: who writes, and the process group's lifetime.

torchrun (PyTorch's own launcher) starts the processes and sets RANK, WORLD_SIZE, LOCAL_RANK and the
rendezvous address in each one's environment; nothing here starts processes or opens sockets itself.
Every wait on a peer has a deadline (`PEER_TIMEOUT_S`), so a peer that never arrives, hangs or dies
ends every process with one line instead of a hang. `core/distributed_trainer.py` holds the training.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from vae_desktop.core.errors import ConfigError, DistributedError

# How long a process waits for a peer (the rendezvous, any collective) before it gives up. Short enough
# that a dead or stuck peer ends the run within a minute; every wait is for peers doing the same work in
# lockstep (rank 0's checkpoint save between epochs takes well under a second), so it never trips on
# honest work.
PEER_TIMEOUT_S = 30


@dataclass(frozen=True)
class Launch:
    """This process's place in a torchrun launch, from the environment torchrun sets."""

    rank: int
    world_size: int
    local_rank: int

    @property
    def label(self) -> str:
        return f"rank {self.rank} of {self.world_size}"


def launch_from_env(environ: Mapping[str, str] | None = None) -> Launch | None:
    """This process's launch, or None when no launcher started it (a plain `vae-desktop train`)."""
    env = os.environ if environ is None else environ
    if "RANK" not in env or "WORLD_SIZE" not in env:
        return None
    try:
        rank, world = int(env["RANK"]), int(env["WORLD_SIZE"])
        local = int(env.get("LOCAL_RANK", "0"))
    except ValueError:
        raise ConfigError(f"RANK={env['RANK']!r} / WORLD_SIZE={env['WORLD_SIZE']!r} are not whole numbers; "
                          "start distributed training with torchrun.") from None
    if world < 1 or not 0 <= rank < world:
        raise ConfigError(f"RANK={rank} does not fit WORLD_SIZE={world}; start distributed training with torchrun.")
    return Launch(rank, world, local)


def is_writer() -> bool:
    """Whether this process writes the run's files (checkpoint, metrics.csv, the run folder).

    The one predicate every writer asks: True for a plain run, and for rank 0 alone of a distributed
    one (before the process group is up too, from torchrun's RANK)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    launch = launch_from_env()
    return launch is None or launch.rank == 0


def process_label() -> str:
    """" (rank 1 of 2)" in a distributed run, for messages a non-zero rank prints; "" otherwise."""
    try:
        launch = launch_from_env()
    except ConfigError:
        return ""
    return "" if launch is None or launch.world_size == 1 else f" ({launch.label})"


def device_for(launch: Launch, device: torch.device) -> torch.device:
    """The device this process trains on: its own GPU (LOCAL_RANK) on CUDA, the CPU otherwise."""
    if device.type == "cuda":
        if launch.local_rank >= torch.cuda.device_count():
            raise ConfigError(f"Process {launch.label} has LOCAL_RANK {launch.local_rank} but this machine has "
                              f"{torch.cuda.device_count()} CUDA GPUs: start at most that many per machine.")
        return torch.device("cuda", launch.local_rank)
    if device.type != "cpu":
        raise ConfigError(f"Distributed training runs on CPU (gloo) or CUDA (nccl), not {device.type}; "
                          "pass --device cpu or --device cuda.")
    return device


def join(launch: Launch, device: torch.device) -> None:
    """Join the run's process group (nccl on CUDA, gloo on CPU), waiting at most PEER_TIMEOUT_S for peers."""
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    try:
        dist.init_process_group(backend, rank=launch.rank, world_size=launch.world_size,
                                timeout=timedelta(seconds=PEER_TIMEOUT_S))
    except (RuntimeError, ValueError) as exc:  # DistStoreError, DistNetworkError are RuntimeErrors
        raise DistributedError(
            f"Process {launch.label} could not join the run within {PEER_TIMEOUT_S} s "
            f"(MASTER_ADDR={os.environ.get('MASTER_ADDR', '?')}, MASTER_PORT={os.environ.get('MASTER_PORT', '?')}): "
            f"{brief(exc)}. Start every process of the run (torchrun on each machine, the same --nnodes and "
            "--rdzv-endpoint)."
        ) from None


def interrupt_on_sigterm() -> None:
    """Treat SIGTERM like Ctrl+C: torchrun sends it to every process when one fails or is interrupted,
    and `train` then stops the way Ctrl+C stops it (rank 0 saves the state it has) instead of vanishing."""

    def interrupt(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def leave() -> None:
    """Leave the process group if this process joined one; after a peer failure, without waiting on it."""
    if dist.is_available() and dist.is_initialized():
        # torchrun sends SIGTERM to every process once one has failed or been interrupted: from here on
        # this process is already on its way out, and is left to print its one line and exit.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            dist.destroy_process_group()
        except RuntimeError:
            pass  # the group is already broken (a peer died): nothing left to tidy


def peer_failure(exc: BaseException, what: str) -> DistributedError:
    """The one-line error for a collective that failed: a peer died, stopped or stopped answering."""
    label = process_label().strip(" ()") or "this process"
    return DistributedError(
        f"Training stopped ({label}): another process of the run stopped or stopped answering during {what} "
        f"({brief(exc)}). The last checkpoint rank 0 saved is intact; continue with --resume."
    )


def brief(exc: BaseException) -> str:
    """The first line of a torch error, without its C++ stack."""
    lines = str(exc).strip().splitlines()
    text = lines[0] if lines else type(exc).__name__
    return text[:300].rstrip(". ")
