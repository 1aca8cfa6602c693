"""The experiments' flags, run as a user would: separate processes, real files, real exit codes."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.core.test_cli import image_folder, run_cli  # noqa: F401  (image_folder is a fixture)


def _rows(path: Path) -> list[dict]:
    with path.open() as handle:
        return list(csv.DictReader(handle))


def _train(folder: Path, out: Path, *extra: str):
    return run_cli("train", "--dataset", f"folder:{folder}", "--batch-size", "32", "--z-dim", "3", "--epochs", "2",
                   "--seed", "5", "--quiet", "--out", str(out), *extra)


def _one_line(result) -> str:
    """The one error line (a training run has said what it trains on before it failed)."""
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip() and not line.startswith("Training on ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_the_logstd_first_layout_gives_the_normal_layouts_metrics(image_folder, tmp_path):  # noqa: F811
    runs = {layout: _train(image_folder, tmp_path / layout, "--layout", layout)
            for layout in ("mean-first", "logstd-first")}
    assert all(run.returncode == 0 for run in runs.values()), [run.stderr for run in runs.values()]
    normal, swapped = (_rows(tmp_path / layout / "metrics.csv") for layout in ("mean-first", "logstd-first"))
    assert len(normal) == len(swapped) == 2
    for a, b in zip(normal, swapped, strict=True):
        for column in ("train_recon", "train_kl", "test_recon", "test_kl", "test_total"):
            assert float(b[column]) == pytest.approx(float(a[column]), abs=1e-3), column
        assert a["active_units"] == b["active_units"] and 0 <= int(a["active_units"]) <= 3


def test_a_raw_stddev_fails_at_a_named_step_in_one_line(image_folder, tmp_path):  # noqa: F811
    line = _one_line(_train(image_folder, tmp_path / "raw", "--stddev", "raw"))
    assert line.startswith("vae-desktop: error: Training stopped: the stddev became negative (σ = -")
    assert "at epoch 1, step 1." in line and "softplus" in line


def test_warmup_free_bits_and_softplus_train_and_are_kept_in_the_checkpoint(image_folder, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    done = _train(image_folder, out, "--stddev", "softplus", "--kl-warmup-epochs", "1", "--free-bits", "0.25",
                  "--beta", "2")
    assert done.returncode == 0, done.stderr
    from vae_desktop.core.checkpoint import load_checkpoint

    checkpoint = load_checkpoint(out / "checkpoints" / "latest.vaeckpt")
    assert checkpoint.model_config.stddev == "softplus"
    assert (checkpoint.train_config.kl_warmup_epochs, checkpoint.train_config.free_bits) == (1, 0.25)
    refused = run_cli("train", "--resume", str(out), "--stddev", "exp", "--epochs", "3", "--quiet",
                      "--dataset", f"folder:{image_folder}")
    assert "--stddev exp differs from the checkpoint's stddev softplus" in _one_line(refused)


@pytest.mark.parametrize("args, needle", [
    (["train", "--layout", "sideways", "--out", "{tmp}/o"], "argument --layout: invalid choice: 'sideways'"),
    (["train", "--free-bits", "-1", "--out", "{tmp}/o"], "Free bits (nats per dim) must be a number from 0 to 1000"),
    (["train", "--kl-warmup-epochs", "1.5", "--out", "{tmp}/o"], "KL warm-up epochs must be a whole number"),
    (["evaluate", "{tmp}/m.vaeckpt", "--importance-samples", "0"], "Importance samples (K) must be a whole number "
                                                                   "from 1 to 100,000 (got '0')"),
    (["evaluate", "{tmp}/m.vaeckpt", "--importance-samples", "-5"], "from 1 to 100,000 (got '-5')"),
    (["evaluate", "{tmp}/m.vaeckpt", "--importance-samples", "10000000"], "from 1 to 100,000 (got '10000000')"),
])
def test_bad_experiment_flags_are_one_line(tmp_path, args, needle):
    line = _one_line(run_cli(*(a.replace("{tmp}", str(tmp_path)) for a in args), timeout=120))
    assert needle in line


def test_evaluate_reports_the_importance_weighted_bound_next_to_the_elbo(image_folder, tmp_path):  # noqa: F811
    out = tmp_path / "run"
    assert _train(image_folder, out).returncode == 0
    checkpoint = str(out / "checkpoints" / "latest.vaeckpt")
    text = run_cli("evaluate", checkpoint, "--importance-samples", "20")
    assert text.returncode == 0, text.stderr
    assert "negative ELBO" in text.stdout and "importance-weighted bound with K = 20: -log p(x) <= " in text.stdout
    assert f"; {int(_rows(out / 'metrics.csv')[-1]['active_units'])} of 3 active units" in text.stdout
    as_json = run_cli("evaluate", checkpoint, "--importance-samples", "20", "--json")
    assert as_json.returncode == 0, as_json.stderr
    lines = as_json.stdout.strip().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert report["importance_samples"] == 20 and report["iw_seconds"] > 0
    assert report["negative_elbo"] == pytest.approx(report["recon"] + report["kl"])
    assert report["negative_iw_bound"] < report["negative_elbo"]  # tighter than the ELBO on these images
    last = _rows(out / "metrics.csv")[-1]
    assert report["negative_elbo"] == pytest.approx(float(last["test_total"]), abs=0.02)
    assert report["active_units"] == int(last["active_units"])
    plain = json.loads(run_cli("evaluate", checkpoint, "--json").stdout)
    assert "negative_iw_bound" not in plain and plain["negative_elbo"] == pytest.approx(report["negative_elbo"])
