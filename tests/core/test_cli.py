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


def run_cli(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "vae_desktop", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


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

    resumed = run_cli("train", "--resume", str(out / "model.vaeckpt"), "--epochs", "3", "--out", str(out), "--quiet",
                      "--dataset", f"folder:{image_folder}")
    assert resumed.returncode == 0, resumed.stderr
    assert [r["epoch"] for r in _rows(out / "metrics.csv")] == ["1", "2", "3"]
    assert _rows(out / "metrics.csv")[:2] == rows  # history carried over, not recomputed

    evaluated = run_cli("evaluate", str(out / "model.vaeckpt"))
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

    def __reduce__(self):  # noqa: ANN204
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
    checkpoint = out / "model.vaeckpt"
    before = checkpoint.read_bytes()

    again = _train_small(image_folder, out, "--seed", "4")
    assert again.returncode != 0
    lines = [line for line in again.stderr.splitlines() if line.strip()]
    assert lines == [f"vae-desktop: error: {checkpoint} already holds a run: continue it with --resume {checkpoint}, "
                     "or pass --overwrite to replace it."]
    assert checkpoint.read_bytes() == before  # nothing was written

    replaced = _train_small(image_folder, out, "--seed", "4", "--overwrite")
    assert replaced.returncode == 0, replaced.stderr
    assert checkpoint.read_bytes() != before
