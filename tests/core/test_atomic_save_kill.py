"""Killing the process in the middle of a checkpoint save leaves the previous checkpoint loadable."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from vae_desktop.core.atomic import stale_temps
from vae_desktop.core.checkpoint import load_checkpoint
from vae_desktop.core.run_lock import RunLock

REPO = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent("""
    import sys, torch
    from vae_desktop.core.checkpoint import Checkpoint, save_checkpoint
    from vae_desktop.core.config import ModelConfig, TrainConfig
    from vae_desktop.core.model import VAE
    config = ModelConfig(z_dim=8, base_width=64, hidden=1024)  # ~20 MB of weights: saves take a while
    model = VAE(config)
    n = 0
    while True:
        with torch.no_grad():
            for p in model.parameters():
                p.fill_(float(n))
        ckpt = Checkpoint(config, TrainConfig(seed=n), "shapes", model.state_dict())
        save_checkpoint(ckpt, sys.argv[1])
        print(n, flush=True)
        n += 1
""")


def test_kill_during_save_keeps_the_previous_checkpoint(tmp_path):
    target = tmp_path / "model.vaeckpt"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for attempt in range(4):
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True, env=env)
        first = child.stdout.readline()  # one complete save exists
        assert first.strip().isdigit()
        time.sleep(0.05 + 0.07 * attempt)  # land somewhere inside a later save
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        loaded = load_checkpoint(target)
        value = float(next(iter(loaded.model_state.values())).flatten()[0])
        assert loaded.train_config.seed == int(value)  # weights and metadata come from the same save
        assert loaded.notes == ()  # and it passed its checksum


def test_temp_files_a_kill_mid_save_leaves_are_removed_by_the_next_owner(tmp_path):
    target = tmp_path / "model.vaeckpt"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for _ in range(20):  # each kill lands mid-save at a different moment; most leave a temp file
        child = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True, env=env)
        assert child.stdout.readline().strip().isdigit()
        time.sleep(0.03)
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        if stale_temps(target):
            break
    left = stale_temps(target)
    assert left, "no kill landed inside a save"
    lock = RunLock(target)
    assert lock.acquire() == left
    assert stale_temps(target) == [] and load_checkpoint(target).notes == ()
    lock.release()
