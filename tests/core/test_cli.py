"""The headless CLI, run as a user would: a separate process, real files, real exit codes."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from vae_desktop.core.datasets.shapes import render_shapes
from vae_desktop.core.metrics import EPOCH_COLUMNS

REPO = Path(__file__).resolve().parents[2]


def run_cli(*args: str, timeout: float = 240, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run([sys.executable, "-m", "vae_desktop", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=cwd)


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory) -> Path:
    """A small folder dataset of real rendered shapes, two classes as subfolders."""
    root = tmp_path_factory.mktemp("imgs")
    images, labels = render_shapes(300, seed=2)
    for i, (img, label) in enumerate(zip(images[:, 0].numpy(), labels.tolist(), strict=False)):
        folder = root / ("round" if label in (1, 2) else "sharp")
        folder.mkdir(exist_ok=True)
        Image.fromarray(img).save(folder / f"{i}.png")
    return root


def _rows(path: Path) -> list[dict]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_train_resume_and_evaluate(image_folder, tmp_path):
    out = tmp_path / "run"
    common = ["--dataset", f"folder:{image_folder}", "--batch-size", "64", "--z-dim", "2", "--out", str(out)]
    first = run_cli("train", *common, "--epochs", "2", "--quiet")
    assert first.returncode == 0, first.stderr
    assert "Trained to epoch 2" in first.stdout and "negative ELBO" in first.stdout
    rows = _rows(out / "metrics.csv")
    assert list(rows[0]) == EPOCH_COLUMNS
    assert [r["epoch"] for r in rows] == ["1", "2"]
    for r in rows:
        assert float(r["test_total"]) == pytest.approx(float(r["test_recon"]) + float(r["test_kl"]), rel=1e-4)
    assert float(rows[1]["train_total"]) < float(rows[0]["train_total"])

    resumed = run_cli("train", "--resume", str(out), "--epochs", "3", "--quiet", "--dataset", f"folder:{image_folder}")
    assert resumed.returncode == 0, resumed.stderr
    assert [r["epoch"] for r in _rows(out / "metrics.csv")] == ["1", "2", "3"]
    assert _rows(out / "metrics.csv")[:2] == rows  # history carried over, not recomputed

    evaluated = run_cli("evaluate", str(out))
    assert evaluated.returncode == 0, evaluated.stderr
    assert "recon" in evaluated.stdout and "KL" in evaluated.stdout and "negative ELBO" in evaluated.stdout
    last = _rows(out / "metrics.csv")[-1]
    printed = float(evaluated.stdout.split("negative ELBO ")[1].split()[0])
    assert printed == pytest.approx(float(last["test_total"]), abs=0.02)


@pytest.mark.parametrize("args, needle", [
    (["train", "--dataset", "imagenet", "--out", "{tmp}/o"], "Unknown dataset"),
    (["train", "--dataset", "folder:{tmp}/missing", "--out", "{tmp}/o"], "does not exist"),
    (["train", "--z-dim", "0", "--out", "{tmp}/o"], "--z-dim: Latent dims (z) must be a whole number"),
    (["train", "--lr", "-1", "--out", "{tmp}/o"], "Learning rate must be a number greater than 0"),
    (["train", "--epochs", "ten", "--out", "{tmp}/o"], "Epochs must be a whole number from 1 to 100,000 (got 'ten')"),
    (["train", "--resume", "{tmp}/corrupt.vaeckpt", "--out", "{tmp}/o"], "corrupt.vaeckpt"),
    (["evaluate", "{tmp}/corrupt.vaeckpt"], "corrupt.vaeckpt"),
    (["evaluate", "{tmp}/absent.vaeckpt"], "does not exist"),
    (["train", "--dataset", "folder:{tmp}/empty", "--out", "{tmp}/o"], "No image files found"),
    (["train", "--lr", "nan", "--out", "{tmp}/o"], "finite number"),
    (["evaluate", "{tmp}/crafted.vaeckpt"], "could run code"),
])
def test_errors_are_one_clear_line_without_traceback(tmp_path, args, needle):
    import torch

    (tmp_path / "corrupt.vaeckpt").write_bytes(os.urandom(300))
    (tmp_path / "empty").mkdir()
    torch.save({"format": "vae-desktop-checkpoint", "x": _RunsCode(tmp_path / "code-ran")}, tmp_path / "crafted.vaeckpt")
    result = run_cli(*(a.replace("{tmp}", str(tmp_path)) for a in args), timeout=120)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert needle in lines[0] and "Traceback" not in result.stderr
    assert not (tmp_path / "code-ran").exists()


class _RunsCode:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _numbers(path: Path) -> list[dict]:
    """metrics.csv without its timings."""
    return [{k: v for k, v in row.items() if k not in ("seconds", "samples_per_s")} for row in _rows(path)]


def _train_small(folder: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    return run_cli("train", "--dataset", f"folder:{folder}", "--batch-size", "64", "--z-dim", "2", "--epochs", "1",
                   "--quiet", "--out", str(out), *extra)


def test_the_same_seed_gives_the_same_numbers(image_folder, tmp_path):
    runs = [_train_small(image_folder, tmp_path / name, "--seed", "3") for name in ("a", "b")]
    assert all(run.returncode == 0 for run in runs), [run.stderr for run in runs]
    assert _numbers(tmp_path / "a" / "metrics.csv") == _numbers(tmp_path / "b" / "metrics.csv")
    other = _train_small(image_folder, tmp_path / "c", "--seed", "4")
    assert other.returncode == 0, other.stderr
    assert _numbers(tmp_path / "c" / "metrics.csv") != _numbers(tmp_path / "a" / "metrics.csv")


def test_train_refuses_to_overwrite_a_run_unless_asked(image_folder, tmp_path):
    out = tmp_path / "run"
    assert _train_small(image_folder, out).returncode == 0
    checkpoint = out / "checkpoints" / "latest.vaeckpt"
    before = checkpoint.read_bytes()

    again = _train_small(image_folder, out, "--seed", "4")
    assert again.returncode != 0
    lines = [line for line in again.stderr.splitlines() if line.strip()]
    assert lines == [f"vae-desktop: error: {out} already holds a run: continue it with --resume {out}, "
                     "or pass --overwrite to replace it."]
    assert checkpoint.read_bytes() == before  # nothing was written

    replaced = _train_small(image_folder, out, "--seed", "4", "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    assert checkpoint.read_bytes() != before


# ---- hostile and clumsy input (issue 18) --------------------------------------------------------------

def one_error_line(result: subprocess.CompletedProcess) -> str:
    """The one line a failed command prints (and nothing else), with a non-zero exit and no traceback."""
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def small_folder(root: Path, count: int = 4) -> Path:
    from tests.helpers_hostile_files import save_grey

    for i in range(count):
        save_grey(root / f"{i}.png", 30 + 40 * i)
    return root


def train_ok(folder: Path, out: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    result = run_cli("train", "--dataset", f"folder:{folder}", "--out", str(out), "--epochs", "1", "--batch-size", "1",
                     "--z-dim", "2", "--base-width", "4", "--quiet", timeout=timeout)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "Warning" not in result.stderr, result.stderr
    assert (out / "checkpoints" / "latest.vaeckpt").is_file()
    return result


@pytest.fixture(scope="module")
def small_checkpoint(tmp_path_factory) -> Path:
    """A real (untrained) checkpoint of a 4-image folder, written by the core."""
    from vae_desktop.core.checkpoint import Checkpoint, save_checkpoint
    from vae_desktop.core.config import ModelConfig, TrainConfig
    from vae_desktop.core.datasets import load_dataset
    from vae_desktop.core.model import VAE
    from vae_desktop.core.trainer import Trainer

    root = tmp_path_factory.mktemp("ckpt")
    folder = small_folder(root / "images")
    dataset = load_dataset(f"folder:{folder}")
    trainer = Trainer(VAE(ModelConfig(z_dim=2, base_width=4, hidden=16)), dataset,
                      TrainConfig(epochs=1, batch_size=1, device="cpu"))
    return save_checkpoint(Checkpoint.from_trainer(trainer, dataset.name), root / "model.vaeckpt")


@pytest.mark.parametrize("device, needle", [
    ("quantum", "Unknown device 'quantum'"),
    ("meta", "Unknown device 'meta'"),
    ("cuda:abc", "Unknown device 'cuda:abc'"),
    ("", "argument --device: must not be empty"),
])
def test_evaluate_checks_the_device_like_train(small_checkpoint, device, needle):
    line = one_error_line(run_cli("evaluate", str(small_checkpoint), "--device", device, timeout=120))
    assert needle in line
    trained = one_error_line(run_cli("train", "--device", device, "--out", str(small_checkpoint.parent / "o"),
                                     timeout=120))
    assert needle in trained


@pytest.mark.parametrize("args, needle", [
    (["train", "--dataset", "", "--out", "o"], "argument --dataset: must not be empty"),
    (["train", "--dataset", "folder:", "--out", "o"], "folder: needs a folder after the colon"),
    (["train", "--dataset", "folder: ", "--out", "o"], "folder: needs a folder after the colon"),
    (["train", "--out", ""], "argument --out: must not be empty"),
    (["train", "--out", " "], "argument --out: must not be empty"),
    (["train", "--data-root", "", "--out", "o"], "argument --data-root: must not be empty"),
    (["train", "--resume", "", "--out", "o"], "argument --resume: must not be empty"),
    (["evaluate", ""], "argument checkpoint: must not be empty"),
    (["evaluate", "x.vaeckpt", "--dataset", ""], "argument --dataset: must not be empty"),
])
def test_empty_values_are_refused_not_taken_as_defaults_or_the_current_folder(tmp_path, args, needle):
    small_folder(tmp_path)  # images here: on main `folder:` trained on them, `--out ''` wrote here
    before = sorted(p.name for p in tmp_path.iterdir())
    line = one_error_line(run_cli(*args, "--epochs", "1", "--quiet", cwd=tmp_path, timeout=90)
                          if args[0] == "train" else run_cli(*args, cwd=tmp_path, timeout=90))
    assert needle in line
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing written into the current folder


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_pipe_named_png_in_a_subfolder_does_not_hang_train(tmp_path):
    from tests.helpers_hostile_files import make_fifo, release_fifo_readers

    folder = small_folder(tmp_path / "images" / "sub")
    pipe = make_fifo(folder / "deeper" / "pipe.png")
    try:
        result = train_ok(tmp_path / "images", tmp_path / "run", timeout=120)  # main hangs here forever
    finally:
        release_fifo_readers(pipe)
    assert "Note: skipped 1 entry that is not a regular file (a pipe, device, socket or broken link)." in result.stderr


def test_twelve_hundred_nested_subfolders_train(tmp_path):
    from tests.helpers_hostile_files import deep_folder, remove_deep_folder, save_grey

    folder = small_folder(tmp_path / "images")
    try:
        save_grey(deep_folder(folder / "nested", 1200) / "bottom.png", 200)
        result = train_ok(folder, tmp_path / "run")
    finally:
        remove_deep_folder(folder / "nested")
    assert "(4 train / 1 test images)" in result.stderr


def test_a_one_image_folder_is_one_clear_line(tmp_path):
    small_folder(tmp_path / "one", count=1)
    line = one_error_line(run_cli("train", "--dataset", f"folder:{tmp_path / 'one'}", "--out", str(tmp_path / "o"),
                                  "--quiet", timeout=120))
    assert line == (f"vae-desktop: error: Only 1 image in {tmp_path / 'one'} could be used; an image folder needs "
                    "at least 2: some to train on and at least one other to test with.")
    assert not (tmp_path / "o").exists()


def test_a_nan_tiff_is_skipped_with_a_note_and_no_warning_lines(tmp_path):
    from tests.helpers_hostile_files import nan_tiff

    folder = small_folder(tmp_path / "images")
    nan_tiff(folder / "nan.tiff")
    result = train_ok(folder, tmp_path / "run")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [
        f"Training on folder:{folder} (3 train / 1 test images) with CPU ({lines[0].split('CPU (')[1]}",
        "Note: skipped 1 file with invalid pixels (NaN or infinity).",
    ]


def _mnist_files(folder: Path, image_code: int = 0x08) -> None:
    import gzip
    import struct

    import numpy as np

    from vae_desktop.core.datasets.torchvision_sets import IDX_FILES

    folder.mkdir(parents=True)
    for key, stem in IDX_FILES.items():
        n = 20 if key.startswith("train") else 5
        array = np.zeros((n, 28, 28)) if key.endswith("images") else np.zeros(n)
        code = image_code if key.endswith("images") else 0x08
        dtype = {0x08: np.uint8, 0x0D: ">f4"}[code]
        data = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.astype(dtype).tobytes()
        (folder / f"{stem}.gz").write_bytes(gzip.compress(data))


def test_damaged_idx_files_are_one_line_naming_the_file(tmp_path):
    env = {"VAE_DESKTOP_DATA_DIR": str(tmp_path / "user-data")}
    _mnist_files(tmp_path / "corrupt")
    broken = tmp_path / "corrupt" / "t10k-images-idx3-ubyte.gz"
    data = bytearray(broken.read_bytes())
    data[10] ^= 0xFF  # the deflate stream's first block header: zlib.error
    broken.write_bytes(bytes(data))
    line = one_error_line(run_cli("train", "--dataset", "mnist", "--data-root", str(tmp_path / "corrupt"),
                                  "--out", str(tmp_path / "o"), timeout=120, env=env))
    assert str(broken) in line and "gzip data is corrupt" in line

    _mnist_files(tmp_path / "floats", image_code=0x0D)
    line = one_error_line(run_cli("train", "--dataset", "mnist", "--data-root", str(tmp_path / "floats"),
                                  "--out", str(tmp_path / "o"), timeout=120, env=env))
    assert str(tmp_path / "floats" / "train-images-idx3-ubyte.gz") in line and "float32" in line


def test_a_download_folder_that_cannot_be_made_is_one_line(tmp_path):
    (tmp_path / "a-file").write_text("in the way")
    env = {"VAE_DESKTOP_DATA_DIR": str(tmp_path / "user-data")}
    line = one_error_line(run_cli("train", "--dataset", "kmnist", "--data-root", str(tmp_path / "a-file" / "data"),
                                  "--out", str(tmp_path / "o"), timeout=120, env=env))
    assert line.startswith(f"vae-desktop: error: Cannot download kmnist into {tmp_path / 'a-file' / 'data'}: "
                           "Not a directory.")
