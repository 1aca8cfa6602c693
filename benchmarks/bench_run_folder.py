"""Run folders: opening a run with 10^6 batch rows (target <= 2 s), the writer's cost per batch, and
what following an idle or a busy run costs per poll.

The folder is written by the real RunWriter (thinning off, so the file really holds --rows batch
rows, plus an epoch row every --steps-per-epoch steps with a 16-dimensional per-dimension KL), then
opened with open_run() from a cold start of the reader (the file is in the page cache, as for a run
that was just written or followed; a network folder adds its own transfer time).

    python -m benchmarks.bench_run_folder [--rows 1000000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks._common import report


def write_run(folder: Path, rows: int, steps_per_epoch: int) -> float:
    """Write the run; returns the writer's mean seconds per log_batch call."""
    from vae_desktop.core.config import ModelConfig, TrainConfig
    from vae_desktop.core.metrics import BatchMetrics, EpochMetrics
    from vae_desktop.core.runs.writer import RunWriter

    epochs = max(1, -(-rows // steps_per_epoch))
    writer = RunWriter(folder, model_config=ModelConfig(), train_config=TrainConfig(epochs=min(epochs, 100_000)),
                       dataset="fashion-mnist", steps_per_epoch=steps_per_epoch, max_batch_rows=rows + 1)
    spent = 0.0
    with writer:
        for g in range(1, rows + 1):
            epoch, step = (g - 1) // steps_per_epoch + 1, (g - 1) % steps_per_epoch + 1
            metrics = BatchMetrics(epoch, step, steps_per_epoch, g, 250.0 - 100.0 * g / rows, 12.5 + (g % 7) / 10,
                                   262.5, 4000.0 + g % 100)
            started = time.perf_counter()
            writer.log_batch(metrics)
            spent += time.perf_counter() - started
            if step == steps_per_epoch or g == rows:
                writer.log_epoch(EpochMetrics(epoch, 240.0, 12.0, 252.0, 241.0, 12.5, 253.5, 4000.0, 14.2,
                                              tuple(12.5 / 16 for _ in range(16))))
    return spent / rows


def time_open(folder: Path, repeats: int) -> tuple[list[float], list[float], int, int]:
    """(wall seconds, CPU seconds of this process, batch rows, epoch rows) of each open_run.

    CPU seconds are printed too because a shared machine stretches wall time; on an idle one the
    two agree (the open is single-threaded)."""
    from vae_desktop.core.runs.opening import open_run
    from vae_desktop.core.runs.source import LocalSource

    walls, cpus, batch_rows, epoch_rows = [], [], 0, 0
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        opened = open_run(LocalSource(folder))
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - started_cpu)
        batch_rows, epoch_rows = len(opened.history), len(opened.history.epochs)
    return walls, cpus, batch_rows, epoch_rows


def time_follow(folder: Path, polls: int, append_rows: int) -> tuple[float, float]:
    """(seconds per idle poll, seconds per poll that reads `append_rows` new rows)."""
    from vae_desktop.core.runs.follower import RunFollower
    from vae_desktop.core.runs.lines import format_batch_line
    from vae_desktop.core.runs.schema import BatchRow
    from vae_desktop.core.runs.source import LocalSource

    follower = RunFollower(LocalSource(folder))
    while follower.poll().more:
        pass
    started = time.perf_counter()
    for _ in range(polls):
        follower.poll()
    idle = (time.perf_counter() - started) / polls
    busy = []
    last = int(follower.tail.offset)
    with open(folder / "metrics.jsonl", "ab") as handle:
        for i in range(5):
            base = 10**8 + i * append_rows + last
            handle.write(b"".join(format_batch_line(BatchRow(base + k, 1, 1, 100.0, 1.0, 1.0, 1.0))
                                  for k in range(append_rows)))
            handle.flush()
            started = time.perf_counter()
            update = follower.poll()
            busy.append(time.perf_counter() - started)
            assert update.batch_rows == append_rows
    return idle, statistics.median(busy)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="batch rows in the run")
    parser.add_argument("--steps-per-epoch", type=int, default=469, help="Fashion-MNIST at batch size 128")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--polls", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vae-bench-run-") as tmp:
        folder = Path(tmp) / "run"
        per_batch = write_run(folder, args.rows, args.steps_per_epoch)
        size_mb = (folder / "metrics.jsonl").stat().st_size / 1e6
        times, cpus, batch_rows, epoch_rows = time_open(folder, args.repeats)
        idle, busy = time_follow(folder, args.polls, 1000)
    assert batch_rows == args.rows, (batch_rows, args.rows)
    results = {
        "batch_rows": batch_rows, "epoch_rows": epoch_rows, "metrics_jsonl_mb": round(size_mb, 1),
        "open_s_median": statistics.median(times), "open_s_all": times, "open_cpu_s_median": statistics.median(cpus),
        "target_open_s": 2.0,
        "writer_us_per_batch": per_batch * 1e6, "idle_poll_ms": idle * 1e3, "poll_1000_new_rows_ms": busy * 1e3,
    }
    report("run_folder", results, [
        (f"open_run with {batch_rows:,} batch rows ({size_mb:.0f} MB), median of {len(times)}",
         f"{statistics.median(times):.2f} s", "<= 2 s"),
        ("  the same, CPU time of the process", f"{statistics.median(cpus):.2f} s", ""),
        ("RunWriter.log_batch (format + one write call)", f"{per_batch * 1e6:.1f} us", ""),
        ("poll of an idle run (stat run.json, metrics.jsonl, checkpoint)", f"{idle * 1e3:.3f} ms", ""),
        ("poll that reads 1,000 new batch rows", f"{busy * 1e3:.2f} ms", ""),
    ])


if __name__ == "__main__":
    main()
