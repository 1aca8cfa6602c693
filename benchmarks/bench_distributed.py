"""Distributed training on one machine: N processes × 1 thread (torchrun, DistributedDataParallel, gloo)
against 1 process × N threads, the same `vae-desktop train` on the same data, batch and seed.

Images/s is the training rate `train` records in metrics.csv (images over the epoch's step time,
without the test pass), taken from the last epoch (the first includes warm-up); wall seconds are the
whole command, start-up and test passes included.

    python -m benchmarks.bench_distributed [--procs 2] [--epochs 2] [--batch-size 128] [--dataset shapes]
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._common import report

REPO = Path(__file__).resolve().parents[1]


def _run(command: list[str], threads: int, cwd: Path) -> tuple[float, float]:
    """(images/s of the last epoch, wall seconds) of one `train` command writing into cwd/run."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": str(threads)}
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, cwd=cwd, timeout=1800, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    with (cwd / "run" / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    return float(rows[-1]["samples_per_s"]), wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--dataset", default="shapes")
    args = parser.parse_args()
    train = ["-m", "vae_desktop", "train", "--dataset", args.dataset, "--epochs", str(args.epochs),
             "--batch-size", str(args.batch_size), "--device", "cpu", "--quiet", "--out", "run"]
    n = args.procs
    with tempfile.TemporaryDirectory() as one_dir, tempfile.TemporaryDirectory() as many_dir:
        one_rate, one_wall = _run([sys.executable, *train], n, Path(one_dir))
        many_rate, many_wall = _run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                                     f"--nproc_per_node={n}", *train], 1, Path(many_dir))
    ratio = many_rate / one_rate
    report("distributed", {
        "procs": n, "dataset": args.dataset, "batch_size": args.batch_size, "epochs": args.epochs,
        "one_process_images_per_s": round(one_rate, 1), "processes_images_per_s": round(many_rate, 1),
        "ratio": round(ratio, 3), "one_process_wall_s": round(one_wall, 1), "processes_wall_s": round(many_wall, 1),
    }, [
        (f"1 process × {n} threads, images/s", f"{one_rate:,.0f}", ""),
        (f"{n} processes × 1 thread, images/s", f"{many_rate:,.0f}", ""),
        ("ratio (processes / threads)", f"{ratio:.3f}", "measured, no target"),
        ("wall seconds (threads / processes)", f"{one_wall:.1f} / {many_wall:.1f}", ""),
    ])


if __name__ == "__main__":
    main()
