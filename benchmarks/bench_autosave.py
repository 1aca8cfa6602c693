"""What recording a run costs: Trainer throughput with the RunRecorder on (run folder, autosave) vs off.

    python -m benchmarks.bench_autosave [--rounds 6] [--train-images 6400] [--batch-size 128]

Two Trainers of the default model (ModelConfig()) on the built-in shapes dataset, same seed, same
batch size, same torch thread count, in one process. They train whole epochs in turn: off, on, off,
on, ... so changes in machine load hit both alike. One epoch per side is a warm-up first. A timed
epoch is everything a real one does: its steps, its test pass and, for the recorder, every batch
row, the epoch row, metrics.csv, run.json and the checkpoint saves (latest and best), plus the
heartbeat thread beating meanwhile. The ratio is the median of the per-round ratios (on / off, in
images per second over whole epochs). On a busy machine that ratio is noisy (other processes slow
one epoch and not the next), so the share of each recorded epoch's wall time spent inside
recorder.record is reported as well: the direct cost, whatever the load.

This measures the one recording path every trainer uses (core/runs/recorder.py: the CLI, the
window's training worker, rank 0 of a distributed run). Target: on / off >= 0.99 (autosave costs
at most 1% of throughput). Prints one JSON line, then a table, then the machine.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import report

TARGET = 0.99


def _epoch_rate(trainer, steps, recorder) -> tuple[float, float]:
    """Images per second over the trainer's next whole epoch (recording it when `recorder` is given),
    and the share of the epoch's wall time spent inside recorder.record."""
    from vae_desktop.core.metrics import EpochMetrics

    started = time.perf_counter()
    images = 0
    recording = 0.0
    for metrics in steps:
        if recorder is not None:
            before = time.perf_counter()
            recorder.record(metrics)
            recording += time.perf_counter() - before
        if isinstance(metrics, EpochMetrics):
            break
        images += trainer.config.batch_size
    seconds = time.perf_counter() - started
    return images / seconds, recording / seconds


def run(args: argparse.Namespace) -> int:
    import torch

    from vae_desktop.core.config import ModelConfig, TrainConfig
    from vae_desktop.core.datasets.shapes import load_shapes
    from vae_desktop.core.model import new_model
    from vae_desktop.core.runs.recorder import RunRecorder
    from vae_desktop.core.trainer import Trainer

    threads = max(1, torch.get_num_threads())
    torch.set_num_threads(threads)
    dataset = load_shapes(num_train=args.train_images, num_test=args.test_images)
    model_config = ModelConfig()
    config = TrainConfig(epochs=args.rounds + 1, batch_size=args.batch_size, seed=0, device="cpu")
    off = Trainer(new_model(model_config, 0), dataset, config)
    on = Trainer(new_model(model_config, 0), dataset, config)
    with tempfile.TemporaryDirectory(prefix="bench-autosave-") as folder:
        recorder = RunRecorder(Path(folder) / "run", on, dataset.name, kind="benchmark").start()
        off_steps, on_steps = off.run(), on.run()
        _epoch_rate(off, off_steps, None)  # warm-up epochs, not timed
        _epoch_rate(on, on_steps, recorder)
        off_rates, on_rates, shares = [], [], []
        for _ in range(args.rounds):
            off_rates.append(_epoch_rate(off, off_steps, None)[0])
            rate, share = _epoch_rate(on, on_steps, recorder)
            on_rates.append(rate)
            shares.append(share)
        recorder.finish()
        log_bytes = (Path(folder) / "run" / "metrics.jsonl").stat().st_size
    ratio = statistics.median(o / f for o, f in zip(on_rates, off_rates, strict=True))
    results = {
        "recorder_on_images_per_s": round(statistics.median(on_rates), 1),
        "recorder_off_images_per_s": round(statistics.median(off_rates), 1),
        "ratio": round(ratio, 4),
        "cost_percent": round(100 * (1 - ratio), 2),
        "recording_share_percent": round(100 * statistics.median(shares), 3),
        "target_ratio": TARGET,
        "meets_target": ratio >= TARGET,
        "rounds": args.rounds,
        "on_rounds": [round(r, 1) for r in on_rates],
        "off_rounds": [round(r, 1) for r in off_rates],
        "steps_per_epoch": on.steps_per_epoch,
        "batch_size": args.batch_size,
        "metrics_jsonl_bytes": log_bytes,
        "torch_threads": threads,
        "model": model_config.to_dict(),
    }
    report("autosave", results, [
        ("recorder off (images/s, median)", f"{results['recorder_off_images_per_s']:.1f}", ""),
        ("recorder on (images/s, median)", f"{results['recorder_on_images_per_s']:.1f}", ""),
        ("on / off (median of rounds)", f"{ratio:.4f}", f">= {TARGET} ({'meets' if ratio >= TARGET else 'BELOW'})"),
        ("cost (1 - on / off)", f"{results['cost_percent']:.2f} %", "<= 1 %"),
        ("time inside recorder.record", f"{results['recording_share_percent']:.3f} %", "<= 1 % (load-independent)"),
    ])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--train-images", type=int, default=6400, help="one epoch = this many images")
    parser.add_argument("--test-images", type=int, default=1000)
    parser.add_argument("--batch-size", type=int, default=128)
    return run(parser.parse_args())


if __name__ == "__main__":
    raise SystemExit(main())
