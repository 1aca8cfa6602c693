"""A real training-like writer process for the follow tests: python writer_child.py FOLDER [options].

Logs batches at a steady pace through RunWriter (epochs, checkpoints and all), printing "started"
once run.json exists and "epoch N" after each epoch, so a test can kill, stop or follow it.
"""

from __future__ import annotations

import argparse
import sys
import time

from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
from vae_desktop.core.runs.writer import RunWriter


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--step-s", type=float, default=0.01)
    parser.add_argument("--heartbeat-s", type=float, default=0.1)
    parser.add_argument("--hang-after-epoch", type=int, default=0, help="then sleep forever (a stuck run)")
    args = parser.parse_args()
    writer = RunWriter(args.folder, model_config=ModelConfig(z_dim=2), train_config=TrainConfig(epochs=args.epochs),
                       dataset="shapes", steps_per_epoch=args.steps, heartbeat_s=args.heartbeat_s)
    with writer:
        print("started", flush=True)
        for epoch in range(1, args.epochs + 1):
            for step in range(1, args.steps + 1):
                g = (epoch - 1) * args.steps + step
                writer.log_batch(BatchMetrics(epoch, step, args.steps, g, 200.0 - g, 3.0, 203.0 - g, 500.0))
                time.sleep(args.step_s)
            metrics = EpochMetrics(epoch, 150.0 - epoch, 4.0, 154.0 - epoch, 151.0 - epoch, 4.0, 155.0 - epoch,
                                   500.0, 0.5, (2.0, 2.0))
            writer.log_epoch(metrics)
            writer.save_checkpoint(f"weights {epoch}".encode(), epoch=metrics)
            print(f"epoch {epoch}", flush=True)
            if epoch == args.hang_after_epoch:
                time.sleep(3600)
    sys.exit(0)


if __name__ == "__main__":
    main()
