"""What verifying a checkpoint on load costs: the default model and a ~100 MB checkpoint.

For each size it saves a real checkpoint (weights and Adam moments after one step) and measures,
as medians over --repeats loads from the page cache:
  torch_load_ms   torch.load(weights_only=True) alone, from the path (what loading cost before checks)
  load_ms         load_checkpoint: SHA-256 of every byte, torch.load, validation of every field
  digest_ms       the SHA-256 pass alone
  validate_ms     load_ms - torch_load_ms - digest_ms: field checks, building the model, the Adam trial load
  crc_ms          the zip CRC32 pass a file saved before checksums gets instead of the SHA-256

Usage: python -m benchmarks.bench_checkpoint_load [--repeats N] [--quick]. Prints one JSON line, then a table.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import torch

from benchmarks._common import report
from vae_desktop.core.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from vae_desktop.core.checkpoint_integrity import digest_matches, first_bad_record, read_digest
from vae_desktop.core.config import ModelConfig, TrainConfig
from vae_desktop.core.model import VAE
from vae_desktop.core.optimizer import make_adam

SIZES = {"default": ModelConfig(), "100MB": ModelConfig(base_width=64, hidden=640)}


def _checkpoint(config: ModelConfig) -> Checkpoint:
    torch.manual_seed(0)
    model = VAE(config)
    optimizer = make_adam(model.parameters(), 1e-3, "cpu")
    x = torch.rand(8, *config.image_shape)
    model(x).logits.mean().backward()
    optimizer.step()
    return Checkpoint(config, TrainConfig(), "shapes", model.state_dict(), optimizer_state=optimizer.state_dict(),
                      rng_state=torch.get_rng_state())


def _median_ms(action, repeats: int) -> float:
    action()  # warm-up: the file is in the page cache from here on
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _digest(path: Path) -> None:
    with path.open("rb") as handle:
        size = path.stat().st_size
        assert digest_matches(handle, size, read_digest(handle, size))


def _crc(path: Path) -> None:
    with path.open("rb") as handle:
        assert first_bad_record(handle) is None


def _torch_load(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.load(path, map_location="cpu", weights_only=True)


def measure(config: ModelConfig, folder: Path, repeats: int) -> dict[str, float]:
    path = save_checkpoint(_checkpoint(config), folder / "bench.vaeckpt")
    result = {
        "file_mb": path.stat().st_size / 1e6,
        "torch_load_ms": _median_ms(lambda: _torch_load(path), repeats),
        "load_ms": _median_ms(lambda: load_checkpoint(path), repeats),
        "digest_ms": _median_ms(lambda: _digest(path), repeats),
        "crc_ms": _median_ms(lambda: _crc(path), repeats),
    }
    result["validate_ms"] = result["load_ms"] - result["torch_load_ms"] - result["digest_ms"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="the default model only (smoke test)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    sizes = {"default": SIZES["default"]} if args.quick else SIZES
    results, rows = {}, []
    with tempfile.TemporaryDirectory() as folder:
        for name, config in sizes.items():
            r = measure(config, Path(folder), args.repeats)
            results[name] = r
            rows += [(f"{name} ({r['file_mb']:.0f} MB) {key}", f"{r[key]:.1f}", "") for key in
                     ("torch_load_ms", "load_ms", "digest_ms", "validate_ms", "crc_ms")]
    report("checkpoint_load", results, rows)


if __name__ == "__main__":
    main()
