"""`vae-desktop train --nproc N`: the same `train`, started as N processes on this machine by torchrun.

No home-made process pool: this runs torchrun (PyTorch's launcher, through commands/torchrun.py,
which only shortens its failure report) as `--standalone --nproc_per_node N -m vae_desktop train …`
with the other arguments, waits for it, and hands back its exit status. torchrun runs in its own session
(its own process group) and this process passes it exactly one SIGINT on Ctrl+C (torchrun passes it on to its
processes, which save and stop); a second SIGINT reaching torchrun mid-shutdown would abort it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Sequence

from vae_desktop.core.errors import ConfigError

# After an interrupt, how long torchrun gets to stop its processes (they save and exit within a few
# seconds) before it is killed.
_STOP_GRACE_S = 60


def without_nproc(train_args: Sequence[str]) -> list[str]:
    """The `train` arguments minus `--nproc N` / `--nproc=N`, for the processes torchrun starts."""
    out: list[str] = []
    skip = False
    for arg in train_args:
        if skip:
            skip = False
        elif arg == "--nproc":
            skip = True
        elif not arg.startswith("--nproc="):
            out.append(arg)
    return out


def torchrun_command(nproc: int, train_args: Sequence[str]) -> list[str]:
    return [sys.executable, "-m", "vae_desktop.commands.torchrun", "--standalone", f"--nproc_per_node={nproc}",
            "-m", "vae_desktop", "train", *without_nproc(train_args)]


def launch_local(nproc: int, train_args: Sequence[str]) -> int:
    """Run `train` as `nproc` processes under torchrun on this machine; torchrun's exit status."""
    if "RANK" in os.environ and "WORLD_SIZE" in os.environ:
        raise ConfigError("--nproc starts torchrun itself; under torchrun (or srun), leave --nproc out.")
    env = dict(os.environ)
    # torchrun would set 1 thread per process anyway (and warn about it); said here so it is not a surprise.
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    proc = subprocess.Popen(torchrun_command(nproc, train_args), env=env, start_new_session=True)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=_STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return 130
