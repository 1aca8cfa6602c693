"""Batch-row thinning: a run of 10^6 steps writes a metrics.jsonl well under 100 MB (computed, not run)."""

import numpy as np

from vae_desktop.core.metrics import EpochMetrics
from vae_desktop.core.runs.lines import format_batch_line, format_line
from vae_desktop.core.runs.schema import BatchRow, EpochRow
from vae_desktop.core.runs.thinning import DEFAULT_MAX_ROWS, keeps, kept_mask, stride_at


def test_every_step_is_kept_until_max_rows_then_the_stride_doubles():
    assert [stride_at(g, 4) for g in (1, 4, 5, 8, 9, 16, 17)] == [1, 1, 2, 2, 4, 4, 8]
    assert [g for g in range(1, 25) if keeps(g, 4)] == [1, 2, 3, 4, 6, 8, 12, 16, 24]


def test_vectorised_mask_matches_the_per_step_rule():
    steps = np.arange(1, 70_001)
    assert np.array_equal(kept_mask(steps, 1000), np.array([keeps(int(g), 1000) for g in steps]))


def test_a_million_step_run_stays_well_under_100_mb():
    steps = 10**6
    rows = int(kept_mask(np.arange(1, steps + 1), DEFAULT_MAX_ROWS).sum())
    # The longest batch line a real run can write: 7-digit steps, losses in the thousands, negative KL noise.
    worst = BatchRow(global_step=steps, epoch=99_999, step=99_999, recon=-12_345.123456, kl=-1_234.123456,
                     samples_per_s=123_456.7, time=9_999_999_999.999)
    batch_bytes = rows * len(format_batch_line(worst))
    # Epoch rows: the smallest epoch (one batch of 128 images of a 60,000-image set is 469 steps)
    # with the largest model (z = 256, every per-dimension KL at full precision).
    epochs = steps // 469 + 1
    kl = tuple(1.2345678901234567 for _ in range(256))
    epoch_line = format_line(EpochRow(EpochMetrics(epochs, *(1234.5678901234567,) * 8, kl), steps, 1.7e9).to_dict())
    total_mb = (batch_bytes + epochs * len(epoch_line)) / 1e6
    assert rows < 200_000
    assert total_mb < 50, total_mb  # the worst case (about 41 MB); typical lines are a third shorter


def test_ten_million_steps_still_stay_under_100_mb():
    rows = int(kept_mask(np.arange(1, 10**7 + 1), DEFAULT_MAX_ROWS).sum())
    assert rows * 180 / 1e6 < 100  # 180 bytes: longer than the worst line above
