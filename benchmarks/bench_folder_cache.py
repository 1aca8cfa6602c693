"""A 64×64 colour image folder: the first start (decode + cache) against later starts, training speed, RSS.

Generates --images PNG files (smooth random blobs, so they compress like photos rather than noise)
into a temporary folder, then starts fresh processes as `vae-desktop train` would load the folder:
  first_start_s    the load with an empty cache: list, decode every file, write the cache
  later_start_s    the same load again (median of --starts): read the cache (from the page cache,
                   as a restart soon after finds it; a cold disk adds its read time)
  train_images_s   images/s of the default model at 64×64 colour (3 stages), batch 128, --steps steps,
                   in one more start from the cache (all the cores torch uses by default)
  rss_mb_*         peak resident memory (ru_maxrss) of the first start, the later ones, the training one
  cache_mb         the cache file's size

Usage: python -m benchmarks.bench_folder_cache [--images N] [--steps N] [--starts N] [--quick].
Prints one JSON line, then a table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._common import report

REPO = Path(__file__).resolve().parents[1]
SIZE = 64

_CHILD = """
import json, logging, resource, sys, time
import torch
logging.basicConfig(level=logging.INFO, format="%(message)s")  # the cache says on stderr what it did
t0 = time.perf_counter()
from vae_desktop.core.datasets import load_dataset
dataset = load_dataset("folder:" + sys.argv[1], image_size=int(sys.argv[2]))
seconds = time.perf_counter() - t0
steps, images_s = int(sys.argv[3]), None
if steps:
    from vae_desktop.core.config import ModelConfig, TrainConfig
    from vae_desktop.core.metrics import BatchMetrics
    from vae_desktop.core.model import new_model
    from vae_desktop.core.trainer import Trainer
    c, h, w = dataset.image_shape
    trainer = Trainer(new_model(ModelConfig(channels=c, height=h, width=w), 0), dataset,
                      TrainConfig(batch_size=min(128, dataset.num_train), device="cpu", epochs=1000))
    done, start = 0, None
    for metrics in trainer.run():
        if isinstance(metrics, BatchMetrics):
            done += 1
            if done == 2:
                start = time.perf_counter()  # the first steps warm up the allocator and kernels
            if done == steps + 2:
                break
    images_s = steps * trainer.config.batch_size / (time.perf_counter() - start)
print(json.dumps({"seconds": seconds, "images": dataset.num_train + dataset.num_test,
                  "shape": list(dataset.image_shape), "images_s": images_s,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_folder(root: Path, count: int, seed: int = 0) -> None:
    """`count` 64×64 RGB PNGs of a few soft coloured blobs each, in ten class folders."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE].astype(np.float32)
    for i in range(count):
        image = np.zeros((SIZE, SIZE, 3), np.float32)
        for _ in range(3):
            cy, cx, radius = rng.uniform(0, SIZE, 2).tolist() + [rng.uniform(6, 20)]
            blob = np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * radius**2))
            image += blob[..., None] * rng.uniform(0, 255, 3)
        folder = root / f"class{i % 10}"
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.clip(image, 0, 255).astype(np.uint8)).save(folder / f"{i:06d}.png")


def start(folder: Path, cache: Path, steps: int = 0) -> dict:
    env = {**os.environ, "PYTHONPATH": str(REPO), "VAE_DESKTOP_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", _CHILD, str(folder), str(SIZE), str(steps)], env=env,
                          capture_output=True, text=True, timeout=1200, check=True)
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "log": done.stderr}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--steps", type=int, default=30, help="training steps to time (after 2 warm-up steps)")
    parser.add_argument("--starts", type=int, default=3, help="later starts to take the median of")
    parser.add_argument("--quick", action="store_true", help="300 images, 3 steps, 1 later start (smoke test)")
    args = parser.parse_args()
    if args.quick:
        args.images, args.steps, args.starts = 300, 3, 1

    with tempfile.TemporaryDirectory(prefix="bench-folder-cache-") as tmp:
        folder, cache = Path(tmp) / "images", Path(tmp) / "cache"
        t0 = time.perf_counter()
        make_folder(folder, args.images)
        generate_s = time.perf_counter() - t0
        first = start(folder, cache)
        assert "saved to the cache" in first["log"], first["log"]
        later = [start(folder, cache) for _ in range(args.starts)]
        trained = start(folder, cache, steps=args.steps)
        assert all("read from the cache" in run["log"] for run in [*later, trained])
        cache_mb = sum(p.stat().st_size for p in cache.rglob("*.pixels")) / 2**20

    later_s = statistics.median(run["seconds"] for run in later)
    results = {
        "images": first["images"], "shape": first["shape"], "generate_s": round(generate_s, 2),
        "first_start_s": round(first["seconds"], 2), "later_start_s": round(later_s, 2),
        "speedup": round(first["seconds"] / later_s, 1), "decode_images_s": round(first["images"] / first["seconds"]),
        "train_images_s": round(trained["images_s"], 1), "rss_mb_first": round(first["rss_mb"]),
        "rss_mb_later": round(max(run["rss_mb"] for run in later)), "rss_mb_training": round(trained["rss_mb"]),
        "cache_mb": round(cache_mb, 1),
    }
    report("folder_cache", results, [
        ("first start (decode + cache)", f"{first['seconds']:.2f} s", f"{results['decode_images_s']} images/s"),
        ("later start (cache)", f"{later_s:.2f} s", f"{results['speedup']}× faster"),
        ("training, default model 64×64", f"{results['train_images_s']} img/s", "batch 128"),
        ("peak RSS first / later / training",
         f"{results['rss_mb_first']} / {results['rss_mb_later']} / {results['rss_mb_training']} MB",
         f"cache {results['cache_mb']} MB"),
    ])


if __name__ == "__main__":
    main()
