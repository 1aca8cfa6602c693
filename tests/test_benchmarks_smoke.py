"""Every benchmark still runs (tiny sizes) and prints its one JSON line: benchmarks must not rot."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Optional data some benchmarks need. Tests see no user data folder (conftest), so Debian's package is
# the only place it can come from; CI installs it (.ci/run), a fresh clone need not have it.
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
NEEDS_DATA = {"bench_quality": (DEBIAN_FASHION, "Debian's dataset-fashion-mnist is not installed")}
# Measured on each Qt platform there is: offscreen always, xcb where Xvfb (or an X display) is (benchmarks/platforms.py).
GUI_BENCHMARKS = {"bench_gui_latency", "bench_training_throughput", "bench_latent", "bench_startup"}

SMOKE_ARGS = {
    "bench_quality": ["--quick"],
    "bench_plot_scale": ["--quick"],
    "bench_inspector": ["--repeats", "1"],
    "bench_training_throughput": ["--rounds", "1", "--steps", "3"],
    "bench_gui_latency": ["--seconds", "2", "--idle-seconds", "0.5"],
    "bench_latent": ["--moves", "12", "--repeats", "1"],
    "bench_startup": ["--runs", "1"],
    "bench_run_folder": ["--rows", "2000", "--repeats", "1", "--polls", "5"],
    "bench_checkpoint_load": ["--quick", "--repeats", "1"],
    "bench_autosave": ["--rounds", "1", "--train-images", "512", "--test-images", "100"],
    "bench_likelihood": ["--quick"],
    "bench_folder_cache": ["--quick"],
    "bench_distributed": ["--epochs", "1"],
    "bench_follow": ["--lines", "4", "--checkpoints", "1", "--idle-seconds", "1"],
    "bench_compare": ["--rows", "2000", "--repeats", "1"],
}


def test_every_benchmark_has_smoke_arguments():
    scripts = {p.stem for p in (REPO / "benchmarks").glob("bench_*.py")}
    assert scripts - {"bench_bundle_startup", "bench_memory"} <= set(SMOKE_ARGS)  # those two have their own tests


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SMOKE_ARGS))
def test_benchmark_runs_and_reports(name):
    if name in NEEDS_DATA and not NEEDS_DATA[name][0].is_dir():
        pytest.skip(f"{name} needs Fashion-MNIST: {NEEDS_DATA[name][1]}")
    result = _run(name, {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"})
    if name in GUI_BENCHMARKS:
        expected = {"offscreen", "xcb"} if _x_available() else {"offscreen"}
        assert set(result["platforms"]) == expected, result.get("skipped_platforms")


@pytest.mark.slow
def test_a_gui_benchmark_without_xvfb_or_display_measures_offscreen_and_says_why_not_xcb(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DISPLAY", "WAYLAND_DISPLAY"}}
    env.update({"PYTHONPATH": str(REPO), "PATH": str(tmp_path)})  # an empty PATH: no Xvfb to find
    result = _run("bench_startup", env)
    assert set(result["platforms"]) == {"offscreen"}
    assert result["skipped_platforms"] == {"xcb": "no DISPLAY and Xvfb is not installed"}


def _x_available() -> bool:
    from benchmarks.platforms import xcb_unavailable_reason

    return xcb_unavailable_reason() is None


def _run(name: str, env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, "-m", f"benchmarks.{name}", *SMOKE_ARGS[name]], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, done.stdout
    result = json.loads(lines[0])
    assert result.get("benchmark") and result.get("machine")
    return result
