"""The memory soak benchmark runs (smoke size) and reports every sample, its verdicts and the machine."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_memory_samples_every_epoch_and_keeps_the_plot_bounded():
    env = {**os.environ, "PYTHONPATH": str(REPO), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([sys.executable, "-m", "benchmarks.bench_memory", "--quick"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("{")))
    assert result["benchmark"] == "memory_soak" and result["machine"]
    assert [s["epoch"] for s in result["samples"]] == list(range(1, result["epochs"] + 1))
    assert result["steps"] == result["samples"][-1]["steps"] > result["plot_bound_rows"]  # the plot had to thin
    assert result["plot_bounded"] and result["plot_rows_kept"] <= result["plot_bound_rows"]
    assert all(s["rss_mb"] > 0 and s["threads"] > 0 for s in result["samples"])
    assert "RSS growth to end" in done.stdout  # and the human-readable table
