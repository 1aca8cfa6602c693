"""Soak: memory through many epochs of training with the whole window open (offscreen without a display).

    python -m benchmarks.bench_memory [--epochs 20] [--train-images 10000] [--plot-points 500]

The real MainWindow with its side panels trains the default model on the built-in shapes dataset,
as `run_gui` sets it up (allocator tuning, warm-up, frozen start-up objects). After every epoch it
samples resident memory (what a task manager shows), the live heap (glibc's bytes in use: the leak
signal, see benchmarks/process_memory.py), the thread count and the plot's kept rows; a 10 ms probe
timer measures how late the event loop answers while training.

The plot's bound is lowered to `--plot-points` (the app keeps 262,144 rows) so the run also goes
through the thinning that keeps an overnight run bounded.

Targets after the warm-up epochs (levels are medians of three epochs): resident memory grows < 30 MB
in all and its trend is < 1 MB per epoch; the live heap grows < 10 MB; the idle thread count after
the run equals the one before; the plot holds <= its bound.
Prints one JSON line, then a table of the samples and the verdicts.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import report
from benchmarks.machine import use_offscreen_without_display, wait, wait_until
from benchmarks.process_memory import live_heap_bytes, resident_bytes, thread_count

MB = 2**20
WARM_UP_EPOCHS = 3
TARGET_RSS_GROWTH_MB = 30.0
TARGET_RSS_SLOPE_MB_PER_EPOCH = 1.0
TARGET_HEAP_GROWTH_MB = 10.0


def slope_per_epoch(epochs: list[int], values_mb: list[float]) -> float:
    """Trend of the samples in MB per epoch: the median of all pairwise slopes (Theil-Sen). Resident
    memory swings by tens of MB within an epoch (the test pass allocates, the allocator keeps it), so a
    least-squares line would follow where in that swing the first and last samples fell."""
    x, y = np.asarray(epochs, float), np.asarray(values_mb, float)
    i, j = np.triu_indices(len(x), k=1)
    return float(np.median((y[j] - y[i]) / (x[j] - x[i]))) if len(i) else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--train-images", type=int, default=10_000)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--plot-points", type=int, default=500)
    parser.add_argument("--quick", action="store_true",
                        help="smoke test: 9 epochs of 600 images, a small model, plot bound 40 (numbers mean little)")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.train_images, args.plot_points = WARM_UP_EPOCHS + 6, 600, 40
    if args.epochs < WARM_UP_EPOCHS + 6:
        parser.error(f"--epochs must be at least {WARM_UP_EPOCHS + 6} (the first {WARM_UP_EPOCHS} are warm-up)")
    use_offscreen_without_display()
    from vae_desktop.core.allocator import tune_allocator

    tune_allocator()  # as run_gui does: freed memory is kept for reuse, as users run it

    from PySide6.QtCore import QSettings, Qt, QTimer

    from vae_desktop.core.config import ModelConfig
    from vae_desktop.core.datasets.shapes import load_shapes
    from vae_desktop.ui import loss_plots
    from vae_desktop.ui.app import build_main_window, freeze_startup_objects, warm_up_core
    from vae_desktop.ui.run_controller import default_training_threads

    loss_plots.MAX_TRACE_ROWS = args.plot_points  # before the window builds its plots
    dataset = load_shapes(num_train=args.train_images, num_test=200 if args.quick else 2000)
    settings_dir = tempfile.mkdtemp(prefix="vae-bench-memory-")
    threads = default_training_threads()
    window = build_main_window(settings=QSettings(f"{settings_dir}/settings.ini", QSettings.Format.IniFormat),
                               model_template=ModelConfig(base_width=8, hidden=64) if args.quick else ModelConfig(),
                               training_threads=threads)
    window.provide_dataset(dataset, "shapes")
    window.form.z_dim.setValue(16)
    window.form.batch_size.setValue(args.batch_size)
    window.form.epochs.setValue(args.epochs)
    window.resize(1500, 900)
    window.show()
    warm_up_core()
    freeze_startup_objects()
    wait(1.0)

    samples: list[dict[str, float]] = []
    started = time.perf_counter()

    def sample(metrics) -> None:
        heap = live_heap_bytes()
        samples.append({
            "epoch": metrics.epoch,
            "seconds": round(time.perf_counter() - started, 1),
            "rss_mb": round(resident_bytes() / MB, 1),
            "heap_mb": round(heap / MB, 1) if heap is not None else None,
            "threads": thread_count(),
            "plot_rows": len(window.plots.batch_data()["global_step"]),
            "steps": int(window.plots.batch_data()["global_step"][-1]),
        })
        row = samples[-1]
        print(f"  epoch {row['epoch']:>3}  {row['seconds']:>7.1f} s  RSS {row['rss_mb']:>8.1f} MB  "
              f"heap {row['heap_mb']} MB  threads {row['threads']}  plot rows {row['plot_rows']}", flush=True)

    lateness: list[float] = []
    probe = QTimer()
    probe.setTimerType(Qt.TimerType.PreciseTimer)
    probe.setInterval(10)
    last = [time.perf_counter()]

    late_at: list[float] = []

    def on_probe() -> None:
        now = time.perf_counter()
        lateness.append(max(0.0, (now - last[0] - 0.010) * 1000))
        late_at.append(now - started)
        last[0] = now

    probe.timeout.connect(on_probe)
    window.epochFinished.connect(sample)
    window.side_tabs.setCurrentIndex(0)  # the latent map is open and follows training
    wait(0.5 if args.quick else 2.0)
    threads_idle_before = thread_count()
    window.start_training()
    if not wait_until(lambda: window.state == "training", 120):
        raise SystemExit(f"training did not start: {window.banner.message()}")
    last[0] = time.perf_counter()
    probe.start()
    if not wait_until(lambda: window.state == "ready", 3600):
        raise SystemExit("training did not finish within an hour")
    probe.stop()
    wait(0.5 if args.quick else 2.0)  # the training thread and any panel work have ended
    threads_idle_after = thread_count()
    window.setWindowModified(False)  # a benchmark keeps nothing: close without asking to save
    window.close()

    after = [s for s in samples if s["epoch"] > WARM_UP_EPOCHS]
    last_sample = samples[-1]
    # Start and end levels are medians of three epochs: one sample may catch the end-of-epoch test pass.
    base = {key: _median(after[:3], key) for key in ("rss_mb", "heap_mb")}
    end = {key: _median(after[-3:], key) for key in ("rss_mb", "heap_mb")}
    rss_growth = end["rss_mb"] - base["rss_mb"]
    rss_peak_growth = max(s["rss_mb"] for s in after) - base["rss_mb"]
    rss_slope = slope_per_epoch([s["epoch"] for s in after], [s["rss_mb"] for s in after])
    heap_growth = end["heap_mb"] - base["heap_mb"] if base["heap_mb"] is not None else None
    threads_changed = threads_idle_after != threads_idle_before  # while training, panel workers come and go
    plot_bounded = max(s["plot_rows"] for s in samples) <= args.plot_points
    late = np.asarray(lateness) if lateness else np.zeros(1)
    verdicts = {
        "rss_growth_ok": rss_growth < TARGET_RSS_GROWTH_MB and rss_peak_growth < TARGET_RSS_GROWTH_MB,
        "rss_trend_ok": rss_slope < TARGET_RSS_SLOPE_MB_PER_EPOCH,
        "heap_ok": heap_growth is None or heap_growth < TARGET_HEAP_GROWTH_MB,
        "threads_ok": not threads_changed,
        "plot_bounded": plot_bounded,
    }
    results = {
        "quick": args.quick, "epochs": args.epochs, "train_images": args.train_images, "batch_size": args.batch_size,
        "steps": last_sample["steps"], "seconds": last_sample["seconds"], "warm_up_epochs": WARM_UP_EPOCHS,
        "plot_bound_rows": args.plot_points, "plot_rows_kept": last_sample["plot_rows"],
        "rss_mb_after_warm_up": base["rss_mb"], "rss_mb_end": end["rss_mb"],
        "rss_growth_mb": round(rss_growth, 1), "rss_peak_growth_mb": round(rss_peak_growth, 1),
        "rss_trend_mb_per_epoch": round(rss_slope, 3),
        "heap_growth_mb": None if heap_growth is None else round(heap_growth, 2),
        "threads_idle_before": threads_idle_before, "threads_idle_after": threads_idle_after,
        "threads_max_training": max(s["threads"] for s in samples), "gui_probe_p99_ms": round(float(np.percentile(late, 99)), 1),
        "gui_probe_max_ms": round(float(late.max()), 1),
        "gui_probe_max_at_s": round(late_at[int(np.argmax(late))], 1) if lateness else None,
        "gui_probe_over_100ms": int((late > 100).sum()), "torch_threads": threads,
        **verdicts, "meets_target": all(verdicts.values()), "samples": samples,
    }
    rows = [
        ("epochs (steps)", f"{args.epochs} ({last_sample['steps']:,})", "≥ 20 epochs"),
        ("RSS after warm-up", f"{base['rss_mb']:.1f} MB", f"epochs {WARM_UP_EPOCHS + 1}-{WARM_UP_EPOCHS + 3}, median"),
        ("RSS growth to end", f"{rss_growth:+.1f} MB", f"< {TARGET_RSS_GROWTH_MB:g} MB " + _ok(verdicts["rss_growth_ok"])),
        ("RSS trend", f"{rss_slope:+.3f} MB/ep", f"< {TARGET_RSS_SLOPE_MB_PER_EPOCH:g} MB/epoch " + _ok(verdicts["rss_trend_ok"])),
        ("live heap growth", "n/a" if heap_growth is None else f"{heap_growth:+.2f} MB",
         f"< {TARGET_HEAP_GROWTH_MB:g} MB " + _ok(verdicts["heap_ok"])),
        ("threads idle, before -> after", f"{threads_idle_before} -> {threads_idle_after}",
         "unchanged " + _ok(verdicts["threads_ok"])),
        ("plot rows kept", f"{last_sample['plot_rows']:,}", f"≤ {args.plot_points:,} " + _ok(plot_bounded)),
        ("GUI probe p99 / max", f"{results['gui_probe_p99_ms']} / {results['gui_probe_max_ms']} ms",
         "see bench_gui_latency"),
    ]
    report("memory_soak", results, rows)
    return 0


def _median(samples: list[dict[str, float]], key: str) -> float | None:
    values = [s[key] for s in samples if s[key] is not None]
    return float(np.median(values)) if values else None


def _ok(ok: bool) -> str:
    return "(met)" if ok else "(NOT met)"


if __name__ == "__main__":
    raise SystemExit(main())
